//! The auth server's routes over real HTTP: status codes, RFC 6750 headers,
//! JSON error bodies, and the atomic refresh under concurrency.

use crate::common;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use common::{answer, http, instant, login, refresh, secret, start};
use refresh_race::server::tokens::{FamilyId, TokenAuthority};
use refresh_race::settings::Policy;
use serde_json::Value;

#[tokio::test]
async fn public_needs_no_token_and_secret_accepts_a_valid_one() {
    let (server, _) = start(&instant(Policy::Strict)).await;
    let base = server.base_url();
    let response = http()
        .get(format!("{base}/api/public"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let token = login(&base).await;
    let (status, body) = secret(&http(), &base, &token).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["sub"], "ada");
}

#[tokio::test]
async fn login_answers_in_the_documented_shape() {
    let (server, _) = start(&instant(Policy::Strict)).await;
    let body: Value = http()
        .post(format!("{}/api/login", server.base_url()))
        .json(&serde_json::json!({"login": "grace", "password": "x"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["expires_in"], 5);
    assert_eq!(body["refresh_window"], 10);
    let token = body["token"].as_str().unwrap();
    let header: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(token.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(header["alg"], "HS256");
    let claims: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(token.split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();
    for claim in ["sub", "iat", "exp", "jti", "fam"] {
        assert!(
            claims.get(claim).is_some(),
            "claim {claim} missing: {claims}"
        );
    }
    // Lab time to the millisecond: a fraction unless the second is whole.
    let ms = |claim: &Value| (claim.as_f64().unwrap() * 1000.0).round() as u64;
    assert_eq!(ms(&claims["exp"]) - ms(&claims["iat"]), 5_000);
}

/// Sends `authorization` (if any) to /api/secret; returns status, the
/// WWW-Authenticate header and the JSON body.
async fn secret_with(base: &str, authorization: Option<&str>) -> (u16, String, Value) {
    let mut request = http().get(format!("{base}/api/secret"));
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, challenge, response.json().await.unwrap())
}

#[tokio::test]
async fn every_bad_token_gets_a_401_with_its_reason() {
    let (server, state) = start(&instant(Policy::Strict)).await;
    let base = server.base_url();
    let token = login(&base).await;

    // RFC 6750 §3.1: no credentials, no error code in the challenge.
    let (status, challenge, body) = secret_with(&base, None).await;
    assert_eq!((status, body["reason"].as_str()), (401, Some("missing")));
    assert_eq!(challenge, "Bearer realm=\"refresh-race\"");

    let (status, challenge, body) = secret_with(&base, Some("Basic YWRhOnB3")).await;
    assert_eq!((status, body["reason"].as_str()), (401, Some("malformed")));
    assert_eq!(body["error"], "invalid_token");
    assert!(challenge.starts_with("Bearer error=\"invalid_token\", error_description=\""));

    let (status, _, body) = secret_with(&base, Some("Bearer not.a-jwt")).await;
    assert_eq!((status, body["reason"].as_str()), (401, Some("malformed")));

    // Signed with another key.
    let (foreign, _) = TokenAuthority::new().sign("ada", FamilyId(1), state.clock.now(), 5_000);
    let (status, _, body) = secret_with(&base, Some(&format!("Bearer {foreign}"))).await;
    assert_eq!(
        (status, body["reason"].as_str()),
        (401, Some("bad_signature"))
    );

    // `alg` switched to none, signature stripped.
    let payload = token.split('.').nth(1).unwrap();
    let none = format!(
        "{}.{payload}.",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#)
    );
    let (status, _, body) = secret_with(&base, Some(&format!("Bearer {none}"))).await;
    assert_eq!(
        (status, body["reason"].as_str()),
        (401, Some("bad_signature"))
    );
    assert!(body["message"].as_str().unwrap().contains("none"));

    // A genuine token, past its exp on the lab clock (leeway 0: one second
    // past exp is enough).
    state.clock.advance_ms(6_000);
    let (status, challenge, body) = secret_with(&base, Some(&format!("Bearer {token}"))).await;
    assert_eq!((status, body["reason"].as_str()), (401, Some("expired")));
    assert!(challenge.contains("expired"), "{challenge}");
}

/// `/api/secret` remembers the tokens it verified (a thread's cache keyed by
/// the whole token string); what it remembers must never outlive a
/// revocation or an expiry, nor match a token that differs in any byte.
/// The test's server runs on the test's one thread, so every repeat below
/// is answered from the cache.
#[tokio::test]
async fn a_cached_token_is_still_refused_once_revoked_or_expired() {
    let (server, state) = start(&instant(Policy::Strict)).await;
    let base = server.base_url();
    let client = http();
    let first = login(&base).await;
    for _ in 0..3 {
        assert_eq!(secret(&client, &base, &first).await.0, 200);
    }
    // Rotation spends the cached token: refused as revoked from then on.
    let (status, body) = refresh(&client, &base, &first).await;
    assert_eq!(status, 200, "{body}");
    let second = body["token"].as_str().unwrap().to_owned();
    let (status, body) = secret(&client, &base, &first).await;
    assert_eq!((status, body["reason"].as_str()), (401, Some("revoked")));

    // A cached token dies at its exp all the same.
    for _ in 0..3 {
        assert_eq!(secret(&client, &base, &second).await.0, 200);
    }
    state.clock.advance_ms(5_000);
    let (status, body) = secret(&client, &base, &second).await;
    assert_eq!((status, body["reason"].as_str()), (401, Some("expired")));

    // One byte changed in the signature of a cached, valid token, away from
    // its last 8 bytes, which pick the cache slot: the forgery lands on the
    // genuine token's entry and must still be refused.
    let third = login(&base).await;
    assert_eq!(secret(&client, &base, &third).await.0, 200);
    let mut forged = third.clone().into_bytes();
    let at = forged.len() - 20;
    forged[at] = if forged[at] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(forged).unwrap();
    let (status, body) = secret(&client, &base, &forged).await;
    assert_eq!(
        (status, body["reason"].as_str()),
        (401, Some("bad_signature"))
    );
    // The same login's claims signed with another key: refused, while the
    // genuine token stays cached and accepted.
    let claims: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(third.split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();
    let (foreign, _) = TokenAuthority::new().sign(
        claims["sub"].as_str().unwrap(),
        FamilyId(claims["fam"].as_str().unwrap()[1..].parse().unwrap()),
        state.clock.now(),
        5_000,
    );
    let (status, body) = secret(&client, &base, &foreign).await;
    assert_eq!(
        (status, body["reason"].as_str()),
        (401, Some("bad_signature"))
    );
    assert_eq!(secret(&client, &base, &third).await.0, 200);
}

#[tokio::test]
async fn a_token_expires_exactly_at_exp() {
    let (server, state) = start(&instant(Policy::Strict)).await;
    let base = server.base_url();
    let token = login(&base).await;
    assert_eq!(secret(&http(), &base, &token).await.0, 200);
    // 5 s after iat is exp, whatever the time since (tests/it/hardening.rs
    // checks the exact millisecond on a frozen clock).
    state.clock.advance_ms(5_000);
    let (status, body) = secret(&http(), &base, &token).await;
    assert_eq!((status, body["reason"].as_str()), (401, Some("expired")));
}

#[tokio::test]
async fn bad_login_bodies_get_clear_400_and_413() {
    let (server, _) = start(&instant(Policy::Strict)).await;
    let url = format!("{}/api/login", server.base_url());
    let post = |body: Vec<u8>| {
        http()
            .post(&url)
            .header("content-type", "application/json")
            .header("content-type", "application/json")
            .body(body)
            .send()
    };

    let response = post(b"{not json".to_vec()).await.unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "bad_json");

    let response = post(br#"{"login":"ada"}"#.to_vec()).await.unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("missing field `password`"));

    let response = post(br#"{"login":"  ","password":"x"}"#.to_vec())
        .await
        .unwrap();
    assert_eq!(response.status(), 400);

    let huge = format!(r#"{{"login":"{}","password":"x"}}"#, "a".repeat(100_000));
    let response = post(huge.into_bytes()).await.unwrap();
    assert_eq!(response.status(), 413);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "payload_too_large");
}

#[tokio::test]
async fn unknown_routes_and_wrong_methods_get_json() {
    let (server, _) = start(&instant(Policy::Strict)).await;
    let base = server.base_url();
    let (status, body) = answer(http().get(format!("{base}/api/nope"))).await;
    assert_eq!((status, body["error"].as_str()), (404, Some("not_found")));

    let (status, body) = answer(http().get(format!("{base}/api/login"))).await;
    assert_eq!(status, 405);
    assert_eq!(body["message"], "GET is not allowed on /api/login");
}

#[tokio::test]
async fn refresh_failures_are_400_invalid_grant() {
    let (server, state) = start(&instant(Policy::Strict)).await;
    let base = server.base_url();
    let client = http();

    let response = client
        .post(format!("{base}/api/refresh"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        (body["error"].as_str(), body["reason"].as_str()),
        (Some("invalid_grant"), Some("missing"))
    );

    let (status, body) = refresh(&client, &base, "x.y.z").await;
    assert_eq!((status, body["reason"].as_str()), (400, Some("malformed")));

    let token = login(&base).await;
    state.clock.advance_ms(16_000); // past exp + 10 s window
    let (status, body) = refresh(&client, &base, &token).await;
    assert_eq!(
        (status, body["reason"].as_str()),
        (400, Some("window_over"))
    );
}

#[tokio::test]
async fn refresh_rotates_and_the_old_token_dies_for_access_too() {
    let (server, state) = start(&instant(Policy::Strict)).await;
    let base = server.base_url();
    let client = http();
    let old = login(&base).await;
    state.clock.advance_ms(6_000);
    let (status, body) = refresh(&client, &base, &old).await;
    assert_eq!(status, 200);
    let fresh = body["token"].as_str().unwrap();
    assert_eq!(secret(&client, &base, fresh).await.0, 200);
    let (status, body) = secret(&client, &base, &old).await;
    assert_eq!((status, body["reason"].as_str()), (401, Some("revoked")));
    let (status, body) = refresh(&client, &base, &old).await;
    assert_eq!((status, body["reason"].as_str()), (400, Some("reused")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_1000_concurrent_refreshes_exactly_one_wins() {
    let (server, state) = start(&instant(Policy::Strict)).await;
    let base = server.base_url();
    let token = login(&base).await;
    state.clock.advance_ms(6_000);
    let client = http();
    let attempts = (0..1000).map(|_| {
        let (client, base, token) = (client.clone(), base.clone(), token.clone());
        tokio::spawn(async move { refresh(&client, &base, &token).await })
    });
    let results = futures::future::join_all(attempts).await;
    let mut won = 0;
    let mut reused = 0;
    for result in results {
        let (status, body) = result.unwrap();
        match (status, body["reason"].as_str()) {
            (200, _) => won += 1,
            (400, Some("reused")) => reused += 1,
            other => panic!("unexpected answer {other:?}"),
        }
    }
    assert_eq!((won, reused), (1, 999));
}
