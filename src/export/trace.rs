//! Chrome trace event JSON, as Perfetto (ui.perfetto.dev) and
//! chrome://tracing open it.
//!
//! One process (the run), one thread per lane, named by `M` `thread_name`
//! events and kept in the timeline's order by `thread_sort_index`. On a
//! request lane, a complete event (`ph:"X"`, `ts`/`dur` in µs; category
//! `request`) spans the logical request, and inside it one per HTTP
//! exchange (category `exchange`) and one per wait for someone else's
//! refresh (`wait`). Slices on a thread nest or are disjoint, as the
//! format requires. The token store's and the server's decisions are
//! instant events (`ph:"i"`). A flow (`ph:"s"` → `ph:"f"`, binding to the
//! enclosing slice) links each 401 to the refresh it caused.

use serde_json::{json, Value};

use crate::protocol::Lane;
use crate::scenario::RunReport;
use crate::timeline::{Event, EventKind};

use super::exchanges::{Exchange, ExchangeKind, Exchanges};
use super::narrate;

/// The one process id of a run.
pub const PID: u64 = 1;

/// The trace of a run.
pub fn trace(report: &RunReport) -> Value {
    let run = Exchanges::of(report);
    let s = &report.settings;
    let tid = |lane: Lane| -> u64 {
        run.lanes
            .iter()
            .position(|l| *l == lane)
            .map_or(0, |i| i as u64 + 1)
    };
    let mut events: Vec<Value> = vec![json!({
        "ph": "M", "pid": PID, "tid": 0, "name": "process_name",
        "args": {"name": format!("Refresh Race: case {}, client {}, policy {}", s.case, s.client_name(), s.policy)},
    })];
    for (i, lane) in run.lanes.iter().enumerate() {
        let tid = i as u64 + 1;
        events.push(json!({
            "ph": "M", "pid": PID, "tid": tid, "name": "thread_name",
            "args": {"name": lane.to_string()},
        }));
        events.push(json!({
            "ph": "M", "pid": PID, "tid": tid, "name": "thread_sort_index",
            "args": {"sort_index": i},
        }));
    }

    // Outer slices first, so that a child that starts in the same
    // microsecond as its parent is still read as its child.
    for request in &run.requests {
        let end = request.done.map_or(run.end_us, |(t, _, _)| t);
        let (name, outcome) = match request.done {
            Some((_, true, status)) => (format!("{} OK", request.lane), json!(status)),
            Some((_, false, status)) => (format!("{} FAILED", request.lane), json!(status)),
            None => (format!("{} (unfinished)", request.lane), Value::Null),
        };
        events.push(json!({
            "ph": "X", "pid": PID, "tid": tid(request.lane), "cat": "request",
            "name": name, "ts": request.start_us, "dur": end.saturating_sub(request.start_us),
            "args": {"final_status": outcome},
        }));
        for &(from, to) in &request.waits {
            events.push(json!({
                "ph": "X", "pid": PID, "tid": tid(request.lane), "cat": "wait",
                "name": "waiting for the refresh", "ts": from, "dur": to.saturating_sub(from),
            }));
        }
    }
    for ex in &run.exchanges {
        events.push(exchange(ex, &run, tid(ex.lane)));
    }
    for event in &report.events {
        if let Some((name, args)) = instant(event) {
            events.push(json!({
                "ph": "i", "s": "t", "pid": PID, "tid": tid(event.lane),
                "cat": event.kind.name(), "name": name, "ts": event.t_us, "args": args,
            }));
        }
    }
    for (id, (cause, refresh)) in run.flows().into_iter().enumerate() {
        let id = id as u64 + 1;
        let cause_end = cause.end_us(run.end_us);
        // Inside both slices, so each end binds to its exchange.
        let from = cause_end.saturating_sub(1).max(cause.sent_us);
        let to = refresh.sent_us;
        let name = format!(
            "401 with {} → refresh",
            cause.jti.as_deref().unwrap_or("no token")
        );
        events.push(json!({
            "ph": "s", "pid": PID, "tid": tid(cause.lane), "cat": "flow", "name": name,
            "id": id, "ts": from,
        }));
        events.push(json!({
            "ph": "f", "bp": "e", "pid": PID, "tid": tid(refresh.lane), "cat": "flow",
            "name": name, "id": id, "ts": to,
        }));
    }
    json!({
        "traceEvents": events,
        "displayTimeUnit": "ms",
        "otherData": {
            "source": format!("refresh-race {}", env!("CARGO_PKG_VERSION")),
            "verdict": report.verdict.sentence,
            "settings": report.settings,
        },
    })
}

fn exchange(ex: &Exchange, run: &Exchanges, tid: u64) -> Value {
    let end = ex.end_us(run.end_us);
    let name = match ex.kind {
        ExchangeKind::Request => format!("{} {}", ex.method(), ex.route),
        ExchangeKind::Retry => format!("retry {} {}", ex.method(), ex.route),
        ExchangeKind::Refresh => format!("refresh {}", ex.jti.as_deref().unwrap_or("")),
    };
    let kind = match ex.kind {
        ExchangeKind::Request => "request",
        ExchangeKind::Retry => "retry",
        ExchangeKind::Refresh => "refresh",
    };
    let mut args = json!({
        "kind": kind,
        "attempt": ex.attempt,
        "jti": ex.jti,
        "comment": narrate::exchange(run.report, &run.sentences, ex),
    });
    if let Some(answer) = &ex.answer {
        args["status"] = json!(answer.status);
        if let Some(reason) = answer.reason {
            args["reason"] = json!(reason);
        }
        if let Some(new) = &answer.new_jti {
            args["new_jti"] = json!(new);
        }
    }
    let status = ex
        .answer
        .as_ref()
        .map_or("…".to_owned(), |a| a.status.to_string());
    json!({
        "ph": "X", "pid": PID, "tid": tid, "cat": "exchange",
        "name": format!("{name} → {status}"),
        "ts": ex.sent_us, "dur": end.saturating_sub(ex.sent_us),
        "args": args,
    })
}

/// The instant events: the token store's and the server's decisions.
fn instant(event: &Event) -> Option<(String, Value)> {
    Some(match &event.kind {
        EventKind::TokenStored { jti, .. } => (format!("token store: {jti}"), json!({"jti": jti})),
        EventKind::LoggedOut { jti, reason, .. } => (
            format!("logged out ({jti} {reason})"),
            json!({"jti": jti, "reason": reason}),
        ),
        EventKind::Issued {
            attempt,
            jti,
            fam,
            iat,
            exp,
            refresh_until,
            ..
        } => (
            format!("issued {jti}"),
            // The signed token stays out: a trace gets shared.
            json!({"attempt": attempt, "jti": jti, "fam": fam, "iat": iat, "exp": exp, "refresh_until": refresh_until}),
        ),
        EventKind::Accepted {
            attempt,
            route,
            jti,
        } => (
            format!(
                "accepted {} on {route}",
                jti.as_deref().unwrap_or("no token")
            ),
            json!({"attempt": attempt, "route": route, "jti": jti}),
        ),
        EventKind::Rejected {
            attempt,
            route,
            jti,
            reason,
        } => (
            format!(
                "rejected {} on {route}: {reason}",
                jti.as_deref().unwrap_or("no token")
            ),
            json!({"attempt": attempt, "route": route, "jti": jti, "reason": reason}),
        ),
        EventKind::Rotated {
            attempt,
            jti,
            new_jti,
        } => (
            format!("rotated {jti} → {new_jti}"),
            json!({"attempt": attempt, "jti": jti, "new_jti": new_jti}),
        ),
        EventKind::Revoked {
            attempt,
            jti,
            cause,
        } => (
            format!("revoked {jti} ({cause})"),
            json!({"attempt": attempt, "jti": jti, "cause": cause}),
        ),
        EventKind::ClockAdvanced { by_ms, lab_now_ms } => (
            format!("lab clock +{:.1} s", *by_ms as f64 / 1000.0),
            json!({"by_ms": by_ms, "lab_now_ms": lab_now_ms}),
        ),
        _ => return None,
    })
}
