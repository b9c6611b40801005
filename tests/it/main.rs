mod payload; // generated bodies: fixtures, JavaScript round trip, determinism, --set
