mod sign; // signature known-answer vectors, and the sign / verify commands
