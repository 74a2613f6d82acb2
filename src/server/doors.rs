//! Locked doors: a lab server answers only requests meant for it.
//!
//! A server on 127.0.0.1 is reachable from every web page the user visits.
//! Two attacks follow, and both are refused here, on every server the lab
//! runs: the accept loop ([`super::listen`]) checks every request
//! before its router sees it (docs/security.md):
//! - **DNS rebinding**: a page on `attacker.example` re-points its name at
//!   127.0.0.1 and reads our answers as same-origin. Its requests carry
//!   `Host: attacker.example`, so only the addresses the lab bound are
//!   accepted as `Host`.
//! - **Cross-site requests**: a page POSTs to us with `content-type:
//!   text/plain` (no CORS preflight) to start runs or mint tokens. Every
//!   state-changing request from another origin (`Origin`, or
//!   `Sec-Fetch-Site: cross-site`) is refused, and a body must be
//!   `application/json` (an OAuth refresh's form, RFC 6749 §6, only on
//!   `/api/refresh`).
//!
//! No CORS headers are ever sent, so another origin cannot read an answer.

use std::net::{IpAddr, SocketAddr};

use axum::http::{header, HeaderMap, Method};

use super::ApiError;
use crate::protocol::{Route, FORM};

/// Who may knock: the `Host` values and origins of the addresses the lab
/// answers on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Doors {
    /// Lowercase `host:port` values accepted in `Host`.
    hosts: Vec<String>,
    /// Lowercase origins accepted in `Origin` (`http://host:port`).
    origins: Vec<String>,
}

impl Doors {
    /// The doors of a server bound to `addr`. On a loopback address the
    /// names of loopback are let in too (`localhost`, `127.0.0.1`, `[::1]`);
    /// on another address (classroom mode) that address alone.
    pub fn for_addr(addr: SocketAddr) -> Self {
        let port = addr.port();
        let mut names = vec![host_name(addr.ip())];
        if addr.ip().is_loopback() {
            for name in ["127.0.0.1", "localhost", "[::1]"] {
                if !names.iter().any(|n| n == name) {
                    names.push(name.to_owned());
                }
            }
        }
        Doors {
            hosts: names.iter().map(|name| format!("{name}:{port}")).collect(),
            origins: names
                .iter()
                .map(|name| format!("http://{name}:{port}"))
                .collect(),
        }
    }

    /// The host:port values this server answers to, for messages and docs.
    pub fn hosts(&self) -> &[String] {
        &self.hosts
    }

    /// `Ok` for a request this lab should answer; otherwise the refusal.
    pub fn check(&self, method: &Method, path: &str, headers: &HeaderMap) -> Result<(), ApiError> {
        let forbidden = |message: String| ApiError::Forbidden { message };
        // Compared without allocating: this runs on every request.
        let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
        match host {
            Some(host)
                if self
                    .hosts
                    .iter()
                    .any(|ours| ours.eq_ignore_ascii_case(host)) => {}
            Some(host) => {
                return Err(forbidden(format!(
                "this lab answers only to {}, not to Host {host:?} (a guard against DNS rebinding)",
                self.hosts.join(", ")
            )))
            }
            None => {
                return Err(forbidden(
                    "a request without a Host header is not for this lab".into(),
                ))
            }
        }
        if path.starts_with(RUN_PATHS) {
            self.same_origin_only(headers)?;
        }
        if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
            return Ok(());
        }
        let fetch_site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
        if fetch_site == Some("cross-site") {
            return Err(forbidden(
                "a cross-site page may not change this lab's state (Sec-Fetch-Site: cross-site)"
                    .into(),
            ));
        }
        if let Some(origin) = headers.get(header::ORIGIN) {
            let origin = origin.to_str().unwrap_or("").to_ascii_lowercase();
            if !self.origins.contains(&origin) {
                return Err(forbidden(format!(
                    "requests from origin {origin:?} may not change this lab's state; only {} may",
                    self.origins.join(", ")
                )));
            }
        }
        let has_body = headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|len| len != "0")
            || headers.contains_key(header::TRANSFER_ENCODING);
        if has_body {
            let mime = headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(';').next())
                .map(str::trim);
            // JSON everywhere; a form only where OAuth prescribes one.
            let allowed = mime.is_some_and(|mime| {
                mime.eq_ignore_ascii_case("application/json")
                    || (is_refresh(path) && mime.eq_ignore_ascii_case(FORM))
            });
            if !allowed {
                return Err(ApiError::UnsupportedMediaType);
            }
        }
        Ok(())
    }

    /// A live run's routes (its page's API, its reports, its network) are
    /// only ever called by the lab's own page. Another page could reach them
    /// with any method (an `<img src>` is a GET that carries no `Origin`),
    /// so every sign the browser gives that the request is not same-origin
    /// refuses it: `Sec-Fetch-Site` other than `same-origin` (another port
    /// of localhost is `same-site`) or `none` (typed in the address bar),
    /// an `Origin` or a `Referer` of another origin. Clients that send
    /// none of them (curl, the CLI, tests) are not browsers and pass.
    fn same_origin_only(&self, headers: &HeaderMap) -> Result<(), ApiError> {
        let forbidden = |why: String| ApiError::Forbidden {
            message: format!("a live run answers only the lab's own page, not {why}"),
        };
        let text = |name: &'static str| headers.get(name).map(|v| v.to_str().unwrap_or(""));
        if let Some(site) = text("sec-fetch-site") {
            if site != "same-origin" && site != "none" {
                return Err(forbidden(format!("a request with Sec-Fetch-Site: {site}")));
            }
        }
        if let Some(origin) = text("origin") {
            if !self.is_ours(origin) {
                return Err(forbidden(format!("a request from origin {origin:?}")));
            }
        }
        if let Some(referer) = text("referer") {
            // scheme://host:port, the origin part of the URL.
            let origin = match referer.match_indices('/').nth(2) {
                Some((end, _)) => &referer[..end],
                None => referer,
            };
            if !self.is_ours(origin) {
                return Err(forbidden(format!("a request from a page on {origin:?}")));
            }
        }
        Ok(())
    }

    fn is_ours(&self, origin: &str) -> bool {
        self.origins
            .iter()
            .any(|ours| ours.eq_ignore_ascii_case(origin))
    }
}

/// Where a live run's routes live (`/lab/runs/{id}/…`).
const RUN_PATHS: &str = "/lab/runs/";

fn host_name(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => format!("[{v6}]"),
    }
}

/// The refresh route, on the lab's own `/api` or on a browser run's page API
/// (`/lab/runs/{id}/api/refresh`, an OAuth-mode library's refresh-token grant;
/// an explored run's is `/lab/runs/explored/{id}/api/refresh`).
fn is_refresh(path: &str) -> bool {
    path == Route::Refresh.path()
        || path
            .strip_prefix("/lab/runs/")
            .map(|rest| rest.strip_prefix("explored/").unwrap_or(rest))
            .and_then(|rest| rest.split_once('/'))
            .is_some_and(|(id, rest)| {
                !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) && rest == "api/refresh"
            })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn loopback_names_are_let_in_and_others_are_not() {
        let doors = Doors::for_addr("127.0.0.1:3000".parse().unwrap());
        for host in [
            "127.0.0.1:3000",
            "localhost:3000",
            "LOCALHOST:3000",
            "[::1]:3000",
        ] {
            assert!(
                doors
                    .check(&Method::GET, "/", &headers(&[("host", host)]))
                    .is_ok(),
                "{host}"
            );
        }
        for host in ["attacker.example:3000", "127.0.0.1:3001", "localhost"] {
            assert!(
                doors
                    .check(&Method::GET, "/", &headers(&[("host", host)]))
                    .is_err(),
                "{host}"
            );
        }
    }

    #[test]
    fn a_form_is_let_in_on_the_refresh_routes_only() {
        for path in [
            "/api/refresh",
            "/lab/runs/123/api/refresh",
            "/lab/runs/explored/123/api/refresh",
        ] {
            assert!(is_refresh(path), "{path}");
        }
        for path in [
            "/api/secret",
            "/lab/runs/explored/api/refresh",
            "/lab/runs/explored/12x/api/refresh",
            "/lab/runs/123/api/secret",
            "/lab/runs//api/refresh",
        ] {
            assert!(!is_refresh(path), "{path}");
        }
    }

    #[test]
    fn a_classroom_address_is_its_only_name() {
        let doors = Doors::for_addr("192.0.2.7:8080".parse().unwrap());
        assert_eq!(doors.hosts(), ["192.0.2.7:8080"]);
    }
}
