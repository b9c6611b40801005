//! The scenario as YAML spells it: serde types that reject unknown keys and wrong types
//! while parsing (with positions), and that the JSON Schema is generated from, so the
//! schema editors use and the parser can never disagree. `check.rs` turns them into
//! the model.

use std::fmt;
use std::marker::PhantomData;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};

use super::at::At;
use super::faults::{FaultKind, RawFault};
use super::units::{Dur, LatencyBound, Percent, StatusSpec};
use super::value::TValue;
use crate::events::Flavor;
use crate::retry::RetryPolicy;

/// The top level of a scenario file.
#[derive(Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "a scenario: a mapping with `version: 1` and `steps:`"
)]
#[schemars(
    title = "cakemock scenario",
    description = "A cakemock scenario (SPEC section 4). Validate with `cakemock validate FILE`."
)]
pub(crate) struct RawScenario {
    /// The format version; must be 1.
    pub version: At<Version>,
    /// A name for reports.
    pub name: Option<String>,
    /// Seed of the random generator (--seed overrides); absent = random, printed in the summary.
    pub seed: Option<u64>,
    /// Wire format: docs (the webhook guide, default) or api (the OpenAPI).
    #[schemars(with = "Option<FlavorSchema>")]
    pub flavor: Option<Flavor>,
    /// Where to deliver (--target / --secret override); absent = the embedded receiver.
    pub target: Option<At<RawTarget>>,
    /// Values for templates: {{ vars.NAME }}. --set vars.NAME=VALUE overrides.
    pub vars: Option<OrderedMap<At<String>, At<TValue>>>,
    pub delivery: Option<RawDelivery>,
    /// Run-wide fault rules (SPEC 6).
    pub faults: Option<Vec<At<RawFault>>>,
    /// What to send, in order.
    #[schemars(with = "Vec<RawStepDef>")]
    pub steps: At<Option<Vec<At<RawStepDef>>>>,
    /// Checked at the end of the run; any miss = exit code 1.
    pub expect: Option<RawExpect>,
}

/// `version:` (any YAML value, so a wrong one gets a precise message).
pub(crate) struct Version(pub serde_json::Value);

impl<'de> Deserialize<'de> for Version {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        serde_json::Value::deserialize(d).map(Version)
    }
}

impl JsonSchema for Version {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Version".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "const": 1, "description": "The format version; must be 1." })
    }
}

#[derive(JsonSchema)]
#[serde(rename_all = "lowercase")]
#[schemars(rename = "Flavor")]
#[allow(dead_code)] // schema only
enum FlavorSchema {
    /// The webhook guide: dotted names, hex signature.
    Docs,
    /// The published OpenAPI: PascalCase names, base64 signature.
    Api,
}

#[derive(Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "a target: {url: URL, secret_env: NAME, signature: SCHEME, signature_header: NAME}"
)]
#[schemars(rename = "Target")]
pub(crate) struct RawTarget {
    /// The receiver's URL (http:// or https://).
    pub url: Option<At<String>>,
    /// The environment variable holding the signing secret.
    pub secret_env: Option<At<String>>,
    /// The signing secret itself (prefer secret_env: files get committed).
    pub secret: Option<String>,
    /// The signature scheme (default: the flavor's; --signature overrides).
    pub signature: Option<crate::sign::Scheme>,
    /// Send the signature in this header instead of the scheme's own.
    pub signature_header: Option<At<String>>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "delivery settings: {timeout, retry, concurrency}"
)]
#[schemars(rename = "Delivery")]
pub(crate) struct RawDelivery {
    /// Per-attempt timeout (default 5s).
    pub timeout: Option<Dur>,
    /// A retry preset (none, fast, cakemail, svix, standard) or a list of delays: [0s, 1s, 5s].
    #[schemars(with = "Option<RetrySchema>")]
    pub retry: Option<RetryPolicy>,
    /// Most deliveries in flight at once.
    #[schemars(range(min = 1, max = 10000))]
    pub concurrency: Option<At<u64>>,
}

struct RetrySchema;
impl JsonSchema for RetrySchema {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Retry".into()
    }
    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        let names: Vec<&str> = crate::retry::PRESETS.iter().map(|(n, _)| *n).collect();
        let dur = g.subschema_for::<Dur>();
        json_schema!({
            "description": "A retry preset or the list of delays before each retry.",
            "anyOf": [ { "enum": names }, { "type": "array", "items": dur } ]
        })
    }
}

/// One step: exactly one of event, wait, repeat, parallel, campaign, raw; plus
/// optional id, after, expect, faults (and data, contact for events).
#[derive(Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "a step: a mapping with one of event, wait, repeat, parallel, campaign, raw"
)]
#[schemars(
    rename = "Step",
    extend("oneOf" = [
        {"required": ["event"]}, {"required": ["wait"]}, {"required": ["repeat"]},
        {"required": ["parallel"]}, {"required": ["campaign"]}, {"required": ["raw"]}
    ])
)]
pub(crate) struct RawStepDef {
    /// A name later templates can read: {{ steps.ID.data.FIELD }}.
    #[schemars(regex(pattern = r"^[A-Za-z0-9_-]+$"))]
    pub id: Option<At<String>>,
    /// Scenario time after the previous step.
    pub after: Option<Dur>,
    /// What the receiver must answer to this step's events.
    pub expect: Option<RawStepExpect>,
    /// Fault rules for this step's events only.
    pub faults: Option<Vec<At<RawFault>>>,
    /// Send one event of this name (checked against the flavor).
    #[schemars(with = "Option<EventName>")]
    pub event: Option<At<String>>,
    /// Fields deep-merged into the generated data; values may be templates.
    pub data: Option<At<TValue>>,
    /// Steps naming the same contact share contact_id, email and message_id.
    pub contact: Option<At<String>>,
    /// Advance scenario time.
    pub wait: Option<Dur>,
    /// Run steps several times.
    pub repeat: Option<At<RawRepeat>>,
    /// Steps that start at the same scenario time.
    pub parallel: Option<Vec<At<RawStepDef>>>,
    /// N contacts through a funnel.
    pub campaign: Option<At<RawCampaign>>,
    /// A body sent verbatim (templates rendered), signed.
    pub raw: Option<At<RawRawDef>>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "a step expectation: {status: 2xx, within: 1s}"
)]
#[schemars(rename = "StepExpect")]
pub(crate) struct RawStepExpect {
    /// The status the final answer must have: 200, 2xx or [200, 202].
    pub status: Option<StatusSpec>,
    /// The final answer must come within this time.
    pub within: Option<Dur>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "repeat: {times: N, steps: [...]}")]
#[schemars(rename = "Repeat")]
pub(crate) struct RawRepeat {
    #[schemars(range(min = 1))]
    pub times: At<u64>,
    pub steps: At<Vec<At<RawStepDef>>>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "campaign: {id, contacts, over, funnel}"
)]
#[schemars(rename = "Campaign")]
pub(crate) struct RawCampaign {
    /// The campaign id (e.g. "{{ vars.campaign_id }}"); absent = generated.
    pub id: Option<At<TValue>>,
    /// How many contacts receive the campaign.
    #[schemars(range(min = 1))]
    pub contacts: At<u64>,
    /// The spread of the events in scenario time (default 0s: all at once).
    pub over: Option<Dur>,
    pub funnel: Option<At<RawFunnel>>,
}

/// Shares of the contacts. Bounced contacts never open; only opened contacts click.
#[derive(Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "a funnel: {bounced, opened, clicked, unsubscribed, spam_complaint}"
)]
#[schemars(rename = "Funnel")]
pub(crate) struct RawFunnel {
    pub bounced: Option<At<Percent>>,
    pub opened: Option<At<Percent>>,
    pub clicked: Option<At<Percent>>,
    pub unsubscribed: Option<At<Percent>>,
    pub spam_complaint: Option<At<Percent>>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "raw: {body: '...', event: NAME}")]
#[schemars(rename = "Raw")]
pub(crate) struct RawRawDef {
    /// The exact body to sign and send; {{ ... }} templates are rendered.
    pub body: At<String>,
    /// The event name for the X-Cakemail-Event header.
    pub event: Option<String>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "expectations: {delivered: 100%, p99_latency: <200ms, ...}"
)]
#[schemars(rename = "Expect")]
pub(crate) struct RawExpect {
    /// The least share of events that must end delivered.
    pub delivered: Option<Percent>,
    pub p50_latency: Option<LatencyBound>,
    pub p90_latency: Option<LatencyBound>,
    pub p95_latency: Option<LatencyBound>,
    pub p99_latency: Option<LatencyBound>,
    pub p999_latency: Option<LatencyBound>,
    /// The answer each fault kind must get, e.g. {bad_signature: 401, duplicate: 2xx}.
    pub faults: Option<OrderedMap<At<FaultKind>, StatusSpec>>,
    /// No event may need more attempts than this.
    #[schemars(range(min = 1))]
    pub max_attempts: Option<At<u64>>,
}

/// A mapping kept in file order (duplicate keys are refused by the parser).
pub(crate) struct OrderedMap<K, V>(pub Vec<(K, V)>);

impl<'de, K: Deserialize<'de>, V: Deserialize<'de>> Deserialize<'de> for OrderedMap<K, V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V2<K, V>(PhantomData<(K, V)>);
        impl<'de, K: Deserialize<'de>, V: Deserialize<'de>> Visitor<'de> for V2<K, V> {
            type Value = OrderedMap<K, V>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(k) = m.next_key()? {
                    out.push((k, m.next_value()?));
                }
                Ok(OrderedMap(out))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(OrderedMap(Vec::new()))
            }
        }
        d.deserialize_map(V2(PhantomData))
    }
}

impl<K: JsonSchema, V: JsonSchema> JsonSchema for OrderedMap<K, V> {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        format!("Map_of_{}", V::schema_name()).into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        let keys = g.subschema_for::<K>();
        let values = g.subschema_for::<V>();
        json_schema!({ "type": "object", "propertyNames": keys, "additionalProperties": values })
    }
}

/// An event name: in the schema, every name of both flavors so editors can complete
/// them (the loader then checks the name belongs to the file's flavor).
pub(crate) struct EventName;

impl JsonSchema for EventName {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "EventName".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        event_name_schema()
    }
}

fn event_name_schema() -> Schema {
    let names: Vec<&str> = [Flavor::Docs, Flavor::Api]
        .into_iter()
        .flat_map(|f| crate::events::catalogue(f).iter().map(|k| k.name))
        .collect();
    if names.is_empty() {
        return json_schema!({ "type": "string" });
    }
    json_schema!({ "type": "string", "enum": names })
}

/// The schema of [`RawScenario`], draft 2020-12, with a `$id`-free root editors accept.
pub(crate) fn json_schema() -> serde_json::Value {
    let schema = schemars::generate::SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<RawScenario>();
    schema.to_value()
}
