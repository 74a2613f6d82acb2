//! `POST /lab/export/{format}`: a run report in, the exported file out, as
//! an attachment with a file name (docs/lab-api.md).
//!
//! A report is much larger than anything else the lab is sent (a run of
//! 10,000 + 10,000 requests saves to about 20 MB), so this route alone
//! accepts bodies up to [`EXPORT_BODY_LIMIT`]; and an export can take a
//! second of CPU and hundreds of megabytes (a large PNG), so at most
//! [`EXPORTS_IN_FLIGHT`] run at once per lab, from the moment their body
//! starts to arrive; the next gets 429 with `Retry-After`.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Path, Request};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::json;
use tokio::sync::Semaphore;

use crate::server::ApiError;

use super::{export, parse_report, ExportError, ExportFormat};

/// Largest report body the export route reads: 32 MiB.
pub const EXPORT_BODY_LIMIT: usize = 32 * 1024 * 1024;

/// Exports one lab runs at once (reading, rendering, answering). One: a
/// large PNG render takes a whole core, and on a 2-core laptop two of them
/// starve the instructor's own requests (BENCHMARKS.md §9).
pub const EXPORTS_IN_FLIGHT: usize = 1;

/// The export route, with its own body limit and its own places; merge it
/// into the lab router.
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    routes_sharing(Arc::new(Semaphore::new(EXPORTS_IN_FLIGHT)))
}

/// [`routes`] taking places from `slots`, so that several routers of one
/// lab (the instructor's port, a room's) share [`EXPORTS_IN_FLIGHT`].
pub fn routes_sharing<S: Clone + Send + Sync + 'static>(slots: Arc<Semaphore>) -> Router<S> {
    Router::new()
        .route("/lab/export/{format}", post(export_run))
        .layer(DefaultBodyLimit::max(EXPORT_BODY_LIMIT))
        .route_layer(axum::middleware::from_fn_with_state(slots, one_place))
}

/// Holds one of the export places while the request is read and answered.
async fn one_place(
    axum::extract::State(slots): axum::extract::State<Arc<Semaphore>>,
    request: Request,
    next: axum::middleware::Next,
) -> Response {
    let Ok(_place) = slots.try_acquire_owned() else {
        return ApiError::TooMany {
            what: format!(
                "{EXPORTS_IN_FLIGHT} exports are running on this lab, its limit; try again shortly"
            ),
            retry_after_s: 2,
        }
        .into_response();
    };
    next.run(request).await
}

async fn export_run(
    Path(format): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ExportFailure> {
    let format: ExportFormat = format.parse().map_err(ExportFailure::Export)?;
    let bytes = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ExportFailure::TooLarge
        } else {
            ExportFailure::Export(ExportError::NotJson(rejection.body_text()))
        }
    })?;
    let report = parse_report(&bytes).map_err(ExportFailure::Export)?;
    // Rasterising is CPU work: keep it off the threads that serve requests.
    let file = tokio::task::spawn_blocking(move || {
        export(&report, format).map(|bytes| (bytes, format.file_name(&report.settings)))
    })
    .await
    .map_err(|err| ExportFailure::Export(ExportError::Render(err.to_string())))?
    .map_err(ExportFailure::Export)?;
    let (bytes, name) = file;
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"));
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(format.content_type()),
            ),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        bytes,
    )
        .into_response())
}

/// Why the route answered with an error, as `{"error": ..., "message": ...}`.
#[derive(Debug)]
enum ExportFailure {
    Export(ExportError),
    TooLarge,
}

impl IntoResponse for ExportFailure {
    fn into_response(self) -> Response {
        let (status, code, message) = match self {
            ExportFailure::TooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!("the body is larger than {EXPORT_BODY_LIMIT} bytes"),
            ),
            ExportFailure::Export(err) => {
                let (status, code) = match &err {
                    ExportError::UnknownFormat(_) => (StatusCode::NOT_FOUND, "unknown_format"),
                    ExportError::NotJson(_) => (StatusCode::BAD_REQUEST, "bad_json"),
                    ExportError::NotAReport(_) => (StatusCode::BAD_REQUEST, "not_a_report"),
                    ExportError::Render(_) => (StatusCode::INTERNAL_SERVER_ERROR, "export_failed"),
                };
                (status, code, err.to_string())
            }
        };
        (status, Json(json!({"error": code, "message": message}))).into_response()
    }
}
