//! Locked doors over real HTTP: a foreign Host, a cross-site state change
//! and a non-JSON body are refused before any handler runs, same-origin
//! requests pass, and no answer carries CORS headers.

use crate::common;

use std::io::{Read, Write};

use common::http;
use refresh_race::web;
use serde_json::Value;

async fn start_lab() -> (String, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(web::serve(
        listener,
        web::default_ui_dir(),
        std::future::pending(),
    ));
    (format!("http://{addr}"), addr.to_string())
}

/// One raw HTTP/1.1 request with exactly these headers: status and body.
async fn raw(addr: String, request: String) -> (u16, String) {
    tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(&addr).unwrap();
        stream.write_all(request.as_bytes()).unwrap();
        let mut text = String::new();
        stream.read_to_string(&mut text).unwrap();
        let status = text[9..12].parse().unwrap();
        let body = text.split_once("\r\n\r\n").unwrap().1.to_owned();
        (status, body)
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_foreign_host_is_refused_and_ours_are_served() {
    let (_, addr) = start_lab().await;
    let port = addr.rsplit(':').next().unwrap().to_owned();
    // DNS rebinding: a page on attacker.example re-pointed at 127.0.0.1.
    let (status, body) = raw(
        addr.clone(),
        format!("GET /lab/options HTTP/1.1\r\nHost: attacker.example:{port}\r\nConnection: close\r\n\r\n"),
    )
    .await;
    assert_eq!(status, 403);
    let json: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["error"], "forbidden");
    assert!(json["message"].as_str().unwrap().contains("DNS rebinding"));
    for host in [format!("localhost:{port}"), format!("127.0.0.1:{port}")] {
        let (status, _) = raw(
            addr.clone(),
            format!("GET /lab/options HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"),
        )
        .await;
        assert_eq!(status, 200, "{host}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_site_state_changes_are_refused() {
    let (base, _) = start_lab().await;
    // The classic cross-site attack: a text/plain POST (no preflight) from another origin.
    for path in ["/lab/runs", "/api/login", "/api/refresh", "/lab/clock"] {
        let response = http()
            .post(format!("{base}{path}"))
            .header("origin", "http://attacker.example")
            .header("content-type", "text/plain")
            .body(r#"{"login":"ada","password":"x"}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 403, "{path}");
        assert!(response
            .headers()
            .get("access-control-allow-origin")
            .is_none());
        let json: Value = response.json().await.unwrap();
        assert!(
            json["message"]
                .as_str()
                .unwrap()
                .contains("attacker.example"),
            "{json}"
        );
    }
    let response = http()
        .post(format!("{base}/api/login"))
        .header("sec-fetch-site", "cross-site")
        .json(&serde_json::json!({"login": "ada", "password": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_origin_json_passes_and_other_bodies_are_refused() {
    let (base, _) = start_lab().await;
    let response = http()
        .post(format!("{base}/api/login"))
        .header("origin", base.clone())
        .header("sec-fetch-site", "same-origin")
        .json(&serde_json::json!({"login": "ada", "password": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    // Without Origin (curl, the CLI's clients), a body must still be JSON.
    let response = http()
        .post(format!("{base}/api/login"))
        .header("content-type", "text/plain")
        .body(r#"{"login":"ada","password":"x"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 415);
    let json: Value = response.json().await.unwrap();
    assert_eq!(json["error"], "unsupported_media_type");
    // A refresh has no body: nothing to insist on.
    let token = common::login(&base).await;
    let (status, _) = common::refresh(&http(), &base, &token).await;
    assert_eq!(status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_preflight_gets_no_cors_permission() {
    let (base, _) = start_lab().await;
    let response = http()
        .request(reqwest::Method::OPTIONS, format!("{base}/lab/runs"))
        .header("origin", "http://attacker.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    for name in [
        "access-control-allow-origin",
        "access-control-allow-methods",
        "access-control-allow-headers",
    ] {
        assert!(response.headers().get(name).is_none(), "{name}");
    }
}
