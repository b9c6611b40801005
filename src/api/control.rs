//! The control endpoints under `/_mock/` (cakemock's own, not Cakemail's; no token
//! needed): trigger an event to the subscribed webhooks, start a scenario run, list
//! deliveries, resend one.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use super::AppState;
use super::engine::Resend;
use super::error::{ApiError, Detail, json_object};
use crate::InputError;
use crate::clock::Speed;
use crate::events::{self, Flavor};
use crate::record::TerminalState;

type Answer = Result<(StatusCode, Json<Value>), ApiError>;

/// A scenario started through `POST /_mock/scenarios`: its YAML text and the engine
/// its deliveries must go through.
pub struct ScenarioRequest {
    pub yaml: String,
    /// `?speed=` (as `--speed`: a factor, or `max`) [default: 1, real time].
    pub speed: Speed,
    pub engine: Arc<super::Engine>,
}

/// Validates a scenario, starts it in the background on the engine, and returns its
/// run id; a bad scenario is an [`InputError`] (answered 422 with its message).
pub type ScenarioRunner = Arc<dyn Fn(ScenarioRequest) -> Result<String, InputError> + Send + Sync>;

/// Finds an event by name in either catalogue; the error lists the guide's events.
fn event_named(name: &str) -> Result<&'static str, InputError> {
    events::find(Flavor::Api, name)
        .or_else(|_| events::find(Flavor::Docs, name))
        .map(|k| k.name)
}

/// Deep-merges `patch` into `into` (objects merge key by key; anything else replaces).
fn merge(into: &mut Value, patch: &Value) {
    match (into, patch) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                merge(a.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
        (slot, v) => *slot = v.clone(),
    }
}

/// `POST /_mock/trigger` `{"event": "Email.Opened", "data": {...}?, "webhook_id": "123"?}`:
/// 202 with one delivery per subscribed active webhook.
pub async fn trigger(State(state): State<Arc<AppState>>, body: Bytes) -> Answer {
    let body: Map<String, Value> = json_object(&body)?;
    let mut bad = Vec::new();
    let event = match body.get("event").and_then(Value::as_str) {
        None => {
            bad.push(Detail::missing(&["body", "event"]));
            None
        }
        Some(name) => match event_named(name) {
            Ok(e) => Some(e),
            Err(e) => {
                bad.push(Detail::new(&["body", "event"], e.0, "type_error.enum"));
                None
            }
        },
    };
    let data = body.get("data").filter(|v| !v.is_null()).cloned();
    if data.as_ref().is_some_and(|d| !d.is_object()) {
        bad.push(Detail::new(
            &["body", "data"],
            "value is not a valid dict",
            "type_error.dict",
        ));
    }
    let only = body.get("webhook_id").and_then(|v| match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    });
    let Some(event) = event.filter(|_| bad.is_empty()) else {
        return Err(ApiError::invalid(bad));
    };
    let mut subs = state
        .engine
        .subscribers(event)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    if let Some(id) = &only {
        subs.retain(|s| &s.webhook_id == id);
    }
    let edit = move |v: &mut Value| -> Result<(), InputError> {
        if let Some(d) = &data {
            merge(&mut v["data"], d);
        }
        Ok(())
    };
    let queued = state
        .engine
        .trigger(&subs, Some(&edit))
        .await
        .map_err(|e| {
            ApiError::one(
                StatusCode::UNPROCESSABLE_ENTITY,
                &["body", "data"],
                e.0,
                "value_error",
            )
        })?;
    let deliveries: Vec<Value> = queued
        .iter()
        .map(|d| json!({"id": d.id, "webhook_id": d.webhook_id, "event": d.event, "url": d.url}))
        .collect();
    let mut answer = json!({"event": event, "deliveries": deliveries});
    if deliveries.is_empty() {
        answer["note"] = json!(format!(
            "no active webhook is subscribed to {event}{}; create one with POST /webhooks",
            only.map(|id| format!(" with id {id}")).unwrap_or_default()
        ));
    }
    Ok((StatusCode::ACCEPTED, Json(answer)))
}

/// `POST /_mock/scenarios` with a scenario's YAML as the body: 202 `{"id": RUN_ID}`.
pub async fn scenarios(
    State(state): State<Arc<AppState>>,
    Query(q): Query<HashMap<String, String>>,
    body: Bytes,
) -> Answer {
    let Some(runner) = state.scenarios.clone() else {
        return Err(ApiError::one(
            StatusCode::NOT_IMPLEMENTED,
            &["body"],
            "this cakemock build cannot run scenarios through serve yet; \
             use POST /_mock/trigger, or `cakemock run SCENARIO` against the same store",
            "not_implemented",
        ));
    };
    let yaml = String::from_utf8(body.to_vec()).map_err(|_| {
        ApiError::one(
            StatusCode::UNPROCESSABLE_ENTITY,
            &["body"],
            "the scenario is not UTF-8 text",
            "value_error",
        )
    })?;
    let speed = match q.get("speed").map(|s| s.parse::<Speed>()) {
        None => Speed::default(),
        Some(Ok(s)) => s,
        Some(Err(e)) => {
            return Err(ApiError::invalid(vec![Detail::new(
                &["query", "speed"],
                e.0,
                "value_error",
            )]));
        }
    };
    let req = ScenarioRequest {
        yaml,
        speed,
        engine: state.engine.clone(),
    };
    match runner(req) {
        Ok(id) => Ok((StatusCode::ACCEPTED, Json(json!({"id": id})))),
        Err(e) => Err(ApiError::one(
            StatusCode::UNPROCESSABLE_ENTITY,
            &["body"],
            e.0,
            "value_error.scenario",
        )),
    }
}

/// `GET /_mock/deliveries?webhook=ID&event=NAME&state=STATE`, in creation order.
pub async fn deliveries(
    State(state): State<Arc<AppState>>,
    Query(q): Query<HashMap<String, String>>,
) -> Answer {
    let states: Vec<&str> = std::iter::once("pending")
        .chain(TerminalState::ALL.iter().map(|s| s.as_str()))
        .collect();
    if let Some(s) = q.get("state")
        && !states.contains(&s.as_str())
    {
        return Err(ApiError::invalid(vec![Detail::new(
            &["query", "state"],
            format!("unknown state {s:?}; valid: {}", states.join(", ")),
            "type_error.enum",
        )]));
    }
    let (webhook, event, wanted) = (q.get("webhook"), q.get("event"), q.get("state"));
    let list = state.engine.deliveries(|d| {
        webhook.is_none_or(|w| d.webhook_id.as_ref() == Some(w))
            && event.is_none_or(|e| &d.event == e)
            && wanted.is_none_or(|s| d.state_str() == s)
    });
    let data: Vec<Value> = list.iter().map(|d| d.to_json()).collect();
    Ok((
        StatusCode::OK,
        Json(json!({"count": data.len(), "data": data})),
    ))
}

/// `POST /_mock/deliveries/{id}/resend`: the same delivery id and body again, to the
/// webhook's current URL.
pub async fn resend(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> Answer {
    let loc = ["path", "delivery_id"];
    match state.engine.resend(&id).await {
        Ok(d) => Ok((
            StatusCode::ACCEPTED,
            Json(json!({"id": d.id, "webhook_id": d.webhook_id, "state": "pending"})),
        )),
        Err(Resend::UnknownDelivery) => Err(ApiError::not_found(
            &loc,
            format!("delivery {id} not found"),
        )),
        Err(Resend::NoWebhook) => Err(ApiError::one(
            StatusCode::CONFLICT,
            &loc,
            format!("delivery {id} was not made for a stored webhook"),
            "conflict",
        )),
        Err(Resend::WebhookGone(w)) => Err(ApiError::not_found(
            &loc,
            format!("webhook {w} of delivery {id} no longer exists"),
        )),
        Err(Resend::Archived(w)) => Err(ApiError::one(
            StatusCode::CONFLICT,
            &loc,
            format!(
                "webhook {w} is archived; unarchive it (POST /webhooks/{w}/unarchive) to resend"
            ),
            "conflict",
        )),
        Err(Resend::Store(e)) => Err(ApiError::internal(&anyhow::anyhow!(e))),
    }
}
