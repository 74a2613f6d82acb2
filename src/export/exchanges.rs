//! The run as HTTP exchanges: what every export draws.
//!
//! The client records a `request_sent`, `retry_sent` or `refresh_sent` when
//! an exchange leaves and a `response` or `refresh_done` when its answer
//! arrives; both carry the exchange's `attempt`, and so do the server's
//! decisions about it. This module pairs them once, and notes what each
//! lane did after each answer (refresh, wait, retry, give up), which 401
//! caused which refresh, and which refusal logged the tab out.

use std::collections::{BTreeMap, HashMap};

use crate::protocol::{Lane, Reason, Route};
use crate::scenario::RunReport;
use crate::settings::Strategy;
use crate::timeline::{Event, EventKind};

/// What kind of call an exchange is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExchangeKind {
    /// A logical request's first attempt.
    Request,
    /// The same request sent again after a refresh.
    Retry,
    /// `POST /api/refresh`.
    Refresh,
}

/// The answer the client got.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub us: u64,
    pub seq: u64,
    /// HTTP status; 0 when the client got no answer at all.
    pub status: u16,
    pub reason: Option<Reason>,
    /// The token a successful refresh returned.
    pub new_jti: Option<String>,
}

impl Answer {
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// What the lane did right after an answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Then {
    /// Nothing was recorded after it (the run ended, or the lane is done).
    Nothing,
    /// It sent a refresh itself (the exchange with this attempt).
    Refresh { attempt: u64 },
    /// It waited for a refresh another lane was making.
    Wait,
    /// It sent the request again with `jti`.
    Retry { attempt: u64, jti: Option<String> },
    /// The logical request ended there.
    Finish { ok: bool, status: u16 },
}

/// One HTTP exchange: a call and its answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Exchange {
    pub attempt: u64,
    pub lane: Lane,
    pub kind: ExchangeKind,
    pub route: Route,
    /// The token presented (bearer, or the refresh credential).
    pub jti: Option<String>,
    pub sent_us: u64,
    pub sent_seq: u64,
    pub answer: Option<Answer>,
    /// The server's decisions about this exchange, in order.
    pub server: Vec<Event>,
    /// For a refresh: the exchange whose 401 made this lane refresh.
    pub caused_by: Option<u64>,
    pub then: Then,
    /// For a refused refresh: the tab logged out because of it.
    pub logged_out: bool,
}

impl Exchange {
    /// `GET` or `POST`.
    pub fn method(&self) -> &'static str {
        match self.route {
            Route::Refresh | Route::Login => "POST",
            Route::Public | Route::Secret => "GET",
        }
    }

    /// When the exchange ended: its answer, else `end_us` (still open).
    pub fn end_us(&self, run_end_us: u64) -> u64 {
        self.answer
            .as_ref()
            .map_or(run_end_us.max(self.sent_us), |answer| answer.us)
    }

    /// Refused: a 4xx/5xx answer or no answer at all.
    pub fn refused(&self) -> bool {
        self.answer.as_ref().is_some_and(|answer| !answer.ok())
    }
}

/// A logical request from its first send to its end.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub lane: Lane,
    pub start_us: u64,
    /// `(t_us, ok, final status)` once it ended.
    pub done: Option<(u64, bool, u16)>,
    /// Spans spent waiting for another lane's refresh: `(from, to)`.
    pub waits: Vec<(u64, u64)>,
}

/// A run's exchanges and requests, in the order they started.
#[derive(Debug, Clone)]
pub struct Exchanges<'a> {
    pub report: &'a RunReport,
    pub exchanges: Vec<Exchange>,
    pub requests: Vec<Request>,
    /// Every lane that has an event, in the timeline's order.
    pub lanes: Vec<Lane>,
    /// The last event's time.
    pub end_us: u64,
    /// The engine's sentence for each event (crate::narrate).
    pub sentences: Vec<String>,
}

impl<'a> Exchanges<'a> {
    pub fn of(report: &'a RunReport) -> Self {
        let events = &report.events;
        let end_us = events.iter().map(|e| e.t_us).max().unwrap_or(0);
        let mut exchanges: Vec<Exchange> = Vec::new();
        let mut by_attempt: HashMap<u64, usize> = HashMap::new();
        let mut requests: Vec<Request> = Vec::new();
        let mut request_of: HashMap<Lane, usize> = HashMap::new();
        // Per lane: the exchange whose `then` is still open, and whether
        // the lane's last event was a 401 answer (and of which attempt).
        let mut open_then: HashMap<Lane, usize> = HashMap::new();
        let mut last_401: HashMap<Lane, u64> = HashMap::new();
        let mut open_wait: HashMap<Lane, u64> = HashMap::new();
        let mut lanes: BTreeMap<Lane, ()> = BTreeMap::new();

        for event in events {
            lanes.insert(event.lane, ());
            let lane = event.lane;
            // A lane event after an answer says what the lane did next.
            let then = match &event.kind {
                EventKind::RefreshSent { attempt, .. } => Some(Then::Refresh { attempt: *attempt }),
                EventKind::Queued { .. } => Some(Then::Wait),
                EventKind::RetrySent { attempt, jti, .. } => Some(Then::Retry {
                    attempt: *attempt,
                    jti: jti.clone(),
                }),
                EventKind::RequestDone { ok, status } => Some(Then::Finish {
                    ok: *ok,
                    status: *status,
                }),
                _ => None,
            };
            if let Some(then) = then {
                if let Some(index) = open_then.remove(&lane) {
                    exchanges[index].then = then;
                }
                if let Some(from) = open_wait.remove(&lane) {
                    if let Some(&r) = request_of.get(&lane) {
                        requests[r].waits.push((from, event.t_us));
                    }
                }
            }
            let caused_by = last_401.remove(&lane);
            let sent = match &event.kind {
                EventKind::RequestSent {
                    attempt,
                    route,
                    jti,
                } => {
                    request_of.insert(lane, requests.len());
                    requests.push(Request {
                        lane,
                        start_us: event.t_us,
                        done: None,
                        waits: Vec::new(),
                    });
                    Some((*attempt, ExchangeKind::Request, *route, jti.clone(), None))
                }
                EventKind::RetrySent {
                    attempt,
                    route,
                    jti,
                } => Some((*attempt, ExchangeKind::Retry, *route, jti.clone(), None)),
                EventKind::RefreshSent { attempt, jti } => Some((
                    *attempt,
                    ExchangeKind::Refresh,
                    Route::Refresh,
                    jti.clone(),
                    caused_by,
                )),
                _ => None,
            };
            if let Some((attempt, kind, route, jti, caused_by)) = sent {
                by_attempt.insert(attempt, exchanges.len());
                exchanges.push(Exchange {
                    attempt,
                    lane,
                    kind,
                    route,
                    jti,
                    sent_us: event.t_us,
                    sent_seq: event.seq,
                    answer: None,
                    server: Vec::new(),
                    caused_by,
                    then: Then::Nothing,
                    logged_out: false,
                });
                continue;
            }
            match &event.kind {
                EventKind::Response {
                    attempt,
                    status,
                    reason,
                    ..
                } => {
                    if let Some(&index) = by_attempt.get(attempt) {
                        exchanges[index].answer = Some(Answer {
                            us: event.t_us,
                            seq: event.seq,
                            status: *status,
                            reason: *reason,
                            new_jti: None,
                        });
                        open_then.insert(lane, index);
                        if *status == 401 {
                            last_401.insert(lane, *attempt);
                        }
                    }
                }
                EventKind::RefreshDone {
                    attempt,
                    status,
                    new_jti,
                    reason,
                    ..
                } => {
                    if let Some(&index) = by_attempt.get(attempt) {
                        exchanges[index].answer = Some(Answer {
                            us: event.t_us,
                            seq: event.seq,
                            status: *status,
                            reason: *reason,
                            new_jti: new_jti.clone(),
                        });
                        open_then.insert(lane, index);
                    }
                }
                EventKind::Queued { .. } => {
                    open_wait.insert(lane, event.t_us);
                }
                EventKind::RequestDone { ok, status } => {
                    if let Some(&r) = request_of.get(&lane) {
                        requests[r].done = Some((event.t_us, *ok, *status));
                    }
                }
                EventKind::LoggedOut { jti, .. } => {
                    // The refused refresh of `jti` answered just before.
                    if let Some(refresh) = exchanges.iter_mut().rev().find(|ex| {
                        ex.kind == ExchangeKind::Refresh
                            && ex.jti.as_deref() == Some(jti.as_str())
                            && ex
                                .answer
                                .as_ref()
                                .is_some_and(|a| !a.ok() && a.seq < event.seq)
                    }) {
                        refresh.logged_out = true;
                    }
                }
                _ => {}
            }
        }
        for event in events {
            if let Some(attempt) = server_attempt(&event.kind) {
                if let Some(&index) = by_attempt.get(&attempt) {
                    exchanges[index].server.push(event.clone());
                }
            }
        }
        Exchanges {
            report,
            exchanges,
            requests,
            lanes: lanes.into_keys().collect(),
            end_us,
            sentences: sentences(report),
        }
    }

    /// The client strategy of the run.
    pub fn strategy(&self) -> Strategy {
        self.report.settings.strategy
    }

    /// The exchange with this attempt id.
    pub fn by_attempt(&self, attempt: u64) -> Option<&Exchange> {
        self.exchanges.iter().find(|ex| ex.attempt == attempt)
    }

    /// Refreshes that a 401 caused: `(the 401's exchange, the refresh)`.
    pub fn flows(&self) -> Vec<(&Exchange, &Exchange)> {
        self.exchanges
            .iter()
            .filter_map(|refresh| {
                let cause = self.by_attempt(refresh.caused_by?)?;
                Some((cause, refresh))
            })
            .collect()
    }
}

/// The attempt a server decision is about, if it names one.
pub fn server_attempt(kind: &EventKind) -> Option<u64> {
    match kind {
        EventKind::Issued { attempt, .. }
        | EventKind::Accepted { attempt, .. }
        | EventKind::Rejected { attempt, .. }
        | EventKind::Rotated { attempt, .. }
        | EventKind::Revoked { attempt, .. } => *attempt,
        _ => None,
    }
}

/// The usual phrase for an HTTP status.
pub fn status_text(status: u16) -> &'static str {
    match status {
        0 => "",
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        413 => "Payload Too Large",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "",
    }
}

/// Numbered lanes as short ranges: `secret#1–3, secret#5`; past four
/// pieces, the first three and how many more.
pub fn lane_list(lanes: &[Lane]) -> String {
    let mut sorted: Vec<Lane> = lanes.to_vec();
    sorted.sort();
    sorted.dedup();
    // (text, how many lanes it names)
    let mut parts: Vec<(String, usize)> = Vec::new();
    let mut i = 0;
    while i < sorted.len() {
        let Lane::Request(tab, kind, first) = sorted[i] else {
            parts.push((sorted[i].to_string(), 1));
            i += 1;
            continue;
        };
        let mut last = first;
        while i + 1 < sorted.len() && sorted[i + 1] == Lane::Request(tab, kind, last + 1) {
            last += 1;
            i += 1;
        }
        i += 1;
        let name = Lane::Request(tab, kind, first).to_string();
        match last - first {
            0 => parts.push((name, 1)),
            1 => {
                parts.push((name, 1));
                parts.push((Lane::Request(tab, kind, last).to_string(), 1));
            }
            n => parts.push((format!("{name}–{last}"), n as usize + 1)),
        }
    }
    if parts.len() > 4 {
        let shown: Vec<&str> = parts[..3].iter().map(|(text, _)| text.as_str()).collect();
        let more: usize = parts[3..].iter().map(|(_, n)| n).sum();
        return format!("{} and {more} more", shown.join(", "));
    }
    let texts: Vec<&str> = parts.iter().map(|(text, _)| text.as_str()).collect();
    texts.join(", ")
}

/// One sentence per event, in order: the report's own narration, or the
/// engine's when the report has none (an older saved run).
pub fn sentences(report: &RunReport) -> Vec<String> {
    if report.narration.len() == report.events.len() {
        report.narration.clone()
    } else {
        crate::narrate::all(&report.settings, &report.events)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lane_lists_collapse_runs_of_numbers() {
        let lanes =
            |names: &[&str]| -> Vec<Lane> { names.iter().map(|n| n.parse().unwrap()).collect() };
        assert_eq!(
            lane_list(&lanes(&["secret#2", "secret#3"])),
            "secret#2, secret#3"
        );
        assert_eq!(
            lane_list(&lanes(&["public#3", "public#1", "public#2", "secret#5"])),
            "secret#5, public#1–3"
        );
        let many: Vec<Lane> = (1..=20).filter(|n| n % 2 == 0).map(Lane::secret).collect();
        assert_eq!(lane_list(&many), "secret#2, secret#4, secret#6 and 7 more");
    }
}
