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
    /// No live run has this id (it finished, was abandoned, or never was).
    #[error("no live run {id}: it finished, was abandoned, or never existed")]
    UnknownRun { id: u64 },
    /// A network command the run's network refused.
    #[error(transparent)]
    Network(crate::network::NetError),
    /// Refused by the lab's locked doors (foreign Host, cross-site Origin).
    #[error("{message}")]
    Forbidden { message: String },
    /// Classroom mode: this browser has no seat yet.
    #[error("this lab is a classroom: join with the room's code first (open /join)")]
    NotJoined,
    /// A body that is not JSON where JSON is the only thing read.
    #[error("the body must be application/json")]
    UnsupportedMediaType,
    /// The lab is at a limit; try again later.
    #[error("{what}")]
    Busy { what: String, retry_after_s: u64 },
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
            ApiError::UnknownRun { .. } => (
                StatusCode::NOT_FOUND,
                json!({"error": "unknown_run", "message": message}),
            ),
            ApiError::Network(crate::network::NetError::UnknownLeg { .. }) => (
                StatusCode::CONFLICT,
                json!({"error": "unknown_leg", "message": message}),
            ),
            ApiError::Network(crate::network::NetError::NothingInFlight) => (
                StatusCode::CONFLICT,
                json!({"error": "nothing_in_flight", "message": message}),
            ),
            ApiError::Forbidden { .. } => (
                StatusCode::FORBIDDEN,
                json!({"error": "forbidden", "message": message}),
            ),
            ApiError::NotJoined => (
                StatusCode::UNAUTHORIZED,
                json!({"error": "not_joined", "message": message}),
            ),
            ApiError::UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                json!({"error": "unsupported_media_type", "message": message}),
            ),
            ApiError::Busy { .. } => (
                StatusCode::SERVICE_UNAVAILABLE,
                json!({"error": "busy", "message": message}),
            ),
            ApiError::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({"error": "internal", "message": message}),
            ),
        };
        let mut response = (status, Json(body)).into_response();
        if let ApiError::Busy { retry_after_s, .. } = &self {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_s));
        }
        // The network's response leg shows the reason on its tray card.
        if let ApiError::InvalidToken { reason, .. } | ApiError::InvalidGrant { reason, .. } = &self
        {
            response.extensions_mut().insert(*reason);
        }
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
