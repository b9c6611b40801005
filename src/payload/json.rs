//! Where bodies are written: one generic [`Sink`] the generator drives, with a byte
//! writer (the fast path behind `event_bytes`) and a `serde_json::Value` builder (the
//! path that scenarios merge into). Both see the same calls, so they agree byte for
//! byte; the writer escapes exactly as serde_json does (which is also what JavaScript's
//! `JSON.stringify` does for strings Rust can hold).

use std::fmt::{self, Write as _};

use serde_json::{Map, Value};

/// A JSON document under construction. Keys are static: the generator never makes
/// keys from data, so none can be integer-like or duplicated by accident.
pub(crate) trait Sink {
    fn begin_object(&mut self);
    fn end_object(&mut self);
    fn begin_array(&mut self);
    fn end_array(&mut self);
    fn key(&mut self, k: &'static str);
    fn str(&mut self, s: &str);
    /// A string value assembled from pieces without an intermediate `String`.
    fn str_fmt(&mut self, args: fmt::Arguments<'_>);
    fn uint(&mut self, n: u64);
    fn int(&mut self, n: i64);
    fn bool(&mut self, b: bool);

    fn field_str(&mut self, k: &'static str, v: &str) {
        self.key(k);
        self.str(v);
    }
    fn field_fmt(&mut self, k: &'static str, args: fmt::Arguments<'_>) {
        self.key(k);
        self.str_fmt(args);
    }
    fn field_uint(&mut self, k: &'static str, n: u64) {
        self.key(k);
        self.uint(n);
    }
    fn field_int(&mut self, k: &'static str, n: i64) {
        self.key(k);
        self.int(n);
    }
    fn field_bool(&mut self, k: &'static str, b: bool) {
        self.key(k);
        self.bool(b);
    }
}

/// Compact JSON straight into a byte buffer.
pub(crate) struct Writer {
    pub buf: Vec<u8>,
    comma: bool,
}

impl Writer {
    pub fn with_capacity(n: usize) -> Self {
        Writer {
            buf: Vec::with_capacity(n),
            comma: false,
        }
    }

    fn sep(&mut self) {
        if self.comma {
            self.buf.push(b',');
        }
    }

    fn number(&mut self, n: impl itoa_like::Digits) {
        self.sep();
        n.push_to(&mut self.buf);
        self.comma = true;
    }
}

impl Sink for Writer {
    fn begin_object(&mut self) {
        self.sep();
        self.buf.push(b'{');
        self.comma = false;
    }
    fn end_object(&mut self) {
        self.buf.push(b'}');
        self.comma = true;
    }
    fn begin_array(&mut self) {
        self.sep();
        self.buf.push(b'[');
        self.comma = false;
    }
    fn end_array(&mut self) {
        self.buf.push(b']');
        self.comma = true;
    }
    fn key(&mut self, k: &'static str) {
        self.sep();
        self.buf.push(b'"');
        escape_into(&mut self.buf, k);
        self.buf.extend_from_slice(b"\":");
        self.comma = false;
    }
    fn str(&mut self, s: &str) {
        self.sep();
        self.buf.push(b'"');
        escape_into(&mut self.buf, s);
        self.buf.push(b'"');
        self.comma = true;
    }
    fn str_fmt(&mut self, args: fmt::Arguments<'_>) {
        self.sep();
        self.buf.push(b'"');
        match args.as_str() {
            Some(s) => escape_into(&mut self.buf, s),
            // Writing into a Vec cannot fail; only a Display impl could, and ours don't.
            None => _ = Escaping(&mut self.buf).write_fmt(args),
        }
        self.buf.push(b'"');
        self.comma = true;
    }
    fn uint(&mut self, n: u64) {
        self.number(n);
    }
    fn int(&mut self, n: i64) {
        self.number(n);
    }
    fn bool(&mut self, b: bool) {
        self.sep();
        self.buf
            .extend_from_slice(if b { b"true" } else { b"false" });
        self.comma = true;
    }
}

/// Decimal digits without going through `fmt` (the hot path writes a dozen numbers).
mod itoa_like {
    pub trait Digits {
        fn push_to(self, buf: &mut Vec<u8>);
    }
    impl Digits for u64 {
        fn push_to(mut self, buf: &mut Vec<u8>) {
            let mut tmp = [0u8; 20];
            let mut i = tmp.len();
            loop {
                i -= 1;
                tmp[i] = b'0' + (self % 10) as u8;
                self /= 10;
                if self == 0 {
                    break;
                }
            }
            buf.extend_from_slice(&tmp[i..]);
        }
    }
    impl Digits for i64 {
        fn push_to(self, buf: &mut Vec<u8>) {
            if self < 0 {
                buf.push(b'-');
            }
            self.unsigned_abs().push_to(buf);
        }
    }
}

/// A `fmt::Write` that JSON-escapes what it is given.
struct Escaping<'a>(&'a mut Vec<u8>);

impl fmt::Write for Escaping<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        escape_into(self.0, s);
        Ok(())
    }
}

/// serde_json's string escaping: `"` and `\`, the short forms `\b \f \n \r \t`, and
/// `\u00xx` (lowercase hex) for the other control characters; everything else raw.
pub(crate) fn escape_into(buf: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    // Almost every generated string needs no escape at all: find the first byte that
    // might, eight at a time, and copy everything before it in one go.
    let first = first_special(bytes);
    buf.extend_from_slice(&bytes[..first]);
    let mut start = first;
    for (i, &b) in bytes.iter().enumerate().skip(first) {
        let esc: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0x00..=0x1f => b"",
            _ => continue,
        };
        buf.extend_from_slice(&bytes[start..i]);
        if esc.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            buf.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[(b >> 4) as usize],
                HEX[(b & 0xf) as usize],
            ]);
        } else {
            buf.extend_from_slice(esc);
        }
        start = i + 1;
    }
    buf.extend_from_slice(&bytes[start..]);
}

/// The index of the first byte that is `"`, `\\` or a control character (< 0x20), or
/// the length: a word-at-a-time scan (the classic "has less than / has byte" bit
/// tricks), with the tail done bytewise.
fn first_special(bytes: &[u8]) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let has_zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGHS;
    let special = |b: u8| b < 0x20 || b == b'"' || b == b'\\';
    let mut i = 0;
    while i + 8 <= bytes.len() {
        let mut word = [0u8; 8];
        word.copy_from_slice(&bytes[i..i + 8]);
        let v = u64::from_le_bytes(word);
        // Bytes below 0x20, or equal to '"' (0x22) or '\\' (0x5c). False positives are
        // possible (the tricks are exact only for the lowest flagged byte), so a flagged
        // word is re-checked bytewise.
        let below = v.wrapping_sub(ONES * 0x20) & !v & HIGHS;
        let quote = has_zero(v ^ (ONES * u64::from(b'"')));
        let backslash = has_zero(v ^ (ONES * u64::from(b'\\')));
        if below | quote | backslash != 0
            && let Some(j) = bytes[i..i + 8].iter().position(|&b| special(b))
        {
            return i + j;
        }
        i += 8;
    }
    bytes[i..]
        .iter()
        .position(|&b| special(b))
        .map_or(bytes.len(), |j| i + j)
}

/// Builds a `serde_json::Value` (with `preserve_order`, so key order is kept).
#[derive(Default)]
pub(crate) struct Tree {
    stack: Vec<(Container, Option<&'static str>)>,
    done: Option<Value>,
}

enum Container {
    Object(Map<String, Value>),
    Array(Vec<Value>),
}

impl Tree {
    pub fn into_value(self) -> Value {
        self.done.unwrap_or(Value::Null)
    }

    fn put(&mut self, v: Value) {
        match self.stack.last_mut() {
            Some((Container::Object(map), key)) => {
                if let Some(k) = key.take() {
                    map.insert(k.to_owned(), v);
                }
            }
            Some((Container::Array(items), _)) => items.push(v),
            None => self.done = Some(v),
        }
    }

    fn close(&mut self) {
        if let Some((c, _)) = self.stack.pop() {
            self.put(match c {
                Container::Object(m) => Value::Object(m),
                Container::Array(a) => Value::Array(a),
            });
        }
    }
}

impl Sink for Tree {
    fn begin_object(&mut self) {
        self.stack.push((Container::Object(Map::new()), None));
    }
    fn end_object(&mut self) {
        self.close();
    }
    fn begin_array(&mut self) {
        self.stack.push((Container::Array(Vec::new()), None));
    }
    fn end_array(&mut self) {
        self.close();
    }
    fn key(&mut self, k: &'static str) {
        if let Some((_, key)) = self.stack.last_mut() {
            *key = Some(k);
        }
    }
    fn str(&mut self, s: &str) {
        self.put(Value::String(s.to_owned()));
    }
    fn str_fmt(&mut self, args: fmt::Arguments<'_>) {
        self.put(Value::String(fmt::format(args)));
    }
    fn uint(&mut self, n: u64) {
        self.put(Value::from(n));
    }
    fn int(&mut self, n: i64) {
        self.put(Value::from(n));
    }
    fn bool(&mut self, b: bool) {
        self.put(Value::Bool(b));
    }
}

/// RFC 3339 in UTC with whole seconds and `Z` (`2024-03-15T10:30:00Z`), written by
/// hand because chrono's formatter costs more than the rest of an event.
pub(crate) struct Rfc3339(pub chrono::DateTime<chrono::Utc>);

impl fmt::Display for Rfc3339 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use chrono::{Datelike, Timelike};
        let t = self.0;
        let year = t.year();
        if !(0..=9999).contains(&year) {
            // Outside RFC 3339's four-digit years: chrono's own (signed, wider) form.
            return f.write_str(&t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        }
        let d2 = |n: u32| [b'0' + (n / 10) as u8, b'0' + (n % 10) as u8];
        let y = year as u32;
        let mut out = [0u8; 20];
        out[..4].copy_from_slice(&[
            b'0' + (y / 1000) as u8,
            b'0' + (y / 100 % 10) as u8,
            b'0' + (y / 10 % 10) as u8,
            b'0' + (y % 10) as u8,
        ]);
        out[4] = b'-';
        out[5..7].copy_from_slice(&d2(t.month()));
        out[7] = b'-';
        out[8..10].copy_from_slice(&d2(t.day()));
        out[10] = b'T';
        out[11..13].copy_from_slice(&d2(t.hour()));
        out[13] = b':';
        out[14..16].copy_from_slice(&d2(t.minute()));
        out[16] = b':';
        // A leap second shows as :59 (chrono keeps it in the nanoseconds).
        out[17..19].copy_from_slice(&d2(t.second()));
        out[19] = b'Z';
        // All bytes written above are ASCII.
        f.write_str(std::str::from_utf8(&out).map_err(|_| fmt::Error)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_matches_serde_json_wherever_the_special_byte_falls() {
        let specials = [
            '"', '\\', '\n', '\u{1}', '\u{1f}', '\t', 'é', '日', '\u{7f}', ' ',
        ];
        for len in 0..20 {
            for at in 0..=len {
                for sp in specials {
                    let mut text: String = "abcdefghijklmnopqrstu".chars().take(len).collect();
                    text.insert(at.min(text.len()), sp);
                    let mut buf = Vec::new();
                    escape_into(&mut buf, &text);
                    let want = serde_json::to_string(&text).unwrap();
                    assert_eq!(
                        format!("\"{}\"", String::from_utf8(buf).unwrap()),
                        want,
                        "{text:?}"
                    );
                }
            }
        }
    }

    fn both(build: impl Fn(&mut dyn Sink)) -> (String, Value) {
        let mut b = Writer::with_capacity(64);
        build(&mut b);
        let mut t = Tree::default();
        build(&mut t);
        (String::from_utf8(b.buf).unwrap(), t.into_value())
    }

    #[test]
    fn writer_and_tree_agree_with_serde_json() {
        let (text, value) = both(|s| {
            s.begin_object();
            s.field_str(
                "a",
                "quote \" back \\ nl \n tab \t bell \u{7} del \u{7f} é 日本 \u{2028}",
            );
            s.field_fmt("b", format_args!("{}-{}", 1, "x\"y"));
            s.field_uint("c", u64::MAX);
            s.field_int("d", -42);
            s.key("e");
            s.begin_array();
            s.bool(true);
            s.int(0);
            s.begin_object();
            s.end_object();
            s.begin_array();
            s.end_array();
            s.end_array();
            s.field_bool("f", false);
            s.end_object();
        });
        assert_eq!(text, serde_json::to_string(&value).unwrap());
        let parsed: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(serde_json::to_string(&parsed).unwrap(), text);
    }

    #[test]
    fn rfc3339_is_utc_seconds_z() {
        let t = chrono::DateTime::parse_from_rfc3339("2024-03-05T07:08:09.999+02:00")
            .unwrap()
            .with_timezone(&chrono::Utc);
        assert_eq!(Rfc3339(t).to_string(), "2024-03-05T05:08:09Z");
        let t = chrono::DateTime::from_timestamp(0, 0).unwrap();
        assert_eq!(Rfc3339(t).to_string(), "1970-01-01T00:00:00Z");
    }
}
