//! Response scripts (`--respond`): what the receiver answers, in order, per delivery.
//! `200`, `503x2,200`, `429:retry-after=2`, `delay=300ms`, `reset`. The text is parsed
//! once into a [`Script`]; [`Positions`] counts how far each delivery has got in it.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use crate::InputError;
use crate::clock::{format_duration, parse_duration};
use crate::error::did_you_mean;

/// The grammar, quoted in every parse error and in `cakemock listen --help`.
pub const GRAMMAR: &str = "ITEM[,ITEM...] where ITEM is STATUS[xN][:retry-after=SECS|HTTP-date][:delay=DUR], \
     delay=DUR (200 after DUR) or reset[xN][:delay=DUR]; the last item repeats forever \
     (e.g. 503x2:retry-after=1,200)";

/// What to answer, per delivery: comma-separated items consumed in order, the last one
/// repeating forever.
///
/// Positions count per delivery, keyed by the `X-Cakemail-Delivery` header (else
/// `webhook-id`): with `503x2,200` every event gets 503, 503, then 200 on its third
/// attempt, however deliveries interleave. Requests carrying neither header share one
/// global counter. Deliveries rejected for their signature (401) or body (400, 413)
/// do not advance the script: it models the application behind a correct receiver.
/// `reset` closes the whole connection (over HTTP/2, every stream on it).
#[derive(Debug, Clone, PartialEq)]
pub struct Script {
    items: Vec<Item>,
}

/// One scripted answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub action: Action,
    /// Wait this long before answering (or resetting).
    pub delay: Duration,
}

/// How a scripted answer ends.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Answer with this status, and a `Retry-After` header when given (seconds or an
    /// HTTP-date, verbatim).
    Status {
        code: u16,
        retry_after: Option<String>,
    },
    /// Close the connection with a TCP RST instead of answering.
    Reset,
}

#[derive(Debug, Clone, PartialEq)]
struct Item {
    reply: Reply,
    times: u32,
}

impl Default for Script {
    /// `200`, forever.
    fn default() -> Self {
        Script {
            items: vec![Item {
                reply: Reply {
                    action: Action::Status {
                        code: 200,
                        retry_after: None,
                    },
                    delay: Duration::ZERO,
                },
                times: 1,
            }],
        }
    }
}

impl Script {
    /// The reply at 0-based position `n` of one delivery's sequence.
    pub fn reply_at(&self, n: u64) -> &Reply {
        let mut n = n;
        for item in &self.items {
            if n < u64::from(item.times) {
                return &item.reply;
            }
            n -= u64::from(item.times);
        }
        // The last item repeats forever; a script always has at least one item.
        &self.items[self.items.len() - 1].reply
    }

    /// True when every position gets the same reply (no counting needed).
    pub fn is_constant(&self) -> bool {
        self.items.len() == 1
    }
}

impl FromStr for Script {
    type Err = InputError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.trim().is_empty() {
            return Err(InputError::new(format!(
                "the response script is empty; use {GRAMMAR}"
            )));
        }
        let mut items = Vec::new();
        let mut rest = s.trim();
        loop {
            let (item, after) = parse_item(rest).map_err(|why| {
                let shown = rest.split(',').next().unwrap_or(rest);
                InputError::new(format!(
                    "invalid response script item {} {shown:?} in {s:?}: {why}; use {GRAMMAR}",
                    items.len() + 1
                ))
            })?;
            items.push(item);
            // parse_item stops at a comma or the end.
            match after.strip_prefix(',') {
                None => break,
                Some(r) if r.trim().is_empty() => {
                    return Err(InputError::new(format!(
                        "the response script {s:?} ends with a comma; use {GRAMMAR}"
                    )));
                }
                Some(r) => rest = r.trim_start(),
            }
        }
        Ok(Script { items })
    }
}

/// Parses one item from the start of `s`; returns it and the text after it (at a `,`
/// or the end).
fn parse_item(s: &str) -> Result<(Item, &str), String> {
    let head_len = s.find([':', ',']).unwrap_or(s.len());
    let head = s[..head_len].trim();
    let mut rest = &s[head_len..];
    if head.is_empty() {
        return Err("it is empty".into());
    }
    let mut delay = None;
    let mut retry_after = None;
    let (what, times) = if let Some(d) = head.strip_prefix("delay=") {
        // `delay=DUR` alone is a 200 after DUR.
        delay = Some(parse_duration(d).map_err(|e| e.to_string())?);
        ("200", 1)
    } else {
        split_times(head)?
    };
    while let Some(r) = rest.strip_prefix(':') {
        let eq = r
            .find('=')
            .ok_or_else(|| format!("option {:?} has no =VALUE", cut(r)))?;
        let name = r[..eq].trim();
        let value_start = &r[eq + 1..];
        let value_len = option_value_len(name, value_start);
        let value = value_start[..value_len].trim();
        rest = &value_start[value_len..];
        match name {
            "delay" if delay.is_none() => {
                delay = Some(parse_duration(value).map_err(|e| e.to_string())?)
            }
            "retry-after" if retry_after.is_none() => retry_after = Some(retry_after_value(value)?),
            "delay" | "retry-after" => return Err(format!("option {name} is given twice")),
            _ => {
                let hint = did_you_mean(name, ["retry-after", "delay"])
                    .map(|m| format!(" (did you mean {m}?)"))
                    .unwrap_or_default();
                return Err(format!(
                    "unknown option {name:?}{hint}; options are retry-after and delay"
                ));
            }
        }
    }
    if !rest.is_empty() && !rest.starts_with(',') {
        return Err(format!("unexpected {:?} after the item", cut(rest)));
    }
    let action = if what.eq_ignore_ascii_case("reset") {
        if retry_after.is_some() {
            return Err("reset sends no answer, so it takes no retry-after".into());
        }
        Action::Reset
    } else {
        Action::Status {
            code: status(what)?,
            retry_after,
        }
    };
    let reply = Reply {
        action,
        delay: delay.unwrap_or(Duration::ZERO),
    };
    Ok((Item { reply, times }, rest))
}

/// Splits `503x2` into (`503`, 2); without `xN` the count is 1.
fn split_times(head: &str) -> Result<(&str, u32), String> {
    let Some(x) = head.rfind(['x', 'X']) else {
        return Ok((head, 1));
    };
    let (what, n) = (&head[..x], &head[x + 1..]);
    match n.parse::<u32>() {
        Ok(0) => Err(format!("{head:?} repeats zero times; use x1 or more")),
        Ok(n) => Ok((what, n)),
        Err(_) => Err(format!(
            "{n:?} after x is not a repeat count (a whole number from 1)"
        )),
    }
}

/// An HTTP-date (IMF-fixdate, 29 characters) contains `,` and `:`, so it is taken
/// whole rather than cut at the next separator.
fn option_value_len(name: &str, value: &str) -> usize {
    let cut_at = value.find([':', ',']).unwrap_or(value.len());
    if name == "retry-after" && value.starts_with(|c: char| c.is_ascii_alphabetic()) {
        let date_len = value.char_indices().nth(29).map_or(value.len(), |(i, _)| i);
        if httpdate::parse_http_date(&value[..date_len]).is_ok() {
            return date_len;
        }
    }
    cut_at
}

fn retry_after_value(v: &str) -> Result<String, String> {
    if (!v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) && v.len() <= 10)
        || httpdate::parse_http_date(v).is_ok()
    {
        Ok(v.to_string())
    } else {
        Err(format!(
            "retry-after={v:?} is neither whole seconds (e.g. 2) nor an HTTP-date \
             (e.g. Wed, 21 Oct 2015 07:28:00 GMT)"
        ))
    }
}

fn status(s: &str) -> Result<u16, String> {
    match s.parse::<u16>() {
        Ok(code) if (200..=599).contains(&code) => Ok(code),
        Ok(code) => Err(format!(
            "status {code} is out of range; use 200-599 (1xx are not final answers)"
        )),
        Err(_) => {
            let hint = did_you_mean(s, ["reset", "delay"])
                .map(|m| format!(" (did you mean {m}?)"))
                .unwrap_or_default();
            Err(format!(
                "{s:?} is not a status code, delay=DUR or reset{hint}"
            ))
        }
    }
}

fn cut(s: &str) -> &str {
    s.split([':', ',']).next().unwrap_or(s)
}

impl fmt::Display for Script {
    /// The canonical text of the script, e.g. `503x2:retry-after=1,200`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, item) in self.items.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            match &item.reply.action {
                Action::Status { code, .. } => write!(f, "{code}")?,
                Action::Reset => f.write_str("reset")?,
            }
            if item.times > 1 {
                write!(f, "x{}", item.times)?;
            }
            if let Action::Status {
                retry_after: Some(r),
                ..
            } = &item.reply.action
            {
                write!(f, ":retry-after={r}")?;
            }
            if !item.reply.delay.is_zero() {
                write!(f, ":delay={}", format_duration(item.reply.delay))?;
            }
        }
        Ok(())
    }
}

/// How far each delivery has got in the script. Memory is bounded: ids live in two
/// generations of [`Positions::GENERATION`] entries, so only a delivery idle for
/// that many newer ones can start over.
#[derive(Debug, Default)]
pub struct Positions {
    current: HashMap<String, u64>,
    previous: HashMap<String, u64>,
    global: u64,
}

impl Positions {
    pub const GENERATION: usize = 100_000;

    /// The 0-based position for the next request of delivery `key` (`None`: the global
    /// counter), advancing it.
    pub fn next(&mut self, key: Option<&str>) -> u64 {
        let Some(key) = key else {
            self.global += 1;
            return self.global - 1;
        };
        if let Some(n) = self.current.get_mut(key) {
            *n += 1;
            return *n - 1;
        }
        let n = self.previous.remove(key).unwrap_or(0);
        if self.current.len() >= Self::GENERATION {
            self.previous = std::mem::take(&mut self.current);
        }
        self.current.insert(key.to_string(), n + 1);
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seq(script: &str, n: u64) -> Vec<String> {
        let s: Script = script.parse().unwrap();
        (0..n)
            .map(|i| match &s.reply_at(i).action {
                Action::Status { code, .. } => code.to_string(),
                Action::Reset => "reset".into(),
            })
            .collect()
    }

    #[test]
    fn sequences_run_in_order_and_the_last_item_repeats() {
        assert_eq!(seq("200", 3), ["200", "200", "200"]);
        assert_eq!(seq("503x2,200", 4), ["503", "503", "200", "200"]);
        assert_eq!(
            seq("reset,500x2,204", 5),
            ["reset", "500", "500", "204", "204"]
        );
        assert_eq!(seq("resetx2,200", 3), ["reset", "reset", "200"]);
    }

    #[test]
    fn options_parse() {
        let s: Script = "429:retry-after=2".parse().unwrap();
        assert_eq!(
            s.reply_at(0).action,
            Action::Status {
                code: 429,
                retry_after: Some("2".into())
            }
        );
        let s: Script = "delay=300ms".parse().unwrap();
        assert_eq!(s.reply_at(0).delay, Duration::from_millis(300));
        assert!(matches!(
            s.reply_at(0).action,
            Action::Status { code: 200, .. }
        ));
        let s: Script = "503x2:retry-after=1,200".parse().unwrap();
        assert_eq!(s.to_string(), "503x2:retry-after=1,200");
        let s: Script = "503:delay=1s:retry-after=Wed, 21 Oct 2015 07:28:00 GMT,200"
            .parse()
            .unwrap();
        assert_eq!(
            s.reply_at(0).action,
            Action::Status {
                code: 503,
                retry_after: Some("Wed, 21 Oct 2015 07:28:00 GMT".into())
            }
        );
        assert_eq!(
            seq("503:retry-after=Wed, 21 Oct 2015 07:28:00 GMT,200", 2),
            ["503", "200"]
        );
        let s: Script = "reset:delay=50ms".parse().unwrap();
        assert_eq!(s.reply_at(0).delay, Duration::from_millis(50));
    }

    #[test]
    fn bad_scripts_name_the_item_and_the_grammar() {
        for (bad, says) in [
            ("", "empty"),
            ("200,", "ends with a comma"),
            ("200,,503", "item 2"),
            ("abc", "not a status code"),
            ("rest", "did you mean reset"),
            ("503x0", "zero times"),
            ("503xz", "repeat count"),
            ("99", "out of range"),
            ("429:retry-afterr=2", "did you mean retry-after"),
            ("429:retry-after=soon", "HTTP-date"),
            ("429:retry-after", "no =VALUE"),
            ("200:delay=5", "unit is missing"),
            ("reset:retry-after=1", "takes no retry-after"),
            ("200:delay=1s:delay=2s", "twice"),
        ] {
            let e = bad.parse::<Script>().unwrap_err().to_string();
            assert!(e.contains(says), "{bad:?}: {e}");
            assert!(e.contains("ITEM[,ITEM...]"), "{bad:?}: {e}");
        }
    }

    #[test]
    fn positions_count_per_delivery_with_a_global_fallback() {
        let mut p = Positions::default();
        assert_eq!(p.next(Some("a")), 0);
        assert_eq!(p.next(Some("b")), 0);
        assert_eq!(p.next(Some("a")), 1);
        assert_eq!(p.next(None), 0);
        assert_eq!(p.next(None), 1);
        assert_eq!(p.next(Some("a")), 2);
    }

    #[test]
    fn positions_survive_one_generation_change() {
        let mut p = Positions::default();
        assert_eq!(p.next(Some("old")), 0);
        for i in 0..Positions::GENERATION {
            p.next(Some(&i.to_string()));
        }
        assert_eq!(p.next(Some("old")), 1);
    }
}
