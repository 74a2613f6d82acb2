//! HAR 1.2 (HTTP Archive), as Chrome DevTools' Network panel imports it.
//!
//! One entry per HTTP exchange the tab made. The importer wants every
//! numeric field present, so whatever the lab does not measure is −1
//! (sizes, DNS, connect, TLS). Timings come from the events' `t_us`: the
//! whole exchange is `wait` (the lab's latency is the server's). Headers are
//! those the lab's clients send, with the bearer token shown by its `jti`
//! only: a HAR gets shared, and a JWT is a credential. Each entry's
//! `comment` says in one sentence what happened ([`super::narrate`]).

use serde_json::{json, Value};

use crate::scenario::RunReport;
use crate::server::{ATTEMPT_HEADER, LANE_HEADER};
use crate::timeline::EventKind;

use super::exchanges::{status_text, Exchange, ExchangeKind, Exchanges};
use super::narrate;

/// The host the entries name: `.localhost` says "this machine" without
/// pretending to know the run's port.
pub const HAR_ORIGIN: &str = "http://refresh-race.localhost";

/// The page all entries belong to.
const PAGE_ID: &str = "run";

/// The HAR document of a run.
pub fn har(report: &RunReport) -> Value {
    let run = Exchanges::of(report);
    let start_ms = run_start_ms(report);
    let s = &report.settings;
    let title = format!(
        "Refresh Race: case {}, client {}, policy {} ({} secret, {} public{}, seed {})",
        s.case,
        s.client_name(),
        s.policy,
        s.secret,
        s.public,
        if s.late { ", late request" } else { "" },
        s.seed
    );
    let entries: Vec<Value> = run
        .exchanges
        .iter()
        .map(|ex| entry(ex, &run, start_ms))
        .collect();
    json!({
        "log": {
            "version": "1.2",
            "creator": {"name": "refresh-race", "version": env!("CARGO_PKG_VERSION")},
            "pages": [{
                "startedDateTime": iso_date(start_ms),
                "id": PAGE_ID,
                "title": title,
                "pageTimings": {"onContentLoad": -1, "onLoad": -1},
            }],
            "entries": entries,
            "comment": report.verdict.sentence,
        }
    })
}

fn entry(ex: &Exchange, run: &Exchanges, start_ms: f64) -> Value {
    let end_us = ex.end_us(run.end_us);
    let time_ms = (end_us - ex.sent_us) as f64 / 1000.0;
    let mut request_headers = vec![
        header("Host", HAR_ORIGIN.trim_start_matches("http://")),
        header("Accept", "*/*"),
        header(LANE_HEADER, &ex.lane.to_string()),
        header(ATTEMPT_HEADER, &ex.attempt.to_string()),
    ];
    if let Some(jti) = &ex.jti {
        // The token itself stays out of the file: only which one it was.
        request_headers.push(header("Authorization", &format!("Bearer <JWT jti={jti}>")));
    }
    if ex.kind == ExchangeKind::Refresh {
        request_headers.push(header("Content-Length", "0"));
    }
    let (status, reason) = ex
        .answer
        .as_ref()
        .map_or((0, None), |answer| (answer.status, answer.reason));
    let mut response_headers = Vec::new();
    if status != 0 {
        response_headers.push(header("Content-Type", "application/json"));
    }
    if status == 401 {
        response_headers.push(header("WWW-Authenticate", "Bearer error=\"invalid_token\""));
    }
    let server: Vec<String> = ex
        .server
        .iter()
        .filter(|event| !matches!(event.kind, EventKind::Issued { .. }))
        .map(|event| crate::render::describe(&event.kind))
        .chain(ex.server.iter().filter_map(|event| match &event.kind {
            EventKind::Issued { jti, .. } => Some(format!("issued {jti}")),
            _ => None,
        }))
        .collect();
    let mut entry = json!({
        "pageref": PAGE_ID,
        "startedDateTime": iso_date(start_ms + ex.sent_us as f64 / 1000.0),
        "time": time_ms,
        "request": {
            "method": ex.method(),
            "url": format!("{HAR_ORIGIN}{}", ex.route),
            "httpVersion": "HTTP/1.1",
            "cookies": [],
            "headers": request_headers,
            "queryString": [],
            "headersSize": -1,
            "bodySize": if ex.kind == ExchangeKind::Refresh { 0 } else { -1 },
        },
        "response": {
            "status": status,
            "statusText": status_text(status),
            "httpVersion": if status == 0 { "" } else { "HTTP/1.1" },
            "cookies": [],
            "headers": response_headers,
            "content": {
                "size": -1,
                "mimeType": if status == 0 { "x-unknown" } else { "application/json" },
            },
            "redirectURL": "",
            "headersSize": -1,
            "bodySize": -1,
        },
        "cache": {},
        "timings": {
            "blocked": -1,
            "dns": -1,
            "connect": -1,
            "send": 0,
            "wait": time_ms,
            "receive": 0,
            "ssl": -1,
        },
        "comment": narrate::exchange(run.report, &run.sentences, ex),
        "_resourceType": "fetch",
        "_lane": ex.lane,
        "_attempt": ex.attempt,
        "_server": server,
    });
    if let Some(reason) = reason {
        entry["_reason"] = json!(reason);
    }
    // What Chrome writes for a request that never got an answer.
    if ex.answer.is_none() {
        entry["response"]["_error"] = json!("no answer before the run finished");
    } else if status == 0 {
        entry["response"]["_error"] = json!("no answer (transport)");
    }
    entry
}

fn header(name: &str, value: &str) -> Value {
    json!({"name": name, "value": value})
}

/// Wall-clock time of the run's first event, in Unix ms, best effort: the
/// run's lab clock started at wall time and moved by its clock jumps and by
/// the run's length (slowed down by `speed`).
pub fn run_start_ms(report: &RunReport) -> f64 {
    let jumped: u64 = report
        .events
        .iter()
        .map(|event| match event.kind {
            EventKind::ClockAdvanced { by_ms, .. } => by_ms,
            _ => 0,
        })
        .sum();
    let last_us = report.events.iter().map(|e| e.t_us).max().unwrap_or(0);
    let ran_ms = last_us as f64 / 1000.0 * report.settings.speed;
    (report.lab_now_ms as f64 - jumped as f64 - ran_ms).max(0.0)
}

/// `2026-01-31T12:34:56.789Z` for Unix ms.
pub fn iso_date(unix_ms: f64) -> String {
    let total_ms = unix_ms.max(0.0).round() as u64;
    let (secs, ms) = (total_ms / 1000, total_ms % 1000);
    let (days, day_secs) = (secs / 86_400, secs % 86_400);
    let (hour, minute, second) = (day_secs / 3600, day_secs % 3600 / 60, day_secs % 60);
    // Howard Hinnant's civil_from_days, for days since 1970-01-01.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{ms:03}Z")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_iso_8601_in_utc() {
        assert_eq!(iso_date(0.0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso_date(951_782_400_123.0), "2000-02-29T00:00:00.123Z");
        assert_eq!(iso_date(1_767_225_599_999.0), "2025-12-31T23:59:59.999Z");
    }
}
