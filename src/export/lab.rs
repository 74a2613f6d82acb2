//! `POST /lab/export/{format}`: a run report in, the exported file out, as
//! an attachment with a file name (docs/lab-api.md).
//!
//! A report is much larger than anything else the lab is sent (a run of
//! 10,000 + 10,000 requests saves to about 20 MB), so this route alone
//! accepts bodies up to [`EXPORT_BODY_LIMIT`].

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::json;

use super::{export, parse_report, ExportError, ExportFormat};

/// Largest report body the export route reads: 32 MiB.
pub const EXPORT_BODY_LIMIT: usize = 32 * 1024 * 1024;

/// The export route, with its own body limit; merge it into the lab router.
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/lab/export/{format}", post(export_run))
        .layer(DefaultBodyLimit::max(EXPORT_BODY_LIMIT))
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
