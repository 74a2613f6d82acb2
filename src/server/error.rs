//! Every way a request can fail, and the one place that turns a failure into
//! an HTTP response (status, RFC 6750 header, JSON body).

use std::time::Duration;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::protocol::Reason;
use crate::settings::SettingsError;

/// The revocation store holds as many entries as it may: it issues nothing new until
/// some lapse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Full {
    /// The store's capacity, in entries.
    pub capacity: usize,
    /// Lab seconds until the oldest entry lapses (at least 1).
    pub retry_after_s: u64,
}

/// What is wrong with a presented token, before time and revocation.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TokenFault {
    #[error("no bearer token was sent")]
    Missing,
    #[error("{0}")]
    Malformed(String),
    #[error("{0}")]
    BadSignature(String),
    /// Two `Authorization` headers: which one would count is ambiguous.
    #[error("the request has more than one Authorization header")]
    Repeated,
}

impl TokenFault {
    /// The machine-readable reason clients and the timeline see.
    pub fn reason(&self) -> Reason {
        match self {
            TokenFault::Missing => Reason::Missing,
            TokenFault::Malformed(_) | TokenFault::Repeated => Reason::Malformed,
            TokenFault::BadSignature(_) => Reason::BadSignature,
        }
    }

    /// The refusal of `/api/secret` (401 `invalid_token`), except for a
    /// request that is itself malformed (400 `invalid_request`, RFC 6750 §3.1).
    pub fn refuse_access(self) -> ApiError {
        match self {
            TokenFault::Repeated => ApiError::InvalidRequest(self.to_string()),
            fault => ApiError::InvalidToken {
                reason: fault.reason(),
                description: fault.to_string(),
            },
        }
    }

    /// The refusal of `/api/refresh` (400 `invalid_grant`), except for a
    /// request that is itself malformed (400 `invalid_request`, RFC 6749 §5.2).
    pub fn refuse_grant(self) -> ApiError {
        match self {
            TokenFault::Repeated => ApiError::InvalidRequest(self.to_string()),
            fault => ApiError::InvalidGrant {
                reason: fault.reason(),
                description: fault.to_string(),
            },
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
    /// The request itself is malformed (e.g. two `Authorization` headers).
    #[error("{0}")]
    InvalidRequest(String),
    /// The body is not the JSON the route expects.
    #[error("{0}")]
    BadJson(String),
    /// An OAuth refresh whose body is not the form RFC 6749 §6 describes.
    #[error("{0}")]
    BadForm(String),
    /// A grant type other than `refresh_token` (RFC 6749 §5.2).
    #[error("grant_type '{0}' is not supported here (expected: refresh_token)")]
    UnsupportedGrantType(String),
    /// A refresh token where an access token belongs.
    #[error("{0}")]
    WrongTokenKind(String),
    #[error("the body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("the request body did not arrive within {} s", limit.as_secs_f64())]
    BodyTimeout { limit: Duration },
    #[error("the request target is longer than {limit} bytes")]
    UriTooLong { limit: usize },
    #[error("the request has {what}")]
    HeadersTooLarge { what: String },
    /// The server has as many connections open as it allows.
    #[error("the server has {limit} connections open, its limit; try again shortly")]
    TooManyConnections { limit: usize },
    /// The revocation store is full; it issues no token until some lapse.
    #[error("the revocation store is full ({} entries) and forgets none before it lapses; try again in {} s", .0.capacity, .0.retry_after_s)]
    StoreFull(Full),
    /// An error answer of the UI's file service, given a JSON body.
    #[error("the file service answered {status}")]
    FileService { status: StatusCode },
    #[error("no route for {path}")]
    NotFound { path: String },
    #[error("{method} is not allowed on {path}")]
    MethodNotAllowed { method: String, path: String },
    #[error(transparent)]
    InvalidSetting(#[from] SettingsError),
    /// No live run has this id (it finished, was abandoned, or never was).
    #[error("no live run {id}: it finished, was abandoned, or never existed")]
    UnknownRun { id: String },
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
    #[error("the body must be application/json (a refresh in oauth mode: application/x-www-form-urlencoded)")]
    UnsupportedMediaType,
    /// The lab is at a limit; try again later.
    #[error("{what}")]
    Busy { what: String, retry_after_s: u64 },
    /// This visitor (an address, a seat, a run's page) sent more than its
    /// share; try again later.
    #[error("{what}")]
    TooMany { what: String, retry_after_s: u64 },
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
            ApiError::InvalidRequest(_) | ApiError::BadForm(_) => (
                StatusCode::BAD_REQUEST,
                json!({"error": "invalid_request", "message": message}),
            ),
            ApiError::UnsupportedGrantType(_) => (
                StatusCode::BAD_REQUEST,
                json!({"error": "unsupported_grant_type", "message": message}),
            ),
            ApiError::WrongTokenKind(_) => (
                StatusCode::BAD_REQUEST,
                json!({"error": "invalid_request", "reason": Reason::WrongKind, "message": message}),
            ),
            ApiError::BadJson(_) => (
                StatusCode::BAD_REQUEST,
                json!({"error": "bad_json", "message": message}),
            ),
            ApiError::PayloadTooLarge { .. } => (
                StatusCode::PAYLOAD_TOO_LARGE,
                json!({"error": "payload_too_large", "message": message}),
            ),
            ApiError::BodyTimeout { .. } => (
                StatusCode::REQUEST_TIMEOUT,
                json!({"error": "request_timeout", "message": message}),
            ),
            ApiError::UriTooLong { .. } => (
                StatusCode::URI_TOO_LONG,
                json!({"error": "uri_too_long", "message": message}),
            ),
            ApiError::HeadersTooLarge { .. } => (
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                json!({"error": "headers_too_large", "message": message}),
            ),
            ApiError::TooManyConnections { .. } => (
                StatusCode::SERVICE_UNAVAILABLE,
                json!({"error": "too_many_connections", "message": message}),
            ),
            ApiError::StoreFull(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                json!({"error": "temporarily_unavailable", "message": message}),
            ),
            ApiError::FileService { status } => (
                *status,
                json!({"error": status.canonical_reason().unwrap_or("error").to_ascii_lowercase().replace(' ', "_"), "message": message}),
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
            ApiError::Network(crate::network::NetError::NotARefreshAnswer { .. }) => (
                StatusCode::CONFLICT,
                json!({"error": "not_a_refresh_answer", "message": message}),
            ),
            ApiError::Network(crate::network::NetError::NothingInFlight) => (
                StatusCode::CONFLICT,
                json!({"error": "nothing_in_flight", "message": message}),
            ),
            ApiError::Network(crate::network::NetError::BadAction(_)) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                json!({"error": "bad_action", "message": message}),
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
            ApiError::TooMany { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                json!({"error": "too_many_requests", "message": message}),
            ),
            ApiError::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({"error": "internal", "message": message}),
            ),
        };
        let mut response = (status, Json(body)).into_response();
        // The network's response leg shows the reason on its tray card.
        if let ApiError::InvalidToken { reason, .. } | ApiError::InvalidGrant { reason, .. } = &self
        {
            response.extensions_mut().insert(*reason);
        }
        let headers = response.headers_mut();
        match &self {
            // RFC 6750 §3.1: a request without credentials gets a bare
            // challenge, no error code.
            ApiError::InvalidToken {
                reason: Reason::Missing,
                ..
            } => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"refresh-race\""),
                );
            }
            ApiError::InvalidToken { description, .. } => {
                // RFC 6750 §3: quotes and backslashes are not allowed inside
                // the quoted strings, so they are dropped from the description.
                let clean: String = description
                    .chars()
                    .filter(|c| *c != '"' && *c != '\\' && c.is_ascii() && !c.is_ascii_control())
                    .collect();
                let challenge =
                    format!("Bearer error=\"invalid_token\", error_description=\"{clean}\"");
                if let Ok(value) = HeaderValue::from_str(&challenge) {
                    headers.insert(header::WWW_AUTHENTICATE, value);
                }
            }
            // RFC 6750 §3.1 (two Authorization headers on /api/secret).
            ApiError::InvalidRequest(_) => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer error=\"invalid_request\""),
                );
            }
            ApiError::TooManyConnections { .. } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(1));
                headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            ApiError::StoreFull(full) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(full.retry_after_s));
            }
            ApiError::Busy { retry_after_s, .. } | ApiError::TooMany { retry_after_s, .. } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_s));
            }
            // The rest of the body is still on the wire: the connection
            // cannot carry another request.
            ApiError::BodyTimeout { .. } => {
                headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            _ => {}
        }
        response
    }
}

impl From<Full> for ApiError {
    fn from(full: Full) -> Self {
        ApiError::StoreFull(full)
    }
}
