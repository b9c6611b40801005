//! Errors the way Cakemail's API (FastAPI) answers them:
//! `{"detail": [{"loc": ["body", "url"], "msg": "field required", "type": "value_error.missing"}]}`
//! with 401 (plus `WWW-Authenticate: Bearer`), 403, 404, 409, 422 or 501.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;

/// One problem: where (`loc`), what (`msg`), and its machine-readable `type`.
#[derive(Debug, Clone, Serialize)]
pub struct Detail {
    pub loc: Vec<Value>,
    pub msg: String,
    #[serde(rename = "type")]
    pub kind: String,
}

impl Detail {
    pub fn new(loc: &[&str], msg: impl Into<String>, kind: &str) -> Detail {
        Detail {
            loc: loc
                .iter()
                .map(|s| Value::String((*s).to_string()))
                .collect(),
            msg: msg.into(),
            kind: kind.to_string(),
        }
    }

    /// `field required` (pydantic's `value_error.missing`).
    pub fn missing(loc: &[&str]) -> Detail {
        Detail::new(loc, "field required", "value_error.missing")
    }
}

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub detail: Vec<Detail>,
}

impl ApiError {
    pub fn one(status: StatusCode, loc: &[&str], msg: impl Into<String>, kind: &str) -> ApiError {
        ApiError {
            status,
            detail: vec![Detail::new(loc, msg, kind)],
        }
    }

    /// 422 with every problem found (pydantic reports them all at once).
    pub fn invalid(detail: Vec<Detail>) -> ApiError {
        ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            detail,
        }
    }

    pub fn unauthorized(msg: impl Into<String>) -> ApiError {
        ApiError::one(
            StatusCode::UNAUTHORIZED,
            &["header", "Authorization"],
            msg,
            "unauthorized",
        )
    }

    pub fn not_found(loc: &[&str], msg: impl Into<String>) -> ApiError {
        ApiError::one(StatusCode::NOT_FOUND, loc, msg, "not_found")
    }

    /// The tool itself failed (the store cannot be written): 500, saying why.
    pub fn internal(err: &anyhow::Error) -> ApiError {
        ApiError::one(
            StatusCode::INTERNAL_SERVER_ERROR,
            &[],
            format!("{err:#}"),
            "internal_error",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let unauthorized = self.status == StatusCode::UNAUTHORIZED;
        let mut res = (
            self.status,
            Json(serde_json::json!({ "detail": self.detail })),
        )
            .into_response();
        if unauthorized {
            res.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        res
    }
}

/// Parses a JSON request body, answering 422 the way FastAPI does when it is not JSON.
pub fn json_body(bytes: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| {
        ApiError::one(
            StatusCode::UNPROCESSABLE_ENTITY,
            &["body"],
            format!("the body is not valid JSON: {e}"),
            "value_error.jsondecode",
        )
    })
}

/// The body as a JSON object, or 422 saying one was expected.
pub fn json_object(bytes: &[u8]) -> Result<serde_json::Map<String, Value>, ApiError> {
    match json_body(bytes)? {
        Value::Object(m) => Ok(m),
        _ => Err(ApiError::one(
            StatusCode::UNPROCESSABLE_ENTITY,
            &["body"],
            "value is not a valid dict",
            "type_error.dict",
        )),
    }
}
