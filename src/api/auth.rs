//! `POST /token` (form-encoded, the API's password and refresh-token grants) and the
//! bearer check every `/webhooks` call goes through. Tokens live in memory for the
//! life of the server and expire after [`EXPIRES_IN`] seconds, as the API says.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::{Form, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use serde_json::{Value, json};

use super::AppState;
use super::error::{ApiError, Detail};

/// Lifetime of an access token, in seconds (what `/token` reports as `expires_in`).
pub const EXPIRES_IN: u64 = 3600;

/// Issued tokens.
#[derive(Debug, Default)]
pub struct Tokens {
    access: Mutex<HashMap<String, Instant>>,
    refresh: Mutex<HashMap<String, ()>>,
}

fn random_token() -> String {
    let bytes: [u8; 24] = rand::random();
    hex::encode(bytes)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Tokens {
    fn issue(&self) -> (String, String) {
        let (access, refresh) = (random_token(), random_token());
        let expires = Instant::now() + Duration::from_secs(EXPIRES_IN);
        let mut a = lock(&self.access);
        a.retain(|_, exp| *exp > Instant::now());
        a.insert(access.clone(), expires);
        lock(&self.refresh).insert(refresh.clone(), ());
        (access, refresh)
    }

    fn valid(&self, token: &str) -> bool {
        lock(&self.access)
            .get(token)
            .is_some_and(|exp| *exp > Instant::now())
    }

    fn redeem(&self, refresh: &str) -> bool {
        lock(&self.refresh).remove(refresh).is_some()
    }
}

/// Who may log in: anyone (the default), or the `--username`/`--password` pair given.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    pub username: Option<String>,
    pub password: Option<String>,
}

/// `POST /token`: `grant_type=password&username=...&password=...` or
/// `grant_type=refresh_token&refresh_token=...`.
pub async fn token(
    State(state): State<Arc<AppState>>,
    form: Result<Form<HashMap<String, String>>, axum::extract::rejection::FormRejection>,
) -> Result<Json<Value>, ApiError> {
    let Form(form) = form.map_err(|e| {
        ApiError::one(
            StatusCode::UNPROCESSABLE_ENTITY,
            &["body"],
            format!("expected a form-encoded body (application/x-www-form-urlencoded): {e}"),
            "value_error",
        )
    })?;
    let field = |k: &str| form.get(k).map(String::as_str).filter(|v| !v.is_empty());
    match field("grant_type").unwrap_or("password") {
        "password" => {
            let missing: Vec<Detail> = ["username", "password"]
                .iter()
                .filter(|k| field(k).is_none())
                .map(|k| Detail::missing(&["body", k]))
                .collect();
            if !missing.is_empty() {
                return Err(ApiError::invalid(missing));
            }
            let creds = &state.credentials;
            let wrong = |want: &Option<String>, got: Option<&str>| {
                want.as_deref().is_some_and(|w| Some(w) != got)
            };
            if wrong(&creds.username, field("username"))
                || wrong(&creds.password, field("password"))
            {
                return Err(ApiError::one(
                    StatusCode::UNAUTHORIZED,
                    &["body", "password"],
                    "incorrect username or password",
                    "unauthorized",
                ));
            }
        }
        "refresh_token" => {
            let Some(r) = field("refresh_token") else {
                return Err(ApiError::invalid(vec![Detail::missing(&[
                    "body",
                    "refresh_token",
                ])]));
            };
            if !state.tokens.redeem(r) {
                return Err(ApiError::one(
                    StatusCode::UNAUTHORIZED,
                    &["body", "refresh_token"],
                    "unknown or already used refresh token",
                    "unauthorized",
                ));
            }
        }
        other => {
            return Err(ApiError::one(
                StatusCode::UNPROCESSABLE_ENTITY,
                &["body", "grant_type"],
                format!("unsupported grant_type {other:?}; use password or refresh_token"),
                "value_error.str.regex",
            ));
        }
    }
    let (access, refresh) = state.tokens.issue();
    Ok(Json(json!({
        "access_token": access,
        "token_type": "bearer",
        "expires_in": EXPIRES_IN,
        "refresh_token": refresh,
        "accounts": [state.account_id],
    })))
}

/// Lets a request through only with `Authorization: Bearer <a token from /token>`.
pub async fn require_bearer(
    State(state): State<Arc<AppState>>,
    req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::trim);
    let token = match given {
        None => return Err(ApiError::unauthorized("Not authenticated")),
        Some(v) => match v.split_once(' ') {
            Some((scheme, t)) if scheme.eq_ignore_ascii_case("bearer") => t.trim(),
            _ => {
                return Err(ApiError::unauthorized(
                    "expected Authorization: Bearer <access_token from POST /token>",
                ));
            }
        },
    };
    if !state.tokens.valid(token) {
        return Err(ApiError::unauthorized(
            "invalid or expired token; get a new one from POST /token",
        ));
    }
    Ok(next.run(req).await)
}
