//! Retry schedules (presets and explicit lists), jitter that never fires early, and
//! `Retry-After` parsing with a documented clamp. STUB: owned by the sign/retry helper.

use std::time::{Duration, SystemTime};

/// The longest `Retry-After` cakemock honours; a larger value is clamped to this.
pub const RETRY_AFTER_MAX: Duration = Duration::from_secs(600);

/// Delays before each retry: `none`, `fast`, `cakemail`, `svix`, `standard`, or a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    delays: Vec<Duration>,
}

impl RetryPolicy {
    /// No retries.
    pub fn none() -> Self {
        RetryPolicy { delays: Vec::new() }
    }

    /// The delays before retry 1, 2, ...
    pub fn delays(&self) -> &[Duration] {
        &self.delays
    }

    /// The delay before retry number `retry` (1-based), or `None` when retries are used up.
    pub fn delay_before(&self, retry: u32) -> Option<Duration> {
        let i = usize::try_from(retry).ok()?.checked_sub(1)?;
        self.delays.get(i).copied()
    }
}

impl std::str::FromStr for RetryPolicy {
    type Err = crate::InputError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let _ = s;
        unimplemented!()
    }
}

/// `base` plus 0-10% jitter drawn from `unit` (a uniform number in [0, 1)); never less than `base`.
pub fn with_jitter(base: Duration, unit: f64) -> Duration {
    let _ = unit;
    base
}

/// A `Retry-After` header value (delta seconds or an HTTP date) as a wait from `now`,
/// clamped to [`RETRY_AFTER_MAX`]; `None` when it does not parse.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let _ = (value, now);
    None
}
