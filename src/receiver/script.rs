//! Response scripts (`--respond`): `200`, `503x2,200`, `429:retry-after=2`,
//! `delay=300ms`, `reset`. STUB: owned by the receiver helper.

/// What to answer, per delivery.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Script {}

impl std::str::FromStr for Script {
    type Err = crate::InputError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let _ = s;
        Ok(Script {})
    }
}
