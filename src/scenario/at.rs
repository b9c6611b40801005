//! [`At<T>`]: a value read from YAML together with where it was written, so checks that
//! run after parsing (event names, template references, funnel shares) can still point
//! at the line and column. Schema-wise it is just `T`.

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::Deserializer;

use super::model::Pos;

/// A value and its position (the definition site, for values reached through an alias).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct At<T> {
    pub value: T,
    pub pos: Pos,
}

impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for At<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = serde_saphyr::Spanned::<T>::deserialize(d)?;
        let loc = s.defined;
        // Location::UNKNOWN (another deserializer, e.g. serde_json in tests) is 0:0.
        let pos = Pos {
            line: u32::try_from(loc.line()).unwrap_or(u32::MAX),
            column: u32::try_from(loc.column()).unwrap_or(u32::MAX),
        };
        Ok(At {
            value: s.value,
            pos,
        })
    }
}

impl<T: JsonSchema> JsonSchema for At<T> {
    fn inline_schema() -> bool {
        T::inline_schema()
    }
    fn schema_name() -> std::borrow::Cow<'static, str> {
        T::schema_name()
    }
    fn schema_id() -> std::borrow::Cow<'static, str> {
        T::schema_id()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        T::json_schema(generator)
    }
}
