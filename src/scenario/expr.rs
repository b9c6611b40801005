//! The expressions inside `{{ ... }}`: what they can name (`vars`, `steps`, `fake`,
//! `env`, `now`, `uuid`, a quoted string) and their parser, whose errors list the valid
//! forms and suggest the closest name.

use std::fmt;

use crate::error::did_you_mean;

/// The `fake.*` generators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FakeKind {
    Email,
    Name,
    Ip,
    UserAgent,
    Url,
}

impl FakeKind {
    /// Every generator with its template name, in the order messages list them.
    pub const ALL: [(FakeKind, &'static str); 5] = [
        (FakeKind::Email, "email"),
        (FakeKind::Name, "name"),
        (FakeKind::Ip, "ip"),
        (FakeKind::UserAgent, "user_agent"),
        (FakeKind::Url, "url"),
    ];

    pub fn as_str(self) -> &'static str {
        FakeKind::ALL
            .iter()
            .find(|(k, _)| *k == self)
            .map_or("email", |(_, n)| n)
    }
}

/// One `{{ ... }}` expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// `vars.NAME.a.b`: the var's name, then a path into its value.
    Var { name: String, path: Vec<String> },
    /// `steps.ID.data.field`: a path into the body the step sent (never empty).
    Step { id: String, path: Vec<String> },
    /// `fake.KIND`: a fresh realistic value (a string).
    Fake(FakeKind),
    /// `env.NAME | default("x")`: an environment variable (a string).
    Env {
        name: String,
        default: Option<String>,
    },
    /// `now`: scenario time as RFC 3339 UTC with seconds and `Z`.
    Now,
    /// `uuid`: a fresh UUID v4 (a string).
    Uuid,
    /// `"text"`: a string literal; the escape for a literal `{{`.
    Literal(String),
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dotted = |root: &str, head: &str, path: &[String]| {
            let mut s = format!("{root}.{head}");
            for p in path {
                s.push('.');
                s.push_str(p);
            }
            s
        };
        match self {
            Expr::Var { name, path } => f.write_str(&dotted("vars", name, path)),
            Expr::Step { id, path } => f.write_str(&dotted("steps", id, path)),
            Expr::Fake(k) => write!(f, "fake.{}", k.as_str()),
            Expr::Env {
                name,
                default: None,
            } => write!(f, "env.{name}"),
            Expr::Env {
                name,
                default: Some(d),
            } => write!(f, "env.{name} | default({d:?})"),
            Expr::Now => f.write_str("now"),
            Expr::Uuid => f.write_str("uuid"),
            Expr::Literal(s) => write!(f, "{s:?}"),
        }
    }
}

/// Names a template may start with, for "did you mean".
pub const ROOTS: [&str; 6] = ["vars", "steps", "fake", "env", "now", "uuid"];

/// The byte index of the `}}` closing an expression, skipping quoted strings.
pub(crate) fn find_close(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut i = 0;
    let mut quote: Option<u8> = None;
    while i < b.len() {
        match (quote, b[i]) {
            (Some(_), b'\\') => i += 1,
            (Some(q), c) if c == q => quote = None,
            (None, b'"' | b'\'') => quote = Some(b[i]),
            (None, b'}') if b.get(i + 1) == Some(&b'}') => return Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

const FORMS: &str = "a template is one of: vars.NAME, steps.ID.data.FIELD, fake.email|name|ip|user_agent|url, \
     env.NAME | default(\"x\"), now, uuid, or a quoted string";

pub(crate) fn parse_expr(inner: &str) -> Result<Expr, String> {
    let t = inner.trim();
    if t.is_empty() {
        return Err(format!("the expression is empty; {FORMS}"));
    }
    if t.starts_with(['"', '\'']) {
        let (s, rest) = parse_string(t)?;
        if !rest.trim().is_empty() {
            return Err(format!("unexpected {:?} after the string", rest.trim()));
        }
        return Ok(Expr::Literal(s));
    }
    let (path_text, filter) = match t.find('|') {
        Some(i) => (t[..i].trim(), Some(t[i + 1..].trim())),
        None => (t, None),
    };
    let segs: Vec<&str> = path_text.split('.').map(str::trim).collect();
    for s in &segs {
        if s.is_empty()
            || !s
                .chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
        {
            return Err(format!(
                "{path_text:?} is not a name path (names use letters, digits, _ and -, joined by dots); {FORMS}"
            ));
        }
    }
    let owned = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let expr = match segs.as_slice() {
        ["vars", name, path @ ..] => Expr::Var { name: name.to_string(), path: owned(path) },
        ["vars"] => return Err("`vars` needs a name: vars.NAME".into()),
        ["steps", id, path @ ..] if !path.is_empty() => Expr::Step { id: id.to_string(), path: owned(path) },
        ["steps", ..] => {
            return Err("`steps` needs a step id and a path: steps.ID.data.FIELD".into());
        }
        ["fake", kind] => {
            let names = FakeKind::ALL.iter().map(|(_, n)| *n);
            match FakeKind::ALL.iter().find(|(_, n)| n == kind) {
                Some((k, _)) => Expr::Fake(*k),
                None => {
                    let hint = did_you_mean(kind, names.clone())
                        .map(|n| format!(" (did you mean fake.{n}?)"))
                        .unwrap_or_default();
                    let all: Vec<&str> = names.collect();
                    return Err(format!(
                        "unknown generator fake.{kind}{hint}; there are: fake.{}",
                        all.join(", fake.")
                    ));
                }
            }
        }
        ["fake", ..] => return Err("`fake` takes one generator: fake.email, fake.name, fake.ip, fake.user_agent or fake.url".into()),
        ["env", name] => Expr::Env { name: name.to_string(), default: None },
        ["env", ..] => return Err("`env` takes one variable name: env.NAME".into()),
        ["now"] => Expr::Now,
        ["uuid"] => Expr::Uuid,
        [root, ..] => {
            let hint = did_you_mean(root, ROOTS)
                .map(|n| format!(" (did you mean `{n}`?)"))
                .unwrap_or_default();
            return Err(format!("unknown name `{root}`{hint}; {FORMS}"));
        }
        [] => return Err(format!("the expression is empty; {FORMS}")),
    };
    match (filter, expr) {
        (None, e) => Ok(e),
        (
            Some(f),
            Expr::Env {
                name,
                default: None,
            },
        ) => Ok(Expr::Env {
            name,
            default: Some(parse_default(f)?),
        }),
        (Some(f), _) => Err(format!(
            "`| {f}`: filters apply to env.NAME only (`env.NAME | default(\"x\")`); vars and steps are checked when the file loads"
        )),
    }
}

/// `default("x")` (or a bare number or word inside the parentheses).
fn parse_default(f: &str) -> Result<String, String> {
    let bad = || format!("unknown filter `{f}`; the one filter is default(\"value\")");
    let args = f
        .strip_prefix("default")
        .map(str::trim_start)
        .and_then(|r| r.strip_prefix('('))
        .and_then(|r| r.trim_end().strip_suffix(')'))
        .ok_or_else(bad)?
        .trim();
    if args.starts_with(['"', '\'']) {
        let (s, rest) = parse_string(args)?;
        if rest.trim().is_empty() {
            return Ok(s);
        }
        return Err(format!(
            "default(...) takes one value; unexpected {:?}",
            rest.trim()
        ));
    }
    if !args.is_empty()
        && args
            .chars()
            .all(|c| c.is_alphanumeric() || "._-".contains(c))
    {
        return Ok(args.to_string());
    }
    Err("default(...) needs a value: default(\"x\")".into())
}

/// A quoted string at the start of `s` (either quote, `\\` and `\"` escapes) and the rest.
fn parse_string(s: &str) -> Result<(String, &str), String> {
    let mut chars = s.char_indices();
    let Some((_, q)) = chars.next() else {
        return Err("expected a string".into());
    };
    let mut out = String::new();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some((_, e)) => out.push(match e {
                    'n' => '\n',
                    't' => '\t',
                    other => other,
                }),
                None => break,
            },
            c if c == q => return Ok((out, &s[i + c.len_utf8()..])),
            c => out.push(c),
        }
    }
    Err(format!("the string {s:?} has no closing {q}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(src: &str) -> String {
        parse_expr(src).unwrap_err()
    }

    #[test]
    fn every_form_parses() {
        assert_eq!(
            parse_expr(" vars.a.b.0 ").unwrap(),
            Expr::Var {
                name: "a".into(),
                path: vec!["b".into(), "0".into()]
            }
        );
        assert_eq!(
            parse_expr("steps.first.data.message_id")
                .unwrap()
                .to_string(),
            "steps.first.data.message_id"
        );
        assert_eq!(parse_expr("fake.ip").unwrap(), Expr::Fake(FakeKind::Ip));
        assert_eq!(
            parse_expr(r#"env.X | default("a \"b\"")"#).unwrap(),
            Expr::Env {
                name: "X".into(),
                default: Some("a \"b\"".into())
            }
        );
        assert_eq!(parse_expr("now").unwrap(), Expr::Now);
        assert_eq!(parse_expr("uuid").unwrap(), Expr::Uuid);
        assert_eq!(parse_expr("'{{'").unwrap(), Expr::Literal("{{".into()));
    }

    #[test]
    fn mistakes_name_the_valid_forms() {
        assert!(err("").contains("empty"));
        assert!(err("var.x").contains("did you mean `vars`"));
        assert!(err("fake.mail").contains("did you mean fake.email"));
        assert!(err("fake").contains("fake.email"));
        assert!(err("vars").contains("vars.NAME"));
        assert!(err("steps.first").contains("steps.ID.data.FIELD"));
        assert!(err("env.A.B").contains("env.NAME"));
        assert!(err("vars.a | upper").contains("env.NAME only"));
        assert!(err("env.A | upper").contains("unknown filter"));
        assert!(err("env.A | default()").contains("needs a value"));
        assert!(err("vars.a b").contains("not a name path"));
        assert!(err("\"open").contains("no closing"));
        assert!(err("'a' 'b'").contains("after the string"));
        assert!(err("nowz").contains("did you mean `now`"));
    }

    #[test]
    fn closing_braces_inside_strings_do_not_close() {
        assert_eq!(find_close(r#" "}}" }}"#), Some(6));
        assert_eq!(find_close(" vars.a "), None);
        assert_eq!(find_close(r#" "\"}}" }}"#), Some(8));
    }
}
