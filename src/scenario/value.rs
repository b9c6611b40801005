//! [`TValue`]: a YAML value that may hold templates (`vars:` values, `data:`, campaign
//! ids). Read from YAML with each template's position kept, rendered to JSON by the
//! runtime. Numbers must survive a JavaScript re-serialization: integers within 2^53,
//! no floats (SPEC 2: payloads carry integers only).

use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::at::At;
use super::model::Pos;
use super::template::{RenderError, Template, TemplateContext};

/// A value with templates in it. Subtrees without templates are kept as one `Literal`.
#[derive(Debug, Clone, PartialEq)]
pub enum TValue {
    /// A value with no template anywhere in it.
    Literal(Value),
    /// A string with `{{ ... }}` in it.
    Template(Template),
    /// A list with at least one template inside.
    Seq(Vec<TValue>),
    /// A mapping with at least one template inside, keys in file order.
    Map(Vec<(String, TValue)>),
}

/// Largest integer JavaScript's `JSON.parse` keeps exactly.
const JS_SAFE: u64 = (1 << 53) - 1;

impl Default for TValue {
    fn default() -> Self {
        TValue::Literal(Value::Object(Map::new()))
    }
}

impl TValue {
    /// Renders every template; literals are cloned.
    pub fn render(&self, ctx: &mut dyn TemplateContext) -> Result<Value, RenderError> {
        Ok(match self {
            TValue::Literal(v) => v.clone(),
            TValue::Template(t) => t.render(ctx)?,
            TValue::Seq(items) => Value::Array(
                items
                    .iter()
                    .map(|i| i.render(ctx))
                    .collect::<Result<_, _>>()?,
            ),
            TValue::Map(entries) => {
                let mut m = Map::with_capacity(entries.len());
                for (k, v) in entries {
                    m.insert(k.clone(), v.render(ctx)?);
                }
                Value::Object(m)
            }
        })
    }

    /// The value when it holds no template.
    pub fn as_literal(&self) -> Option<&Value> {
        match self {
            TValue::Literal(v) => Some(v),
            _ => None,
        }
    }

    /// True for a mapping (literal or templated).
    pub fn is_map(&self) -> bool {
        matches!(self, TValue::Map(_) | TValue::Literal(Value::Object(_)))
    }

    /// Every template inside, depth first in file order.
    pub fn templates(&self) -> Vec<&Template> {
        let mut out = Vec::new();
        self.collect(&mut out);
        out
    }

    fn collect<'a>(&'a self, out: &mut Vec<&'a Template>) {
        match self {
            TValue::Literal(_) => {}
            TValue::Template(t) => out.push(t),
            TValue::Seq(items) => items.iter().for_each(|i| i.collect(out)),
            TValue::Map(entries) => entries.iter().for_each(|(_, v)| v.collect(out)),
        }
    }

    /// A string value: a template when it has `{{`, else a literal string.
    pub fn from_text(text: &str) -> Result<TValue, String> {
        if !text.contains("{{") {
            return Ok(TValue::Literal(Value::String(text.to_string())));
        }
        let t = Template::parse(text)?;
        if t.is_plain() {
            // Only escapes: the rendered text is fixed.
            let s = t.render_string(&mut NoContext).unwrap_or_default();
            return Ok(TValue::Literal(Value::String(s)));
        }
        Ok(TValue::Template(t))
    }

    /// Records where a template came from (a no-op for other values).
    pub(crate) fn set_pos(&mut self, pos: Pos) {
        if let TValue::Template(t) = self {
            t.pos = Some(pos);
        }
    }

    fn seq(items: Vec<TValue>) -> TValue {
        match items.iter().all(|i| i.as_literal().is_some()) {
            true => TValue::Literal(Value::Array(
                items
                    .into_iter()
                    .filter_map(|i| i.as_literal().cloned())
                    .collect(),
            )),
            false => TValue::Seq(items),
        }
    }

    fn map(entries: Vec<(String, TValue)>) -> TValue {
        if !entries.iter().all(|(_, v)| v.as_literal().is_some()) {
            return TValue::Map(entries);
        }
        let mut m = Map::with_capacity(entries.len());
        for (k, v) in entries {
            if let TValue::Literal(v) = v {
                m.insert(k, v);
            }
        }
        TValue::Literal(Value::Object(m))
    }
}

/// Renders plain templates (escapes only); never asked for anything.
struct NoContext;
impl TemplateContext for NoContext {
    fn var(&self, _: &str) -> Option<&Value> {
        None
    }
    fn step(&self, _: &str) -> Option<&Value> {
        None
    }
    fn fake(&mut self, _: super::template::FakeKind) -> String {
        String::new()
    }
    fn env(&self, _: &str) -> Option<String> {
        None
    }
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::DateTime::UNIX_EPOCH
    }
    fn uuid(&mut self) -> uuid::Uuid {
        uuid::Uuid::nil()
    }
}

impl<'de> serde::Deserialize<'de> for TValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TValueVisitor)
    }
}

struct TValueVisitor;

impl<'de> Visitor<'de> for TValueVisitor {
    type Value = TValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a value: string, integer, boolean, null, list or mapping")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<TValue, E> {
        Ok(TValue::Literal(Value::Bool(v)))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<TValue, E> {
        if v > JS_SAFE {
            return Err(E::custom(format!(
                "the integer {v} is beyond 2^53, where JavaScript's JSON.parse changes it; quote it to send a string"
            )));
        }
        Ok(TValue::Literal(Value::from(v)))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<TValue, E> {
        if v.unsigned_abs() > JS_SAFE {
            return Err(E::custom(format!(
                "the integer {v} is beyond 2^53, where JavaScript's JSON.parse changes it; quote it to send a string"
            )));
        }
        Ok(TValue::Literal(Value::from(v)))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<TValue, E> {
        Err(E::custom(format!(
            "the number {v:?} is a float; payloads carry integers only, because a float's text can change \
             when a receiver re-serializes it (1.0 becomes 1); quote it to send a string, e.g. \"{v:?}\""
        )))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<TValue, E> {
        TValue::from_text(v).map_err(E::custom)
    }
    fn visit_unit<E: de::Error>(self) -> Result<TValue, E> {
        Ok(TValue::Literal(Value::Null))
    }
    fn visit_none<E: de::Error>(self) -> Result<TValue, E> {
        Ok(TValue::Literal(Value::Null))
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<TValue, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<TValue, A::Error> {
        let mut items = Vec::new();
        while let Some(At { mut value, pos }) = seq.next_element::<At<TValue>>()? {
            value.set_pos(pos);
            items.push(value);
        }
        Ok(TValue::seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TValue, A::Error> {
        let mut entries: Vec<(String, TValue)> = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            let At { mut value, pos } = map.next_value::<At<TValue>>()?;
            value.set_pos(pos);
            entries.push((key, value));
        }
        Ok(TValue::map(entries))
    }
}

impl JsonSchema for TValue {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Value".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "Any value; strings may hold templates such as {{ vars.x }}, {{ fake.email }}. \
                            Numbers are integers (no floats).",
            "type": ["string", "integer", "boolean", "null", "array", "object"]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn yaml(text: &str) -> Result<TValue, String> {
        serde_saphyr::from_str::<TValue>(text).map_err(|e| e.to_string())
    }

    #[test]
    fn template_free_trees_collapse_to_one_literal() {
        assert_eq!(
            yaml("{a: 1, b: [x, true, null]}").unwrap(),
            TValue::Literal(json!({"a": 1, "b": ["x", true, null]}))
        );
        let v = yaml("{a: 1, b: [x, '{{ uuid }}']}").unwrap();
        let TValue::Map(entries) = &v else {
            panic!("{v:?}")
        };
        assert_eq!(entries[0], ("a".to_string(), TValue::Literal(json!(1))));
        assert_eq!(v.templates().len(), 1);
        // The template knows where it was written.
        assert_eq!(
            v.templates()[0].pos,
            Some(Pos {
                line: 1,
                column: 15
            })
        );
    }

    #[test]
    fn numbers_that_a_javascript_receiver_would_change_are_refused() {
        assert!(yaml("1.5").unwrap_err().contains("integers only"));
        assert!(yaml("9007199254740993").unwrap_err().contains("2^53"));
        assert!(yaml("-9007199254740993").unwrap_err().contains("2^53"));
        assert_eq!(
            yaml("9007199254740991").unwrap(),
            TValue::Literal(json!(9_007_199_254_740_991u64))
        );
        assert_eq!(yaml("'1.5'").unwrap(), TValue::Literal(json!("1.5")));
    }

    #[test]
    fn escapes_only_give_a_literal_string() {
        assert_eq!(
            TValue::from_text(r#"{{ "{{" }}x}}"#).unwrap(),
            TValue::Literal(json!("{{x}}"))
        );
        assert!(TValue::from_text("{{ nope }}").is_err());
    }
}
