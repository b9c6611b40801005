//! `/webhooks` with the API's shapes: list (page, per_page, with_archived,
//! with_count), create (201, no secret), get (with `signature.key`), patch, archive and
//! unarchive. Every change goes through the shared store under its lock.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use super::AppState;
use super::error::{ApiError, Detail, json_object};
use crate::events::{self, Flavor};
use crate::sign::{Scheme, Secret};
use crate::store::{
    DEFAULT_RATE_LIMIT, Doc, MAX_URL, NewWebhook, Period, Status, Webhook, WebhookPatch, check_url,
};

type Params = Query<HashMap<String, String>>;
type Answer = Result<(StatusCode, Json<Value>), ApiError>;

/// A webhook as the API shows it: `id` is a string; one `event`.
pub fn api_json(w: &Webhook) -> Value {
    json!({
        "id": w.id,
        "status": w.status,
        "event": w.api_event(),
        "url": w.url,
        "archived_at": w.archived_at,
        "rate_limit": w.rate_limit,
        "rate_limit_period": w.rate_limit_period,
    })
}

/// Runs a store change off the async threads (it takes a file lock and fsyncs).
async fn in_store<T: Send + 'static>(
    state: &AppState,
    change: impl FnOnce(&mut Doc) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let store = state.engine.store().clone();
    let joined = tokio::task::spawn_blocking(move || {
        let mut refused = None;
        let done = store.update(|doc| match change(doc) {
            Ok(t) => Ok(Some(t)),
            Err(e) => {
                refused = Some(e);
                // Abort the write: nothing changed.
                anyhow::bail!("refused")
            }
        });
        match (done, refused) {
            (_, Some(e)) => Err(e),
            (Ok(Some(t)), None) => Ok(t),
            (Ok(None), None) => Err(ApiError::internal(&anyhow::anyhow!("no result"))),
            (Err(e), None) => Err(ApiError::internal(&e)),
        }
    })
    .await;
    joined.unwrap_or_else(|e| Err(ApiError::internal(&anyhow::anyhow!("store task: {e}"))))
}

async fn read_store(state: &AppState) -> Result<Doc, ApiError> {
    let store = state.engine.store().clone();
    match tokio::task::spawn_blocking(move || store.load()).await {
        Ok(Ok(doc)) => Ok(doc),
        Ok(Err(e)) => Err(ApiError::internal(&e)),
        Err(e) => Err(ApiError::internal(&anyhow::anyhow!("store task: {e}"))),
    }
}

fn not_found(id: &str) -> ApiError {
    ApiError::not_found(&["path", "webhook_id"], format!("Webhook {id} not found"))
}

/// Checks the optional `account_id` query parameter every webhook endpoint takes.
fn check_account(state: &AppState, q: &HashMap<String, String>) -> Result<(), ApiError> {
    let Some(raw) = q.get("account_id") else {
        return Ok(());
    };
    match raw.parse::<u64>() {
        Err(_) => Err(ApiError::invalid(vec![Detail::new(
            &["query", "account_id"],
            "value is not a valid integer",
            "type_error.integer",
        )])),
        Ok(id) if id != state.account_id => Err(ApiError::one(
            StatusCode::FORBIDDEN,
            &["query", "account_id"],
            format!(
                "this token has no access to account {id}; its account is {}",
                state.account_id
            ),
            "forbidden",
        )),
        Ok(_) => Ok(()),
    }
}

fn int_param(
    q: &HashMap<String, String>,
    name: &str,
    default: usize,
    bad: &mut Vec<Detail>,
) -> usize {
    match q.get(name).map(|v| v.parse::<usize>()) {
        None => default,
        Some(Ok(n)) if n >= 1 => n,
        Some(Ok(_)) => {
            bad.push(Detail::new(
                &["query", name],
                "ensure this value is greater than or equal to 1",
                "value_error.number.not_ge",
            ));
            default
        }
        Some(Err(_)) => {
            bad.push(Detail::new(
                &["query", name],
                "value is not a valid integer",
                "type_error.integer",
            ));
            default
        }
    }
}

fn bool_param(q: &HashMap<String, String>, name: &str, bad: &mut Vec<Detail>) -> bool {
    match q.get(name).map(|v| v.to_ascii_lowercase()) {
        None => false,
        Some(v) if ["true", "1", "yes", "on"].contains(&v.as_str()) => true,
        Some(v) if ["false", "0", "no", "off"].contains(&v.as_str()) => false,
        Some(_) => {
            bad.push(Detail::new(
                &["query", name],
                "value could not be parsed to a boolean",
                "type_error.bool",
            ));
            false
        }
    }
}

/// `GET /webhooks`
pub async fn list(State(state): State<Arc<AppState>>, Query(q): Params) -> Answer {
    check_account(&state, &q)?;
    let mut bad = Vec::new();
    let page = int_param(&q, "page", 1, &mut bad);
    let per_page = int_param(&q, "per_page", 50, &mut bad);
    let with_archived = bool_param(&q, "with_archived", &mut bad);
    let with_count = bool_param(&q, "with_count", &mut bad);
    if !bad.is_empty() {
        return Err(ApiError::invalid(bad));
    }
    let doc = read_store(&state).await?;
    let all: Vec<&Webhook> = doc
        .webhooks
        .iter()
        .filter(|w| with_archived || w.status == Status::Active)
        .collect();
    let data: Vec<Value> = all
        .iter()
        .skip((page - 1).saturating_mul(per_page))
        .take(per_page)
        .map(|w| api_json(w))
        .collect();
    let mut pagination = json!({"page": page, "per_page": per_page});
    if with_count {
        pagination["count"] = json!(all.len());
    }
    Ok((
        StatusCode::OK,
        Json(json!({"pagination": pagination, "data": data})),
    ))
}

fn rate_limit(body: &Map<String, Value>, bad: &mut Vec<Detail>) -> Option<u32> {
    let v = body.get("rate_limit").filter(|v| !v.is_null())?;
    match v.as_u64().and_then(|n| u32::try_from(n).ok()) {
        Some(n) if n >= 1 => Some(n),
        Some(_) => {
            bad.push(Detail::new(
                &["body", "rate_limit"],
                "ensure this value is greater than or equal to 1",
                "value_error.number.not_ge",
            ));
            None
        }
        None => {
            bad.push(Detail::new(
                &["body", "rate_limit"],
                "value is not a valid integer",
                "type_error.integer",
            ));
            None
        }
    }
}

fn period(body: &Map<String, Value>, bad: &mut Vec<Detail>) -> Option<Period> {
    match body
        .get("rate_limit_period")
        .filter(|v| !v.is_null())?
        .as_str()
    {
        Some("second") => Some(Period::Second),
        Some("minute") => Some(Period::Minute),
        _ => {
            bad.push(Detail::new(
                &["body", "rate_limit_period"],
                "value is not a valid enumeration member; permitted: 'second', 'minute'",
                "type_error.enum",
            ));
            None
        }
    }
}

fn url(body: &Map<String, Value>, required: bool, bad: &mut Vec<Detail>) -> Option<String> {
    let v = match body.get("url").filter(|v| !v.is_null()) {
        Some(v) => v,
        None => {
            if required {
                bad.push(Detail::missing(&["body", "url"]));
            }
            return None;
        }
    };
    let Some(s) = v.as_str() else {
        bad.push(Detail::new(
            &["body", "url"],
            "str type expected",
            "type_error.str",
        ));
        return None;
    };
    match check_url(s) {
        Ok(u) => Some(u),
        Err(why) => {
            let kind = if s.chars().count() > MAX_URL {
                "value_error.any_str.max_length"
            } else {
                "value_error.url"
            };
            bad.push(Detail::new(&["body", "url"], why, kind));
            None
        }
    }
}

fn event(body: &Map<String, Value>, bad: &mut Vec<Detail>) -> Option<&'static str> {
    let Some(v) = body.get("event").filter(|v| !v.is_null()) else {
        bad.push(Detail::missing(&["body", "event"]));
        return None;
    };
    let name = v.as_str().unwrap_or_default();
    match events::find(Flavor::Api, name) {
        Ok(k) => Some(k.name),
        Err(e) => {
            bad.push(Detail::new(
                &["body", "event"],
                format!("value is not a valid enumeration member: {e}"),
                "type_error.enum",
            ));
            None
        }
    }
}

/// `POST /webhooks`: 201 `{"id", "data"}`; the secret is generated and only `GET` shows it.
pub async fn create(State(state): State<Arc<AppState>>, Query(q): Params, body: Bytes) -> Answer {
    check_account(&state, &q)?;
    let body = json_object(&body)?;
    let mut bad = Vec::new();
    let event = event(&body, &mut bad);
    let url = url(&body, true, &mut bad);
    let rate_limit = rate_limit(&body, &mut bad);
    let period = period(&body, &mut bad);
    let (Some(event), Some(url), true) = (event, url, bad.is_empty()) else {
        return Err(ApiError::invalid(bad));
    };
    let new = NewWebhook {
        name: None,
        url,
        events: vec![event.to_string()],
        flavor: Flavor::Api,
        secret: Secret::generate(Scheme::Standard),
        rate_limit: rate_limit.unwrap_or(DEFAULT_RATE_LIMIT),
        rate_limit_period: period.unwrap_or_default(),
    };
    let now = chrono::Utc::now().timestamp();
    let w = in_store(&state, move |doc| Ok(doc.insert(new, now).clone())).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"id": w.id, "data": api_json(&w)})),
    ))
}

/// `GET /webhooks/{id}`: the webhook and its signing key.
pub async fn get(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    Query(q): Params,
) -> Answer {
    check_account(&state, &q)?;
    let doc = read_store(&state).await?;
    let w = doc.get(&id).ok_or_else(|| not_found(&id))?;
    Ok((
        StatusCode::OK,
        Json(json!({
            "id": w.id,
            "signature": {"key": w.secret.expose(), "hash_function": "sha256"},
            "data": api_json(w),
        })),
    ))
}

/// `PATCH /webhooks/{id}`: `url`, `rate_limit`, `rate_limit_period`; the event is fixed.
pub async fn patch(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    Query(q): Params,
    body: Bytes,
) -> Answer {
    check_account(&state, &q)?;
    let body = json_object(&body)?;
    let mut bad = Vec::new();
    if body.get("event").is_some_and(|v| !v.is_null()) {
        bad.push(Detail::new(
            &["body", "event"],
            "the event of a webhook cannot be changed; create a new webhook for another event",
            "value_error.immutable",
        ));
    }
    let patch = WebhookPatch {
        url: url(&body, false, &mut bad),
        rate_limit: rate_limit(&body, &mut bad),
        rate_limit_period: period(&body, &mut bad),
        ..WebhookPatch::default()
    };
    if !bad.is_empty() {
        return Err(ApiError::invalid(bad));
    }
    let now = chrono::Utc::now().timestamp();
    let key = id.clone();
    let w = in_store(&state, move |doc| {
        let w = doc.get_mut(&key).ok_or_else(|| not_found(&key))?;
        w.apply(patch, now);
        Ok(w.clone())
    })
    .await?;
    Ok((
        StatusCode::OK,
        Json(json!({"id": w.id, "data": api_json(&w), "object": "Webhook", "patched": true})),
    ))
}

/// `POST /webhooks/{id}/archive` and `/unarchive`.
pub async fn set_archived(
    state: Arc<AppState>,
    id: String,
    q: HashMap<String, String>,
    archived: bool,
) -> Answer {
    check_account(&state, &q)?;
    let now = chrono::Utc::now().timestamp();
    let key = id.clone();
    let w = in_store(&state, move |doc| {
        let w = doc.get_mut(&key).ok_or_else(|| not_found(&key))?;
        w.set_archived(archived, now);
        Ok(w.clone())
    })
    .await?;
    Ok((
        StatusCode::OK,
        Json(json!({"id": w.id, "data": api_json(&w), "object": "Webhook", "archived": archived})),
    ))
}

pub async fn archive(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    Query(q): Params,
) -> Answer {
    set_archived(state, id, q, true).await
}

pub async fn unarchive(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    Query(q): Params,
) -> Answer {
    set_archived(state, id, q, false).await
}
