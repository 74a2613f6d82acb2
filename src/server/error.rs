//! Every way a request can fail, and the one place that turns a failure into
//! an HTTP response (status, RFC 6750 header, JSON body).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::protocol::Reason;
use crate::settings::SettingsError;

/// What is wrong with a presented token, before time and revocation.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TokenFault {
    #[error("no bearer token was sent")]
    Missing,
    #[error("{0}")]
    Malformed(String),
    #[error("{0}")]
    BadSignature(String),
}

impl TokenFault {
    /// The machine-readable reason clients and the timeline see.
    pub fn reason(&self) -> Reason {
        match self {
            TokenFault::Missing => Reason::Missing,
            TokenFault::Malformed(_) => Reason::Malformed,
            TokenFault::BadSignature(_) => Reason::BadSignature,
        }
    }
}

/// A failed API request.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// `/api/secret` refused the token (401, RFC 6750).
    #[error("{description}")]
    InvalidToken { reason: Reason, description: String },
    /// `/api/refresh` refused the credential (400 `invalid_grant`, RFC 6749 §5.2).
    #[error("{description}")]
    InvalidGrant { reason: Reason, description: String },
    /// The body is not the JSON the route expects.
    #[error("{0}")]
    BadJson(String),
    #[error("the body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("no route for {path}")]
    NotFound { path: String },
    #[error("{method} is not allowed on {path}")]
    MethodNotAllowed { method: String, path: String },
    #[error(transparent)]
    InvalidSetting(#[from] SettingsError),
    #[error("{0}")]
    Internal(String),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let message = self.to_string();
        let (status, body) = match &self {
            ApiError::InvalidToken { reason, .. } => (
                StatusCode::UNAUTHORIZED,
                json!({"error": "invalid_token", "reason": reason, "message": message}),
            ),
            ApiError::InvalidGrant { reason, .. } => (
                StatusCode::BAD_REQUEST,
                json!({"error": "invalid_grant", "reason": reason, "message": message}),
            ),
            ApiError::BadJson(_) => (
                StatusCode::BAD_REQUEST,
                json!({"error": "bad_json", "message": message}),
            ),
            ApiError::PayloadTooLarge { .. } => (
                StatusCode::PAYLOAD_TOO_LARGE,
                json!({"error": "payload_too_large", "message": message}),
            ),
            ApiError::NotFound { .. } => (
                StatusCode::NOT_FOUND,
                json!({"error": "not_found", "message": message}),
            ),
            ApiError::MethodNotAllowed { .. } => (
                StatusCode::METHOD_NOT_ALLOWED,
                json!({"error": "method_not_allowed", "message": message}),
            ),
            ApiError::InvalidSetting(_) => (
                StatusCode::BAD_REQUEST,
                json!({"error": "invalid_setting", "message": message}),
            ),
            ApiError::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({"error": "internal", "message": message}),
            ),
        };
        let mut response = (status, Json(body)).into_response();
        if let ApiError::InvalidToken { description, .. } = &self {
            // RFC 6750 §3: quotes and backslashes are not allowed inside the
            // quoted strings, so they are dropped from the description.
            let clean: String = description
                .chars()
                .filter(|c| *c != '"' && *c != '\\' && c.is_ascii() && !c.is_ascii_control())
                .collect();
            let challenge =
                format!("Bearer error=\"invalid_token\", error_description=\"{clean}\"");
            if let Ok(value) = HeaderValue::from_str(&challenge) {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, value);
            }
        }
        response
    }
}
