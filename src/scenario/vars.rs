//! Vars at run time and on the command line: rendering every var in dependency order
//! (each sees the ones before it), and `--set vars.NAME[.KEY...]=VALUE`, which edits a
//! copy and keeps it only if every template still checks.

use serde_json::{Map, Value};

use super::diag::hint;
use super::model::{Scenario, Vars};
use super::refs::verify;
use super::template::{FakeKind, RenderError, TemplateContext};
use super::value::TValue;
use crate::InputError;

impl Vars {
    /// The value of var `name`, templates unrendered.
    pub fn get(&self, name: &str) -> Option<&TValue> {
        self.entries.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// (name, value) in render order: a var comes after the vars it references.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &TValue)> {
        self.entries.iter().map(|(n, v)| (n.as_str(), v))
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Renders every var in order; `ctx.var` is not consulted (each var sees the ones
    /// rendered before it). The runtime keeps the map and answers `var()` from it.
    pub fn render(&self, ctx: &mut dyn TemplateContext) -> Result<Map<String, Value>, RenderError> {
        let mut done = Map::new();
        for (name, value) in &self.entries {
            let v = value.render(&mut Overlay {
                inner: &mut *ctx,
                vars: &done,
            })?;
            done.insert(name.clone(), v);
        }
        Ok(done)
    }
}

/// A context whose vars are the ones rendered so far.
struct Overlay<'a> {
    inner: &'a mut dyn TemplateContext,
    vars: &'a Map<String, Value>,
}

impl TemplateContext for Overlay<'_> {
    fn var(&self, name: &str) -> Option<&Value> {
        self.vars.get(name)
    }
    fn step(&self, id: &str) -> Option<&Value> {
        self.inner.step(id)
    }
    fn fake(&mut self, kind: FakeKind) -> String {
        self.inner.fake(kind)
    }
    fn env(&self, name: &str) -> Option<String> {
        self.inner.env(name)
    }
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.inner.now()
    }
    fn uuid(&mut self) -> uuid::Uuid {
        self.inner.uuid()
    }
}

/// `--set vars.NAME[.KEY...]=VALUE`.
pub(crate) fn apply_set(s: &mut Scenario, assignment: &str) -> Result<(), InputError> {
    let bad = |m: String| InputError::new(format!("--set {assignment}: {m}"));
    let Some((path, value)) = assignment.split_once('=') else {
        return Err(bad(
            "expected PATH=VALUE, e.g. --set vars.campaign_id=791".into()
        ));
    };
    let segs: Vec<&str> = path.trim().split('.').collect();
    let names: Vec<&str> = s.vars.iter().map(|(n, _)| n).collect();
    let (name, rest) = match segs.as_slice() {
        ["vars", name, rest @ ..] => (*name, rest),
        _ => {
            return Err(bad(format!(
                "a scenario's --set paths start with vars. (vars.NAME=VALUE){}",
                match names.first() {
                    Some(n) => format!("; e.g. --set vars.{n}=..."),
                    None => String::new(),
                }
            )));
        }
    };
    let Some(index) = s.vars.entries.iter().position(|(n, _)| n == name) else {
        let known = match names.is_empty() {
            true => format!("{} defines no vars", s.origin),
            false => format!("the vars of {} are: {}", s.origin, names.join(", ")),
        };
        return Err(bad(format!(
            "unknown path vars.{name}{}; {known}",
            hint(name, &names)
        )));
    };
    let new = parse_set_value(value).map_err(bad)?;
    let mut vars = s.vars.clone();
    set_path(&mut vars.entries[index].1, rest, new).map_err(|m| bad(format!("vars.{name}{m}")))?;
    let mut next = s.clone();
    next.vars = vars;
    verify(&mut next).map_err(|p| bad(p.render(&s.origin, &s.source.0).0))?;
    *s = next;
    Ok(())
}

/// VALUE as YAML: `791` is an integer, `true` a boolean, `[1, 2]` a list, text a string.
fn parse_set_value(value: &str) -> Result<TValue, String> {
    // Unquoted `{{` is a YAML flow mapping; on a command line it means a template.
    if value.trim().is_empty() || value.contains("{{") {
        return TValue::from_text(value);
    }
    serde_saphyr::from_str::<TValue>(value)
        .map_err(|e| format!("cannot read the value: {}", e.without_snippet()))
}

/// Replaces the value at `path` (keys or list indexes) inside `target`.
fn set_path(target: &mut TValue, path: &[&str], new: TValue) -> Result<(), String> {
    let Some((seg, rest)) = path.split_first() else {
        *target = new;
        return Ok(());
    };
    // Open literal containers so a template can be put inside them.
    if let TValue::Literal(v @ (Value::Object(_) | Value::Array(_))) = target {
        *target = match std::mem::take(v) {
            Value::Object(m) => TValue::Map(
                m.into_iter()
                    .map(|(k, v)| (k, TValue::Literal(v)))
                    .collect(),
            ),
            Value::Array(a) => TValue::Seq(a.into_iter().map(TValue::Literal).collect()),
            _ => unreachable_literal(),
        };
    }
    match target {
        TValue::Map(entries) => {
            let keys: Vec<&str> = entries.iter().map(|(k, _)| k.as_str()).collect();
            let msg = format!(
                " has no field {seg:?}{}; it has: {}",
                hint(seg, &keys),
                keys.join(", ")
            );
            match entries.iter_mut().find(|(k, _)| k == seg) {
                Some((_, v)) => set_path(v, rest, new).map_err(|m| format!(".{seg}{m}")),
                None => Err(msg),
            }
        }
        TValue::Seq(items) => {
            let len = items.len();
            match seg.parse::<usize>().ok().and_then(|i| items.get_mut(i)) {
                Some(v) => set_path(v, rest, new).map_err(|m| format!(".{seg}{m}")),
                None => Err(format!(" is a list of {len}; no item {seg:?}")),
            }
        }
        _ => Err(format!(
            " is not a mapping, so it has no field {seg:?}; set the whole var instead"
        )),
    }
}

/// Unreachable by the match above; a value rather than a panic all the same.
fn unreachable_literal() -> TValue {
    TValue::Literal(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::template::tests::Fixed;
    use serde_json::json;

    const FILE: &str = "version: 1
vars:
  greeting: 'hello {{ vars.who }}'
  who: '{{ vars.first }} {{ vars.last }}'
  first: Ana
  last: '{{ fake.name }}'
  both: { g: '{{ vars.greeting }}', n: 3 }
steps:
  - raw: { body: '{{ vars.both.g }}' }
";

    #[test]
    fn vars_render_in_dependency_order() {
        let s = crate::scenario::load_str(FILE, "v.yaml").unwrap();
        let order: Vec<&str> = s.vars.iter().map(|(n, _)| n).collect();
        let pos = |n: &str| order.iter().position(|o| *o == n).unwrap();
        assert!(pos("first") < pos("who") && pos("last") < pos("who"));
        assert!(pos("who") < pos("greeting") && pos("greeting") < pos("both"));
        let mut ctx = Fixed::new();
        ctx.vars.clear(); // Vars::render must not read the runtime's vars
        let out = s.vars.render(&mut ctx).unwrap();
        assert_eq!(out["greeting"], json!("hello Ana fake-name"));
        assert_eq!(out["both"], json!({"g": "hello Ana fake-name", "n": 3}));
    }

    #[test]
    fn set_replaces_nested_values_and_lists() {
        let mut s = crate::scenario::load_str(FILE, "v.yaml").unwrap();
        apply_set(&mut s, "vars.both.n=[1, 2]").unwrap();
        apply_set(&mut s, "vars.both.n.1=7").unwrap();
        apply_set(&mut s, "vars.first=").unwrap();
        let out = s.vars.render(&mut Fixed::new()).unwrap();
        assert_eq!(out["both"]["n"], json!([1, 7]));
        assert_eq!(out["first"], json!(""));
        let e = apply_set(&mut s, "vars.both.n.5=1").unwrap_err().0;
        assert!(e.contains("list of 2"), "{e}");
        let e = apply_set(&mut s, "vars.first.x=1").unwrap_err().0;
        assert!(e.contains("not a mapping"), "{e}");
        let e = apply_set(&mut s, "vars.first={{ vars.nope }}")
            .unwrap_err()
            .0;
        assert!(e.contains("no var \"nope\""), "{e}");
        let e = apply_set(&mut s, "vars.first=1.5").unwrap_err().0;
        assert!(e.contains("integers only"), "{e}");
    }
}
