//! The template language of scenario values: `{{ vars.x }}`, `{{ steps.ID.data.f }}`,
//! `{{ fake.email }}`, `{{ env.NAME | default("x") }}`, `{{ now }}`, `{{ uuid }}`, and
//! `{{ "{{" }}` to write a literal `{{`. Parsing (syntax) happens while the YAML is read;
//! references are checked by `check.rs`; rendering asks a [`TemplateContext`] the runtime
//! supplies. A value that is exactly one template keeps the referenced value's type.

use std::fmt;

use serde_json::Value;

use super::model::Pos;
use crate::InputError;
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

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Text(String),
    Expr(Expr),
}

/// A string with `{{ ... }}` expressions, parsed. Build one with [`Template::parse`].
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    source: String,
    parts: Vec<Part>,
    /// Where the string sits in its file, when it came from one.
    pub pos: Option<Pos>,
}

/// What the runtime supplies to render templates.
pub trait TemplateContext {
    /// The rendered value of `vars.NAME` (see [`super::Vars::render`]).
    fn var(&self, name: &str) -> Option<&Value>;
    /// The body step `id` sent (the whole envelope, e.g. `{event, timestamp, data}`),
    /// or `None` if it has not run yet.
    fn step(&self, id: &str) -> Option<&Value>;
    /// A fresh value from the seeded generator.
    fn fake(&mut self, kind: FakeKind) -> String;
    /// An environment variable; the default reads the process environment.
    fn env(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
    /// Scenario time now.
    fn now(&self) -> chrono::DateTime<chrono::Utc>;
    /// A fresh UUID (seeded, so runs are reproducible).
    fn uuid(&mut self) -> uuid::Uuid;
}

/// A template that could not be rendered (an unset env var, a step that has not run,
/// a path that is not in the data). Converts into an [`InputError`] (exit code 2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderError {
    pub message: String,
    pub pos: Option<Pos>,
}

impl fmt::Display for RenderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.pos {
            Some(p) => write!(f, "line {}, column {}: {}", p.line, p.column, self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for RenderError {}

impl From<RenderError> for InputError {
    fn from(e: RenderError) -> Self {
        InputError::new(e.to_string())
    }
}

/// Names a template may start with, for "did you mean".
pub const ROOTS: [&str; 6] = ["vars", "steps", "fake", "env", "now", "uuid"];

impl Template {
    /// Parses `source`. Errors say which expression is wrong and what would be valid.
    pub fn parse(source: &str) -> Result<Template, String> {
        let mut parts = Vec::new();
        let mut rest = source;
        let mut text = String::new();
        while let Some(open) = rest.find("{{") {
            text.push_str(&rest[..open]);
            let after = &rest[open + 2..];
            let close = find_close(after).ok_or_else(|| {
                format!(
                    "unterminated template in {source:?}: `{{{{` opens an expression that never closes with `}}}}`; \
                     to send a literal `{{{{`, write {{{{ \"{{{{\" }}}}"
                )
            })?;
            let inner = &after[..close];
            let expr = parse_expr(inner).map_err(|why| format!("in `{{{{{inner}}}}}`: {why}"))?;
            match expr {
                Expr::Literal(s) => text.push_str(&s),
                e => {
                    if !text.is_empty() {
                        parts.push(Part::Text(std::mem::take(&mut text)));
                    }
                    parts.push(Part::Expr(e));
                }
            }
            rest = &after[close + 2..];
        }
        text.push_str(rest);
        if !text.is_empty() {
            parts.push(Part::Text(text));
        }
        Ok(Template {
            source: source.to_string(),
            parts,
            pos: None,
        })
    }

    /// The text as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// True when the text has no expression (a `{{ "{{" }}` escape leaves plain text).
    pub fn is_plain(&self) -> bool {
        self.parts.iter().all(|p| matches!(p, Part::Text(_)))
    }

    /// The expressions, in order.
    pub fn exprs(&self) -> impl Iterator<Item = &Expr> {
        self.parts.iter().filter_map(|p| match p {
            Part::Expr(e) => Some(e),
            Part::Text(_) => None,
        })
    }

    /// The value: the referenced value itself when the text is exactly one expression
    /// (`"{{ vars.id }}"` is the integer 790), otherwise the interpolated string.
    pub fn render(&self, ctx: &mut dyn TemplateContext) -> Result<Value, RenderError> {
        if let [Part::Expr(e)] = self.parts.as_slice() {
            return self.eval(e, ctx);
        }
        self.render_string(ctx).map(Value::String)
    }

    /// The interpolated string, whatever the parts are (for raw bodies and URLs).
    pub fn render_string(&self, ctx: &mut dyn TemplateContext) -> Result<String, RenderError> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Expr(e) => match self.eval(e, ctx)? {
                    Value::String(s) => out.push_str(&s),
                    Value::Null => {}
                    other => out.push_str(&other.to_string()),
                },
            }
        }
        Ok(out)
    }

    fn eval(&self, e: &Expr, ctx: &mut dyn TemplateContext) -> Result<Value, RenderError> {
        let err = |message: String| RenderError {
            message: format!("{{{{ {e} }}}}: {message}"),
            pos: self.pos,
        };
        match e {
            Expr::Var { name, path } => {
                let root = ctx
                    .var(name)
                    .ok_or_else(|| err(format!("vars.{name} is not defined")))?;
                walk(root, path).cloned().map_err(err)
            }
            Expr::Step { id, path } => {
                let root = ctx
                    .step(id)
                    .ok_or_else(|| err(format!("step {id:?} has not sent an event yet")))?;
                walk(root, path).cloned().map_err(err)
            }
            Expr::Fake(k) => Ok(Value::String(ctx.fake(*k))),
            Expr::Env { name, default } => match (ctx.env(name), default) {
                (Some(v), _) => Ok(Value::String(v)),
                (None, Some(d)) => Ok(Value::String(d.clone())),
                (None, None) => Err(err(format!(
                    "the environment variable {name} is not set; set it, or write {{{{ env.{name} | default(\"...\") }}}}"
                ))),
            },
            Expr::Now => Ok(Value::String(
                ctx.now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            )),
            Expr::Uuid => Ok(Value::String(ctx.uuid().to_string())),
            Expr::Literal(s) => Ok(Value::String(s.clone())),
        }
    }
}

/// Follows `path` (object keys, or array indexes) into `root`.
pub(crate) fn walk<'v>(root: &'v Value, path: &[String]) -> Result<&'v Value, String> {
    let mut cur = root;
    for (i, seg) in path.iter().enumerate() {
        let next = match cur {
            Value::Object(m) => m.get(seg),
            Value::Array(a) => seg.parse::<usize>().ok().and_then(|n| a.get(n)),
            _ => None,
        };
        cur = next.ok_or_else(|| {
            let at = path[..i].join(".");
            let at = if at.is_empty() {
                String::new()
            } else {
                format!(" in .{at}")
            };
            match cur {
                Value::Object(m) => {
                    let hint = did_you_mean(seg, m.keys().map(String::as_str))
                        .map(|n| format!(" (did you mean {n:?}?)"))
                        .unwrap_or_default();
                    let keys: Vec<&str> = m.keys().map(String::as_str).collect();
                    format!("no field {seg:?}{at}{hint}; it has: {}", keys.join(", "))
                }
                Value::Array(a) => format!("no item {seg:?}{at}: it is a list of {}", a.len()),
                other => format!("cannot read {seg:?}{at}: it is {}", kind_of(other)),
            }
        })?;
    }
    Ok(cur)
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// The byte index of the `}}` closing an expression, skipping quoted strings.
fn find_close(s: &str) -> Option<usize> {
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

fn parse_expr(inner: &str) -> Result<Expr, String> {
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
