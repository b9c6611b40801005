//! JavaScript's Number::toString for `--verify-json`: the shortest digits that
//! round-trip (ties to even, as the spec says), in plain notation for exponents
//! -7 < e < 21 and `1e+21` / `1e-7` forms otherwise. `JSON.stringify` prints numbers so.

use std::fmt::Write as _;

/// A number as `JSON.stringify` prints it: Number::toString, and `null` for the
/// infinities a huge literal (`1e400`) parses to.
pub(crate) fn to_string(v: f64) -> String {
    if !v.is_finite() {
        return "null".into();
    }
    if v == 0.0 {
        return "0".into(); // -0 too
    }
    let (digits, exp) = shortest_digits(v.abs());
    let k = digits.len() as i32;
    // The decimal point sits after n digits: value = 0.DIGITS * 10^n.
    let n = exp + 1;
    let mut s = String::new();
    if v < 0.0 {
        s.push('-');
    }
    if k <= n && n <= 21 {
        s.push_str(&digits);
        s.extend(std::iter::repeat_n('0', (n - k) as usize));
    } else if 0 < n && n <= 21 {
        s.push_str(&digits[..n as usize]);
        s.push('.');
        s.push_str(&digits[n as usize..]);
    } else if -6 < n && n <= 0 {
        s.push_str("0.");
        s.extend(std::iter::repeat_n('0', (-n) as usize));
        s.push_str(&digits);
    } else {
        s.push_str(&digits[..1]);
        if k > 1 {
            s.push('.');
            s.push_str(&digits[1..]);
        }
        let e = n - 1;
        let _ = write!(s, "e{}{}", if e > 0 { "+" } else { "-" }, e.abs());
    }
    s
}

/// The shortest digits that round-trip to `v` (> 0) and the decimal exponent of the
/// first one. Rust's `{:e}` finds them; where two candidates are equally close to `v`
/// it may round up, while JavaScript takes the even one, so ties are redone here.
fn shortest_digits(v: f64) -> (String, i32) {
    let split = |sci: &str| -> (String, i32) {
        let (m, e) = sci.split_once('e').unwrap_or((sci, "0"));
        (m.replace('.', ""), e.parse().unwrap_or(0))
    };
    let (digits, exp) = split(&format!("{v:e}"));
    // Whole numbers below 2^53 are exact already; no tie is possible.
    if v.fract() == 0.0 && v < 9_007_199_254_740_992.0 {
        return (digits, exp);
    }
    // A tie means the exact value has one digit more than the shortest, and it is a 5.
    // 800 digits hold any double's exact expansion (at most 767 significant digits).
    let (exact, exact_exp) = split(&format!("{v:.800e}"));
    let exact = exact.trim_end_matches('0');
    if exact_exp != exp || exact.len() != digits.len() + 1 || !exact.ends_with('5') {
        return (digits, exp);
    }
    let lower = &exact[..digits.len()];
    let Some(upper) = increment(lower) else {
        return (digits, exp);
    };
    let even = if lower.ends_with(['0', '2', '4', '6', '8']) {
        lower.to_string()
    } else {
        upper
    };
    let round_trips = format!("0.{even}e{}", exp + 1)
        .parse::<f64>()
        .is_ok_and(|x| x == v);
    if round_trips {
        (even, exp)
    } else {
        (digits, exp)
    }
}

/// `digits` plus one in the last place, unless that carries into a new digit.
fn increment(digits: &str) -> Option<String> {
    let mut d: Vec<u8> = digits.bytes().collect();
    for b in d.iter_mut().rev() {
        if *b == b'9' {
            *b = b'0';
        } else {
            *b += 1;
            return String::from_utf8(d).ok();
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_as_javascript_does() {
        for (input, js) in [
            ("1.0", "1"),
            ("-0.0", "0"),
            ("1e-6", "0.000001"),
            ("1e-7", "1e-7"),
            ("1.5e-7", "1.5e-7"),
            ("1e21", "1e+21"),
            ("1e20", "100000000000000000000"),
            ("123456789012345678901", "123456789012345680000"),
            ("12345678901234567890", "12345678901234567000"),
            ("0.1", "0.1"),
            ("100", "100"),
            ("1.25E2", "125"),
            ("1e400", "null"),
            ("-2.5e-3", "-0.0025"),
            ("5e-324", "5e-324"),
            ("1.7976931348623157e308", "1.7976931348623157e+308"),
            // Two shortest candidates equally close: JavaScript takes the even one.
            ("595630095311866.2", "595630095311866.2"),
            ("114015632051411.62", "114015632051411.62"),
        ] {
            let v: f64 = input.parse().unwrap();
            assert_eq!(to_string(v), js, "{input}");
        }
    }
}
