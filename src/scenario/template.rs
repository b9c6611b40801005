//! The template language of scenario values: `{{ vars.x }}`, `{{ steps.ID.data.f }}`,
//! `{{ fake.email }}`, `{{ env.NAME | default("x") }}`, `{{ now }}`, `{{ uuid }}`, and
//! `{{ "{{" }}` to write a literal `{{`. Parsing (syntax) happens while the YAML is read;
//! references are checked by `refs.rs`; rendering asks a [`TemplateContext`] the runtime
//! supplies. A value that is exactly one template keeps the referenced value's type.

use std::fmt;

use serde_json::Value;

use super::model::Pos;
use crate::InputError;
use crate::error::did_you_mean;

pub use super::expr::{Expr, FakeKind};
use super::expr::{find_close, parse_expr};

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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;

    /// A context with fixed answers, for tests.
    pub(crate) struct Fixed {
        pub vars: serde_json::Map<String, Value>,
        pub steps: serde_json::Map<String, Value>,
        pub counter: u128,
    }

    impl Fixed {
        pub fn new() -> Self {
            let vars = json!({"id": 790, "c": {"name": "Spring", "tags": ["a", "b"]}});
            let steps = json!({"first": {"event": "email.sent", "data": {"message_id": "<m@x>"}}});
            Fixed {
                vars: vars.as_object().cloned().unwrap_or_default(),
                steps: steps.as_object().cloned().unwrap_or_default(),
                counter: 0,
            }
        }
    }

    impl TemplateContext for Fixed {
        fn var(&self, name: &str) -> Option<&Value> {
            self.vars.get(name)
        }
        fn step(&self, id: &str) -> Option<&Value> {
            self.steps.get(id)
        }
        fn fake(&mut self, kind: FakeKind) -> String {
            format!("fake-{}", kind.as_str())
        }
        fn env(&self, name: &str) -> Option<String> {
            (name == "HOME_URL").then(|| "https://home".to_string())
        }
        fn now(&self) -> chrono::DateTime<chrono::Utc> {
            chrono::DateTime::from_timestamp(1_710_498_600, 0).unwrap_or_default()
        }
        fn uuid(&mut self) -> uuid::Uuid {
            self.counter += 1;
            uuid::Uuid::from_u128(self.counter)
        }
    }

    fn render(src: &str) -> Result<Value, RenderError> {
        Template::parse(src).unwrap().render(&mut Fixed::new())
    }

    #[test]
    fn a_whole_template_keeps_the_type_and_text_interpolates() {
        assert_eq!(render("{{ vars.id }}").unwrap(), json!(790));
        assert_eq!(
            render("{{vars.c}}").unwrap(),
            json!({"name": "Spring", "tags": ["a", "b"]})
        );
        assert_eq!(render("{{ vars.c.tags.1 }}").unwrap(), json!("b"));
        assert_eq!(render("id {{ vars.id }}!").unwrap(), json!("id 790!"));
        assert_eq!(render(" {{ vars.id }}").unwrap(), json!(" 790"));
        assert_eq!(
            render("{{ steps.first.data.message_id }}").unwrap(),
            json!("<m@x>")
        );
    }

    #[test]
    fn generators_env_now_and_uuid() {
        assert_eq!(
            render("{{ fake.user_agent }}").unwrap(),
            json!("fake-user_agent")
        );
        assert_eq!(
            render("{{ env.HOME_URL | default(\"x\") }}/p").unwrap(),
            json!("https://home/p")
        );
        assert_eq!(
            render("{{ env.NOPE | default('fallback') }}").unwrap(),
            json!("fallback")
        );
        assert_eq!(render("{{ env.NOPE | default(42) }}").unwrap(), json!("42"));
        assert_eq!(render("{{ now }}").unwrap(), json!("2024-03-15T10:30:00Z"));
        let t = Template::parse("{{ uuid }} {{ uuid }}").unwrap();
        let v = t.render(&mut Fixed::new()).unwrap();
        assert_eq!(
            v,
            json!("00000000-0000-0000-0000-000000000001 00000000-0000-0000-0000-000000000002")
        );
    }

    #[test]
    fn the_escape_writes_a_literal_double_brace() {
        let t = Template::parse(r#"a {{ "{{" }} b }} c"#).unwrap();
        assert!(t.is_plain());
        assert_eq!(t.render(&mut Fixed::new()).unwrap(), json!("a {{ b }} c"));
        let t = Template::parse(r#"{{ "}}" }}"#).unwrap();
        assert_eq!(t.render(&mut Fixed::new()).unwrap(), json!("}}"));
    }

    #[test]
    fn render_errors_say_what_is_missing() {
        let e = render("{{ env.NOPE }}").unwrap_err().to_string();
        assert!(
            e.contains("NOPE is not set") && e.contains("default("),
            "{e}"
        );
        let e = render("{{ steps.later.data.x }}").unwrap_err().to_string();
        assert!(e.contains("has not sent an event yet"), "{e}");
        let e = render("{{ steps.first.data.mesage_id }}")
            .unwrap_err()
            .to_string();
        assert!(e.contains("did you mean \"message_id\""), "{e}");
        let e = render("{{ vars.id.x }}").unwrap_err().to_string();
        assert!(e.contains("it is a number"), "{e}");
        let mut t = Template::parse("{{ vars.nope }}").unwrap();
        t.pos = Some(Pos { line: 3, column: 9 });
        let e = t.render(&mut Fixed::new()).unwrap_err();
        assert_eq!(e.pos, Some(Pos { line: 3, column: 9 }));
        assert!(InputError::from(e).0.starts_with("line 3, column 9: "));
    }
}
