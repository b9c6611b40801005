//! Exit codes (a documented contract) and the error type for bad user input.
//!
//! Receiver failures are data (see `deliver::Outcome`), never errors. Tool failures
//! are `anyhow` errors; an [`InputError`] anywhere in the chain means exit code 2.

use std::fmt;

/// The process exit code: 0 all met, 1 an expectation failed, 2 usage or input error,
/// 3 internal or environment error, 130 interrupted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Ok,
    ExpectationFailed,
    Input,
    Internal,
    Interrupted,
}

impl Exit {
    pub fn code(self) -> u8 {
        match self {
            Exit::Ok => 0,
            Exit::ExpectationFailed => 1,
            Exit::Input => 2,
            Exit::Internal => 3,
            Exit::Interrupted => 130,
        }
    }

    /// The exit code of a delivery run: 130 when interrupted, else 0 or 1 by its expectations.
    pub fn of_run(interrupted: bool, passed: bool) -> Exit {
        match (interrupted, passed) {
            (true, _) => Exit::Interrupted,
            (false, true) => Exit::Ok,
            (false, false) => Exit::ExpectationFailed,
        }
    }

    /// Maps a tool error to its exit code: input errors are 2, everything else 3.
    pub fn from_error(err: &anyhow::Error) -> Exit {
        if err.chain().any(|c| c.is::<InputError>()) {
            Exit::Input
        } else {
            Exit::Internal
        }
    }
}

impl From<Exit> for std::process::ExitCode {
    fn from(e: Exit) -> Self {
        std::process::ExitCode::from(e.code())
    }
}

/// Bad input from the user: a flag value, a file, an event name. The message says
/// where the problem is and what would be valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError(pub String);

impl InputError {
    pub fn new(msg: impl Into<String>) -> Self {
        InputError(msg.into())
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InputError {}

/// The closest candidate to `input` among `candidates`, if one is close enough to be
/// a likely typo (used for every "did you mean").
pub fn did_you_mean<'a>(
    input: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let input_l = input.to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(&input_l, &c.to_ascii_lowercase()), c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_errors_anywhere_in_the_chain_exit_2() {
        let e = anyhow::Error::new(InputError::new("bad")).context("while parsing --retry");
        assert_eq!(Exit::from_error(&e), Exit::Input);
        let e = anyhow::anyhow!("disk full");
        assert_eq!(Exit::from_error(&e), Exit::Internal);
    }

    #[test]
    fn an_interrupted_run_exits_130_whatever_its_expectations() {
        assert_eq!(Exit::of_run(true, true), Exit::Interrupted);
        assert_eq!(Exit::of_run(true, false).code(), 130);
        assert_eq!(Exit::of_run(false, true).code(), 0);
        assert_eq!(Exit::of_run(false, false).code(), 1);
    }

    #[test]
    fn did_you_mean_finds_typos_only() {
        let names = ["email.opened", "email.sent", "email.clicked"];
        assert_eq!(did_you_mean("email.opend", names), Some("email.opened"));
        assert_eq!(did_you_mean("zzz", names), None);
    }
}
