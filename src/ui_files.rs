//! The UI's static files: compiled into the binary, so `refresh-race serve`
//! and the desktop app run from any directory on a machine without the
//! checkout. A directory can replace them while developing the UI
//! (`serve --ui-dir DIR`, `REFRESH_RACE_UI_DIR`).
//!
//! Only exact file names are served: `/` is `index.html`, anything else is
//! looked up as it is. A directory name is not a file, so nothing ever
//! redirects (`//lib` → `//lib/` would read as another host), and a name
//! with `..` cannot match an embedded file.

use std::path::PathBuf;

use axum::body::Body;
use axum::http::{header, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

use crate::server::ApiError;

#[derive(RustEmbed)]
#[folder = "ui/"]
struct Embedded;

/// Where the page's files come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UiFiles {
    /// The copy compiled into this binary.
    Embedded,
    /// A directory on disk, for UI development.
    Dir(PathBuf),
}

impl From<PathBuf> for UiFiles {
    fn from(dir: PathBuf) -> Self {
        UiFiles::Dir(dir)
    }
}

impl UiFiles {
    /// `dir` if one is given, else `$REFRESH_RACE_UI_DIR` if set, else the
    /// embedded copy.
    pub fn choose(dir: Option<PathBuf>) -> UiFiles {
        dir.or_else(|| std::env::var_os(UI_DIR_ENV).map(PathBuf::from))
            .map_or(UiFiles::Embedded, UiFiles::Dir)
    }
}

/// Overrides the embedded UI with a directory (development).
pub const UI_DIR_ENV: &str = "REFRESH_RACE_UI_DIR";

/// The embedded file at `path`, if there is one (for tests and checks).
pub fn embedded(path: &str) -> Option<Vec<u8>> {
    Embedded::get(path).map(|file| file.data.into_owned())
}

/// Answers GET/HEAD for an embedded UI file, or 404/405 JSON.
pub async fn serve_embedded(method: Method, uri: Uri) -> Response {
    let name = match uri.path() {
        "/" => "index.html",
        path => path.trim_start_matches('/'),
    };
    if method != Method::GET && method != Method::HEAD {
        // A file takes only GET and HEAD; a name that is none is not found.
        if Embedded::get(name).is_none() {
            return ApiError::NotFound {
                path: uri.path().to_owned(),
            }
            .into_response();
        }
        return ApiError::MethodNotAllowed {
            method: method.to_string(),
            path: uri.path().to_owned(),
        }
        .into_response();
    }
    let Some(file) = Embedded::get(name) else {
        return ApiError::NotFound {
            path: uri.path().to_owned(),
        }
        .into_response();
    };
    let mime = file.metadata.mimetype();
    let body = if method == Method::HEAD {
        Body::empty()
    } else {
        Body::from(file.data.into_owned())
    };
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(mime) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    // The files change with the binary; a reload must not show stale code.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_and_its_modules_are_compiled_in() {
        let index = embedded("index.html").expect("index.html is embedded");
        assert!(String::from_utf8_lossy(&index).contains("data-timeline"));
        assert!(embedded("lib/scale.js").is_some());
        assert!(embedded("../Cargo.toml").is_none());
    }
}
