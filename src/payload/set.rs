//! `--set PATH=VALUE` on a generated body: the path must already exist (a typo should
//! not silently add a field), and the value must survive JavaScript's re-serialization
//! like the rest of the body (no floats, no integers past 2^53-1, no integer-like keys).

use serde_json::Value;

use crate::InputError;
use crate::error::did_you_mean;

/// JavaScript's `Number.MAX_SAFE_INTEGER`.
const MAX_SAFE: u64 = (1 << 53) - 1;

/// Applies `--set PATH=VALUE` to a body: PATH is dotted (`data.email`, array items by
/// index: `data.tags.0`) and must already exist in the body; VALUE is JSON when it
/// parses as JSON (`791`, `true`, `"791"`, `{"a":1}`), else a string.
pub fn set_path(body: &mut Value, assignment: &str) -> Result<(), InputError> {
    let Some((path, raw)) = assignment.split_once('=') else {
        return Err(InputError::new(format!(
            "--set {assignment:?}: expected PATH=VALUE, e.g. --set data.email=jane@example.com"
        )));
    };
    let path = path.trim();
    if !path.is_empty()
        && let Some(slot) = lookup(body, path)
    {
        *slot = parse_value(raw)
            .map_err(|why| InputError::new(format!("--set {path}={raw}: {why}")))?;
        return Ok(());
    }
    let paths = paths_of(body);
    let hint = suggest(path, &paths)
        .map(|p| format!("did you mean {p}? "))
        .unwrap_or_default();
    let what = match body.get("event").and_then(Value::as_str) {
        Some(ev) => format!("the {ev} body"),
        None => "the body".to_owned(),
    };
    Err(InputError::new(format!(
        "--set {path:?}: no such field in {what} (--set changes existing fields only); \
         {hint}fields: {}",
        paths.join(", ")
    )))
}

/// A sibling with a close name first (`data.ip` -> `data.ip_address`), else any path.
fn suggest<'a>(path: &str, paths: &'a [String]) -> Option<&'a str> {
    let (parent, leaf) = path.rsplit_once('.').unwrap_or(("", path));
    let siblings = paths.iter().filter_map(|p| {
        let (pp, pl) = p.rsplit_once('.').unwrap_or(("", p));
        (pp == parent).then_some((pl, p.as_str()))
    });
    let leaves: Vec<_> = siblings.collect();
    // A leaf that abbreviates exactly one sibling (`ip` for `ip_address`) is too
    // short for edit-distance scoring to catch.
    let mut abbreviates = leaves
        .iter()
        .filter(|(l, _)| leaf.len() >= 2 && l.starts_with(leaf));
    let prefix = match (abbreviates.next(), abbreviates.next()) {
        (Some((_, p)), None) => Some(*p),
        _ => None,
    };
    prefix
        .or_else(|| {
            did_you_mean(leaf, leaves.iter().map(|(l, _)| *l))
                .and_then(|best| leaves.iter().find(|(l, _)| *l == best).map(|(_, p)| *p))
        })
        .or_else(|| did_you_mean(path, paths.iter().map(String::as_str)))
}

fn lookup<'a>(mut at: &'a mut Value, path: &str) -> Option<&'a mut Value> {
    for seg in path.split('.') {
        at = match at {
            Value::Object(map) => map.get_mut(seg)?,
            Value::Array(items) => items.get_mut(seg.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(at)
}

/// Every settable path of a body, parents before children.
fn paths_of(body: &Value) -> Vec<String> {
    fn walk(v: &Value, prefix: &str, out: &mut Vec<String>) {
        let join = |k: &str| {
            if prefix.is_empty() {
                k.to_owned()
            } else {
                format!("{prefix}.{k}")
            }
        };
        match v {
            Value::Object(map) => {
                for (k, child) in map {
                    let p = join(k);
                    out.push(p.clone());
                    walk(child, &p, out);
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    let p = join(&i.to_string());
                    out.push(p.clone());
                    walk(child, &p, out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(body, "", &mut out);
    out
}

/// JSON when it parses, else the text as a string; refuses what JavaScript would change.
fn parse_value(raw: &str) -> Result<Value, String> {
    match serde_json::from_str::<Value>(raw) {
        Ok(v) => {
            check(&v)?;
            Ok(v)
        }
        Err(_) if looks_numeric(raw) => Err(format!(
            "{raw} is not a number JavaScript keeps exactly; use an integer within ±{MAX_SAFE}, \
             or quote it to send a string: '\"{raw}\"'"
        )),
        Err(_) => Ok(Value::String(raw.to_owned())),
    }
}

/// JSON's number grammar (`-?int(.frac)?(e[+-]?exp)?`): text that is a number to a
/// JSON parser even when serde_json cannot hold it (`1e400`).
fn looks_numeric(raw: &str) -> bool {
    fn digits(s: &[u8]) -> usize {
        s.iter().take_while(|b| b.is_ascii_digit()).count()
    }
    let b = raw.trim().as_bytes();
    let mut i = usize::from(b.first() == Some(&b'-'));
    let int = digits(&b[i..]);
    if int == 0 {
        return false;
    }
    i += int;
    if b.get(i) == Some(&b'.') {
        let frac = digits(&b[i + 1..]);
        if frac == 0 {
            return false;
        }
        i += 1 + frac;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let exp = digits(&b[i..]);
        if exp == 0 {
            return false;
        }
        i += exp;
    }
    i == b.len()
}

fn check(v: &Value) -> Result<(), String> {
    match v {
        Value::Number(n) => {
            let safe = n.as_u64().is_some_and(|u| u <= MAX_SAFE)
                || n.as_i64().is_some_and(|i| i.unsigned_abs() <= MAX_SAFE);
            if n.is_f64() {
                Err(format!(
                    "{n} is not an integer; webhook bodies carry integers only, because \
                     JavaScript re-serializes floats differently (1.0 becomes 1). Use an \
                     integer, or quote it to send a string: '\"{n}\"'"
                ))
            } else if !safe {
                Err(format!(
                    "{n} is beyond JavaScript's safe integers (±{MAX_SAFE}); JavaScript would \
                     round it. Quote it to send a string: '\"{n}\"'"
                ))
            } else {
                Ok(())
            }
        }
        Value::Array(items) => items.iter().try_for_each(check),
        Value::Object(map) => {
            for (k, child) in map {
                if is_index_like(k) {
                    return Err(format!(
                        "the key {k:?} looks like an array index; JavaScript moves such keys \
                         first, which changes the bytes. Use a non-numeric key"
                    ));
                }
                check(child)?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Keys JavaScript treats as array indices (canonical decimal below 2^32 - 1).
fn is_index_like(k: &str) -> bool {
    k.parse::<u32>()
        .is_ok_and(|n| n != u32::MAX && n.to_string() == k)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body() -> Value {
        json!({"event": "email.opened", "data": {"email": "a@b.c", "campaign_id": 1, "tags": ["x"]}})
    }

    #[test]
    fn values_are_json_when_they_parse_else_strings() {
        let mut b = body();
        set_path(&mut b, "data.campaign_id=791").unwrap();
        set_path(&mut b, "data.email=jane@example.com").unwrap();
        set_path(&mut b, "data.tags.0=\"42\"").unwrap();
        assert_eq!(b["data"]["campaign_id"], json!(791));
        assert_eq!(b["data"]["email"], json!("jane@example.com"));
        assert_eq!(b["data"]["tags"][0], json!("42"));
        set_path(&mut b, "data={\"k\":[true,null]}").unwrap();
        assert_eq!(b["data"], json!({"k": [true, null]}));
        set_path(&mut b, "event=a=b").unwrap();
        assert_eq!(b["event"], json!("a=b"));
        for text in ["1.2.3.4", "2024-03-15", "+1", "1.", "0x10", "-", "1e"] {
            set_path(&mut b, &format!("event={text}")).unwrap();
            assert_eq!(b["event"], json!(text));
        }
    }

    #[test]
    fn unknown_paths_list_the_fields_and_suggest() {
        let err = set_path(&mut body(), "data.emial=x").unwrap_err().0;
        assert!(err.contains("did you mean data.email?"), "{err}");
        assert!(err.contains("email.opened body"), "{err}");
        assert!(err.contains("data.campaign_id"), "{err}");
        assert!(set_path(&mut body(), "data.tags.1=x").is_err());
        assert!(set_path(&mut body(), "=x").is_err());
        let err = set_path(&mut body(), "data.email").unwrap_err().0;
        assert!(err.contains("PATH=VALUE"), "{err}");
    }

    #[test]
    fn values_javascript_would_change_are_refused() {
        for bad in [
            "1.5",
            "1.0",
            "1e3",
            "-0",
            "9007199254740992",
            "-9007199254740992",
            "[1.5]",
            "{\"0\":1}",
            "1e400",
        ] {
            let err = set_path(&mut body(), &format!("data.campaign_id={bad}"));
            assert!(err.is_err(), "{bad} was accepted");
        }
        let err = set_path(&mut body(), "data.campaign_id=2.5").unwrap_err().0;
        assert!(
            err.contains("integers only") && err.contains("quote it"),
            "{err}"
        );
        let ok = format!("data.campaign_id={MAX_SAFE}");
        set_path(&mut body(), &ok).unwrap();
        set_path(&mut body(), "data.campaign_id={\"01\":1,\"a\":2}").unwrap();
    }
}
