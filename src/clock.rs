//! Durations as users type them (`500ms`, `5s`, `2m`, `1h30m`), and `--speed`: how
//! scenario time and retry delays map onto real time.

use std::str::FromStr;
use std::time::Duration;

use crate::InputError;

/// Parses a duration such as `0s`, `250ms`, `5s`, `1.5s`, `2m`, `1h30m`, `2d`.
/// A bare number is an error (the unit is never guessed); so is a negative value.
pub fn parse_duration(s: &str) -> Result<Duration, InputError> {
    let t = s.trim();
    let bad = |why: &str| {
        InputError::new(format!(
            "invalid duration {s:?}: {why}; use a number with a unit: ms, s, m, h or d (e.g. 500ms, 5s, 1h30m)"
        ))
    };
    if t.is_empty() {
        return Err(bad("it is empty"));
    }
    if t.starts_with('-') {
        return Err(bad("a duration cannot be negative"));
    }
    let mut total = 0f64;
    let mut rest = t;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if num_len == 0 {
            return Err(bad("expected a number"));
        }
        let value: f64 = rest[..num_len]
            .parse()
            .map_err(|_| bad("the number does not parse"))?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit = rest[..unit_len].trim();
        rest = &rest[unit_len..];
        let secs = match unit {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" | "sec" => 1.0,
            "m" | "min" => 60.0,
            "h" => 3600.0,
            "d" => 86400.0,
            "" => return Err(bad("the unit is missing")),
            _ => return Err(bad(&format!("unknown unit {unit:?}"))),
        };
        total += value * secs;
    }
    if !total.is_finite() || total > 1e12 {
        return Err(bad("it is too large"));
    }
    Ok(Duration::from_secs_f64(total))
}

/// Formats a duration compactly for humans (`120ms`, `1.5s`, `2m`, `1h30m`).
pub fn format_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        if !d.as_nanos().is_multiple_of(1_000_000) && ms < 10 {
            return format!("{:.2}ms", d.as_secs_f64() * 1e3);
        }
        return format!("{ms}ms");
    }
    let secs = d.as_secs_f64();
    if secs < 60.0 {
        let s = format!("{secs:.3}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        return format!("{s}s");
    }
    let total = d.as_secs();
    let (h, m, s) = (total / 3600, (total % 3600) / 60, total % 60);
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if s > 0 {
        out.push_str(&format!("{s}s"));
    }
    out
}

/// How fast scenario time runs against real time (`--speed`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Speed {
    /// Scenario time runs this many times faster than real time (1 = real time).
    Factor(f64),
    /// Scenario waits are skipped; retry delays run at a thousandth.
    Max,
}

impl Default for Speed {
    fn default() -> Self {
        Speed::Factor(1.0)
    }
}

impl Speed {
    /// The real time to wait for a scenario wait of `d`.
    pub fn wait(self, d: Duration) -> Duration {
        match self {
            Speed::Factor(f) => d.div_f64(f),
            Speed::Max => Duration::ZERO,
        }
    }

    /// The real time to wait for a retry delay of `d` (scaled like waits; `max` runs
    /// them at a thousandth so retry order and spacing survive).
    pub fn retry(self, d: Duration) -> Duration {
        match self {
            Speed::Factor(f) => d.div_f64(f),
            Speed::Max => d / 1000,
        }
    }
}

impl FromStr for Speed {
    type Err = InputError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        if t.eq_ignore_ascii_case("max") {
            return Ok(Speed::Max);
        }
        let t = t.strip_suffix('x').unwrap_or(t);
        match t.parse::<f64>() {
            Ok(f) if f.is_finite() && f > 0.0 => Ok(Speed::Factor(f)),
            _ => Err(InputError::new(format!(
                "invalid speed {s:?}: use a positive number (1 = real time, 60 = an hour a minute) or `max`"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("5s").unwrap(), Duration::from_secs(5));
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("0s").unwrap(), Duration::ZERO);
    }

    #[test]
    fn bad_durations_say_what_is_valid() {
        for bad in ["", "5", "-1s", "5x", "abc", "1.2.3s"] {
            let e = parse_duration(bad).unwrap_err().to_string();
            assert!(e.contains("ms, s, m, h or d"), "{bad}: {e}");
        }
        assert!(
            parse_duration("-1s")
                .unwrap_err()
                .to_string()
                .contains("negative")
        );
    }

    #[test]
    fn durations_format_compactly() {
        assert_eq!(format_duration(Duration::from_millis(120)), "120ms");
        assert_eq!(format_duration(Duration::from_millis(1500)), "1.5s");
        assert_eq!(format_duration(Duration::from_secs(5400)), "1h30m");
    }

    #[test]
    fn speed_scales_waits_and_retries() {
        let s: Speed = "60".parse().unwrap();
        assert_eq!(s.wait(Duration::from_secs(60)), Duration::from_secs(1));
        assert_eq!(s.retry(Duration::from_secs(120)), Duration::from_secs(2));
        let m: Speed = "max".parse().unwrap();
        assert_eq!(m.wait(Duration::from_secs(3600)), Duration::ZERO);
        assert_eq!(m.retry(Duration::from_secs(5)), Duration::from_millis(5));
        assert!("0".parse::<Speed>().is_err());
        assert!("fast".parse::<Speed>().is_err());
    }
}
