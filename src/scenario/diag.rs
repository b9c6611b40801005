//! Error messages that point at the file: `FILE:LINE:COL: message`, then the offending
//! line with a caret under the value, then what would be valid. Every scenario error,
//! from the YAML parser or from the checks after it, is rendered here.

use super::model::Pos;
use crate::InputError;

/// A problem found at a place in the file, before it is rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    /// `Pos { line: 0, .. }` = no known place (the whole file).
    pub pos: Pos,
    pub message: String,
}

impl Problem {
    pub fn new(pos: Pos, message: impl Into<String>) -> Self {
        Problem {
            pos,
            message: message.into(),
        }
    }

    /// The problem as the user sees it.
    pub fn render(&self, origin: &str, source: &str) -> InputError {
        InputError::new(render(origin, source, self.pos, &self.message))
    }
}

/// Longest stretch of a source line shown in a snippet (minified YAML can be one line).
const SNIPPET_WIDTH: usize = 100;

/// `origin:line:col: message` plus a snippet of `source` at `pos` (when it has one).
pub(crate) fn render(origin: &str, source: &str, pos: Pos, message: &str) -> String {
    if pos.line == 0 {
        return format!("{origin}: {message}");
    }
    let mut out = format!("{origin}:{}:{}: {message}", pos.line, pos.column);
    let Some(line) = source.lines().nth(pos.line as usize - 1) else {
        return out;
    };
    let line = redact(line);
    let chars: Vec<char> = line.chars().collect();
    let col = (pos.column as usize).saturating_sub(1).min(chars.len());
    // Show a window around the column so the caret stays on screen.
    let start = col.saturating_sub(SNIPPET_WIDTH / 2);
    let end = (start + SNIPPET_WIDTH).min(chars.len());
    let shown: String = chars[start..end]
        .iter()
        .map(|c| match c {
            '\t' => '→',
            c if c.is_control() => '\u{FFFD}',
            c => *c,
        })
        .collect();
    let prefix = if start > 0 { "..." } else { "" };
    let suffix = if end < chars.len() { "..." } else { "" };
    let width = token_width(&chars[col..]).clamp(1, end.saturating_sub(col).max(1));
    let gutter = pos.line.to_string().len();
    let pad = " ".repeat(gutter);
    out.push_str(&format!(
        "\n{pad} |\n{} | {prefix}{shown}{suffix}\n{pad} | {}{}",
        pos.line,
        " ".repeat(prefix.len() + col - start),
        "^".repeat(width)
    ));
    out
}

/// How many characters of the value starting a line slice to underline: a quoted
/// string to its closing quote, a plain scalar up to `,` `]` `}` or ` #`.
fn token_width(rest: &[char]) -> usize {
    match rest.first() {
        Some(q @ ('"' | '\'')) => {
            let mut i = 1;
            while i < rest.len() {
                if rest[i] == '\\' && *q == '"' {
                    i += 2;
                    continue;
                }
                if rest[i] == *q {
                    return i + 1;
                }
                i += 1;
            }
            rest.len()
        }
        Some('{' | '[') => {
            // A flow collection: to its matching bracket (or the line's end).
            let mut depth = 0usize;
            for (i, c) in rest.iter().enumerate() {
                match c {
                    '{' | '[' => depth += 1,
                    '}' | ']' => {
                        depth = depth.saturating_sub(1);
                        if depth == 0 {
                            return i + 1;
                        }
                    }
                    _ => {}
                }
            }
            rest.len()
        }
        _ => {
            let mut end = rest.len();
            for (i, c) in rest.iter().enumerate() {
                let key_end = *c == ':' && rest.get(i + 1).is_none_or(|n| *n == ' ');
                if key_end
                    || matches!(c, ',' | ']' | '}')
                    || (*c == '#' && i > 0 && rest[i - 1] == ' ')
                {
                    end = i;
                    break;
                }
            }
            let trimmed = rest[..end]
                .iter()
                .rev()
                .skip_while(|c| c.is_whitespace())
                .count();
            trimmed.max(1)
        }
    }
}

/// A `secret:` line shows `***` instead of the secret (SPEC 13: never in errors).
fn redact(line: &str) -> std::borrow::Cow<'_, str> {
    let t = line.trim_start().trim_start_matches(['-', '{', ' ']);
    match t.strip_prefix("secret").map(str::trim_start) {
        Some(rest) if rest.starts_with(':') => {
            let keep = line.len() - rest.len() + 1;
            format!("{} ***", &line[..keep]).into()
        }
        _ => line.into(),
    }
}

/// ` (did you mean "x"?)` or nothing.
pub(crate) fn hint(input: &str, candidates: &[&str]) -> String {
    crate::error::did_you_mean(input, candidates.iter().copied())
        .map(|c| format!(" (did you mean `{c}`?)"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_underline_the_value() {
        let src = "version: 1\nsteps:\n  - event: email.opend\n";
        let r = render(
            "s.yaml",
            src,
            Pos {
                line: 3,
                column: 12,
            },
            "unknown event",
        );
        assert_eq!(
            r,
            "s.yaml:3:12: unknown event\n  |\n3 |   - event: email.opend\n  |            ^^^^^^^^^^^"
        );
        let src = "x: {a: \"q, r\", b: 2}";
        let r = render("s.yaml", src, Pos { line: 1, column: 8 }, "m");
        assert!(r.ends_with("       ^^^^^^"), "{r}");
    }

    #[test]
    fn long_lines_are_windowed_and_unknown_places_have_no_snippet() {
        let src = format!("{}bad", "a".repeat(500));
        let r = render(
            "f",
            &src,
            Pos {
                line: 1,
                column: 501,
            },
            "m",
        );
        let lines: Vec<&str> = r.lines().collect();
        assert!(lines[2].len() < 130 && lines[2].contains("...aaa"), "{r}");
        let caret = lines[3].find('^').unwrap();
        assert_eq!(&lines[2][caret..caret + 3], "bad");
        assert_eq!(render("f", "x", Pos::default(), "empty"), "f: empty");
    }

    #[test]
    fn keys_and_flow_collections_are_underlined_whole() {
        let r = render("f", "  dat: { a: 1 }", Pos { line: 1, column: 3 }, "m");
        assert!(r.ends_with("|   ^^^"), "{r}");
        let r = render(
            "f",
            "  - { kind: drop, p: 5% }",
            Pos { line: 1, column: 5 },
            "m",
        );
        assert!(r.ends_with(&format!("|     {}", "^".repeat(21))), "{r}");
    }

    #[test]
    fn secrets_never_reach_a_snippet() {
        let r = render(
            "f",
            "  secret: hunter2",
            Pos {
                line: 1,
                column: 11,
            },
            "m",
        );
        assert!(!r.contains("hunter2") && r.contains("secret: ***"), "{r}");
        let r = render("f", "  secret_env: NAME", Pos { line: 1, column: 3 }, "m");
        assert!(r.contains("NAME"), "{r}");
    }
}
