//! `JSON.stringify(JSON.parse(body))` as Node computes it, for `--verify-json` (the
//! guide's receiver verifies the re-serialized body, not the bytes it got). A small
//! parser keeps what JavaScript keeps: numbers as doubles, strings as UTF-16 (lone
//! surrogates survive), integer-like keys first in ascending order, last duplicate wins.

use std::collections::HashMap;
use std::fmt::Write as _;

use super::jsnumber;

/// Nesting deeper than this is refused (Node would overflow its stack near here too),
/// so a hostile body cannot overflow ours.
const MAX_DEPTH: usize = 512;

enum Js {
    Null,
    Bool(bool),
    Num(f64),
    Str(Vec<u16>),
    Arr(Vec<Js>),
    Obj(Vec<(Vec<u16>, Js)>),
}

/// What express.json() (strict mode) plus `JSON.stringify` make of `body`, or why
/// they would refuse it (express answers 400).
pub fn restringify(body: &[u8]) -> Result<String, String> {
    // body-parser decodes UTF-8 with replacement characters and strips a BOM.
    let text = String::from_utf8_lossy(body);
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let units: Vec<u16> = text.encode_utf16().collect();
    let mut p = Parser { s: &units, i: 0 };
    p.ws();
    // express.json is strict by default: only objects and arrays at the top.
    if !matches!(p.peek(), Some(b'{' | b'[')) {
        return Err("the body is not a JSON object or array".into());
    }
    let v = p.value(0)?;
    p.ws();
    if p.i != units.len() {
        return Err(format!(
            "unexpected text after the JSON value at offset {}",
            p.i
        ));
    }
    let mut out = String::with_capacity(body.len());
    write_value(&v, &mut out);
    Ok(out)
}

struct Parser<'a> {
    s: &'a [u16],
    i: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).and_then(|&u| u8::try_from(u).ok())
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn err<T>(&self, what: &str) -> Result<T, String> {
        Err(format!("{what} at offset {} (UTF-16 units)", self.i))
    }

    fn eat(&mut self, lit: &str) -> Result<(), String> {
        for b in lit.bytes() {
            if self.peek() != Some(b) {
                return self.err("invalid literal");
            }
            self.i += 1;
        }
        Ok(())
    }

    fn value(&mut self, depth: usize) -> Result<Js, String> {
        if depth > MAX_DEPTH {
            return self.err("nesting too deep");
        }
        self.ws();
        match self.peek() {
            Some(b'{') => self.object(depth),
            Some(b'[') => {
                self.i += 1;
                let mut items = Vec::new();
                self.ws();
                if self.peek() == Some(b']') {
                    self.i += 1;
                    return Ok(Js::Arr(items));
                }
                loop {
                    items.push(self.value(depth + 1)?);
                    self.ws();
                    match self.peek() {
                        Some(b',') => self.i += 1,
                        Some(b']') => {
                            self.i += 1;
                            return Ok(Js::Arr(items));
                        }
                        _ => return self.err("expected , or ]"),
                    }
                }
            }
            Some(b'"') => self.string().map(Js::Str),
            Some(b't') => self.eat("true").map(|_| Js::Bool(true)),
            Some(b'f') => self.eat("false").map(|_| Js::Bool(false)),
            Some(b'n') => self.eat("null").map(|_| Js::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => self.err("expected a JSON value"),
        }
    }

    fn object(&mut self, depth: usize) -> Result<Js, String> {
        self.i += 1;
        let mut members: Vec<(Vec<u16>, Js)> = Vec::new();
        let mut index: HashMap<Vec<u16>, usize> = HashMap::new();
        self.ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Ok(Js::Obj(members));
        }
        loop {
            self.ws();
            if self.peek() != Some(b'"') {
                return self.err("expected a string key");
            }
            let key = self.string()?;
            self.ws();
            if self.peek() != Some(b':') {
                return self.err("expected :");
            }
            self.i += 1;
            let v = self.value(depth + 1)?;
            // A repeated key keeps its first position and takes the last value.
            match index.get(&key) {
                Some(&at) => members[at].1 = v,
                None => {
                    index.insert(key.clone(), members.len());
                    members.push((key, v));
                }
            }
            self.ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    break;
                }
                _ => return self.err("expected , or }"),
            }
        }
        // Integer-like keys (array indices) come first, ascending; the rest keep order.
        let (mut ints, rest): (Vec<_>, Vec<_>) = members
            .into_iter()
            .partition(|(k, _)| array_index(k).is_some());
        ints.sort_by_key(|(k, _)| array_index(k));
        ints.extend(rest);
        Ok(Js::Obj(ints))
    }

    fn string(&mut self) -> Result<Vec<u16>, String> {
        self.i += 1;
        let mut out = Vec::new();
        loop {
            let Some(&u) = self.s.get(self.i) else {
                return self.err("unterminated string");
            };
            self.i += 1;
            match u {
                0x22 => return Ok(out),
                0x5c => {
                    let Some(&e) = self.s.get(self.i) else {
                        return self.err("unterminated escape");
                    };
                    self.i += 1;
                    out.push(match e {
                        0x22 | 0x5c | 0x2f => e,
                        0x62 => 0x08,
                        0x66 => 0x0c,
                        0x6e => 0x0a,
                        0x72 => 0x0d,
                        0x74 => 0x09,
                        0x75 => {
                            let hex = self.s.get(self.i..self.i + 4).unwrap_or(&[]);
                            let text = String::from_utf16(hex).unwrap_or_default();
                            let valid =
                                text.len() == 4 && text.bytes().all(|b| b.is_ascii_hexdigit());
                            let (true, Ok(v)) = (valid, u16::from_str_radix(&text, 16)) else {
                                return self.err("invalid \\u escape");
                            };
                            self.i += 4;
                            v
                        }
                        _ => return self.err("invalid escape"),
                    });
                }
                0..=0x1f => return self.err("control character in string"),
                _ => out.push(u),
            }
        }
    }

    fn number(&mut self) -> Result<Js, String> {
        let start = self.i;
        let digits = |p: &mut Self| {
            let from = p.i;
            while matches!(p.peek(), Some(b'0'..=b'9')) {
                p.i += 1;
            }
            p.i - from
        };
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        let int_start = self.i;
        let n = digits(self);
        if n == 0 || (n > 1 && self.s[int_start] == u16::from(b'0')) {
            return self.err("invalid number");
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            if digits(self) == 0 {
                return self.err("invalid number");
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if digits(self) == 0 {
                return self.err("invalid number");
            }
        }
        let text = String::from_utf16_lossy(&self.s[start..self.i]);
        // Rust's parse rounds correctly to the nearest double, as JavaScript does.
        text.parse::<f64>()
            .map(Js::Num)
            .or_else(|_| self.err("invalid number"))
    }
}

/// The value of a canonical array-index key ("0", "17"; not "01", not 2^32-1 or more).
fn array_index(key: &[u16]) -> Option<u32> {
    let first = *key.first()?;
    if key.len() > 10 || (first == u16::from(b'0') && key.len() > 1) {
        return None;
    }
    let mut n: u64 = 0;
    for &u in key {
        let d = u.checked_sub(u16::from(b'0')).filter(|d| *d <= 9)?;
        n = n * 10 + u64::from(d);
    }
    u32::try_from(n).ok().filter(|&n| n != u32::MAX)
}

fn write_value(v: &Js, out: &mut String) {
    match v {
        Js::Null => out.push_str("null"),
        Js::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Js::Num(n) => out.push_str(&jsnumber::to_string(*n)),
        Js::Str(s) => write_string(s, out),
        Js::Arr(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(item, out);
            }
            out.push(']');
        }
        Js::Obj(members) => {
            out.push('{');
            for (i, (k, item)) in members.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(k, out);
                out.push(':');
                write_value(item, out);
            }
            out.push('}');
        }
    }
}

/// JSON.stringify's string quoting: short escapes, `\u00XX` for other controls, lone
/// surrogates as lowercase `\udXXX` (well-formed stringify), everything else raw.
fn write_string(s: &[u16], out: &mut String) {
    out.push('"');
    for r in char::decode_utf16(s.iter().copied()) {
        match r {
            Ok('"') => out.push_str("\\\""),
            Ok('\\') => out.push_str("\\\\"),
            Ok('\u{8}') => out.push_str("\\b"),
            Ok('\u{c}') => out.push_str("\\f"),
            Ok('\n') => out.push_str("\\n"),
            Ok('\r') => out.push_str("\\r"),
            Ok('\t') => out.push_str("\\t"),
            Ok(c) if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            Ok(c) => out.push(c),
            Err(e) => {
                let _ = write!(out, "\\u{:04x}", e.unpaired_surrogate());
            }
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rs(s: &str) -> String {
        restringify(s.as_bytes()).unwrap()
    }

    #[test]
    fn compact_bodies_survive_unchanged() {
        let body = r#"{"event":"email.opened","timestamp":"2024-03-15T11:45:00Z","data":{"campaign_id":790,"email":"zoë@example.com","url":"https://x/?a=1&b=2"}}"#;
        assert_eq!(rs(body), body);
    }

    #[test]
    fn whitespace_goes_and_escapes_normalise() {
        assert_eq!(rs("{ \"a\" : [ 1 , 2 ] }\n"), r#"{"a":[1,2]}"#);
        assert_eq!(rs(r#"["\u00e9\/\u0001\n"]"#), "[\"é/\\u0001\\n\"]");
        assert_eq!(rs(r#"["\ud800","\ud83d\ude00"]"#), "[\"\\ud800\",\"😀\"]");
    }

    #[test]
    fn integer_like_keys_move_first_and_duplicates_keep_the_first_place() {
        assert_eq!(
            rs(r#"{"b":1,"10":2,"a":3,"2":4,"01":5,"4294967295":6,"4294967294":7}"#),
            r#"{"2":4,"10":2,"4294967294":7,"b":1,"a":3,"01":5,"4294967295":6}"#
        );
        assert_eq!(rs(r#"{"a":1,"b":2,"a":3}"#), r#"{"a":3,"b":2}"#);
    }

    #[test]
    fn what_express_json_refuses_is_an_error() {
        for bad in [
            "",
            "42",
            "\"x\"",
            "{",
            "[1,]",
            "{\"a\":01}",
            "[1.]",
            "[tru]",
            "{} x",
            "[\"\t\"]",
            "{'a':1}",
            "[\"\\u+12a\"]",
        ] {
            assert!(restringify(bad.as_bytes()).is_err(), "{bad:?}");
        }
        let deep = "[".repeat(100_000);
        assert!(
            restringify(deep.as_bytes())
                .unwrap_err()
                .contains("too deep")
        );
    }
}
