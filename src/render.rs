//! Text views of a run for the terminal: the chronological timeline, one
//! line per lane, the verdict, and the matrix table.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::scenario::RunReport;
use crate::settings::{CrossTab, Mode, Policy, RunSettings};
use crate::timeline::{Event, EventKind, Lane, Reason};
use crate::verdict::Verdict;

/// The whole report: header, timeline, lanes, verdict.
pub fn report(report: &RunReport) -> String {
    let s = &report.settings;
    let mut out = format!(
        "Refresh Race: case {}, client {}, policy {} ({} secret, {} public{}, seed {})\n\n",
        s.case,
        s.client_name(),
        s.policy,
        s.secret,
        s.public,
        if s.late { ", late request" } else { "" },
        s.seed
    );
    out.push_str(&timeline(&report.events));
    out.push('\n');
    out.push_str(&lanes(&report.events));
    out.push('\n');
    if !report.delivered.is_empty() {
        let order: Vec<String> = report.delivered.iter().map(|leg| leg.to_string()).collect();
        let _ = writeln!(out, "Delivered: {}\n", order.join(","));
    }
    out.push_str(&verdict(&report.verdict));
    out
}

/// The run told in sentences: one line per event, then the verdict.
pub fn narration(report: &RunReport) -> String {
    let mut out = String::new();
    for (event, sentence) in report.events.iter().zip(&report.narration) {
        let _ = writeln!(
            out,
            "{:>9}  {sentence}",
            format!("+{:.1}ms", event.t_us as f64 / 1000.0)
        );
    }
    if !report.delivered.is_empty() {
        let order: Vec<String> = report.delivered.iter().map(|leg| leg.to_string()).collect();
        let _ = writeln!(out, "\nDelivered: {}", order.join(","));
    }
    out.push('\n');
    out.push_str(&verdict(&report.verdict));
    out
}

/// One line per event, in order, with the time since the run started.
pub fn timeline(events: &[Event]) -> String {
    let mut out = String::from("     time  lane        event\n");
    for event in events {
        let _ = writeln!(
            out,
            "{:>9}  {:<10}  {}",
            format!("+{:.1}ms", event.t_us as f64 / 1000.0),
            event.lane,
            describe(&event.kind)
        );
    }
    out
}

fn jti(jti: &Option<String>) -> &str {
    jti.as_deref().unwrap_or("no token")
}

/// A length in ms as seconds, without trailing zeros: `5`, `4.25`.
fn seconds(ms: u64) -> String {
    crate::clock::NumericDate::from_ms(ms).to_string()
}

fn attempt_tag(attempt: &Option<u64>) -> String {
    attempt.map(|a| format!("  [#{a}]")).unwrap_or_default()
}

/// One event in words.
pub fn describe(kind: &EventKind) -> String {
    match kind {
        EventKind::RequestSent {
            attempt,
            route,
            jti: token,
        } => format!("-> GET {route} with {}  [#{attempt}]", jti(token)),
        EventKind::Response {
            attempt,
            status,
            reason,
            jti: token,
            ..
        } => match reason {
            Some(reason) => format!("<- {status} {reason} ({})  [#{attempt}]", jti(token)),
            None => format!("<- {status} ({})  [#{attempt}]", jti(token)),
        },
        EventKind::Queued { jti: token } => {
            format!("queued behind the running refresh ({})", jti(token))
        }
        EventKind::RefreshSent {
            attempt,
            jti: token,
        } => {
            format!("-> POST /api/refresh with {}  [#{attempt}]", jti(token))
        }
        EventKind::RefreshDone {
            attempt,
            status,
            new_jti,
            reason,
            ..
        } => match (new_jti, reason) {
            (Some(new), _) => format!("<- refresh {status}: new token {new}  [#{attempt}]"),
            (None, reason) => format!(
                "<- refresh {status} {}  [#{attempt}]",
                reason.map_or("failed", Reason::as_str)
            ),
        },
        EventKind::RetrySent {
            attempt,
            route,
            jti: token,
        } => format!("-> retry GET {route} with {}  [#{attempt}]", jti(token)),
        EventKind::TokenStored { jti, tab, .. } => match tab {
            Some(tab) => format!("token store := {jti}  (tab {tab})"),
            None => format!("token store := {jti}"),
        },
        EventKind::LoggedOut { jti, reason, tab } => match tab {
            Some(tab) => {
                format!("LOGGED OUT (tab {tab}'s refresh of {jti} rejected: {reason})")
            }
            None => format!("LOGGED OUT (refresh of {jti} rejected: {reason})"),
        },
        EventKind::RequestDone { ok, status } => {
            format!(
                "{} (final status {status})",
                if *ok { "done ok" } else { "FAILED" }
            )
        }
        EventKind::Issued {
            attempt,
            jti,
            fam,
            sub,
            iat,
            exp,
            refresh_until,
            ..
        } => format!(
            "issued {jti} (sub {sub}, family {fam}, valid {} s, refreshable {} s more){}",
            seconds(exp.as_ms() - iat.as_ms()),
            seconds(refresh_until.as_ms() - exp.as_ms()),
            attempt_tag(attempt)
        ),
        EventKind::Accepted {
            attempt,
            route,
            jti: token,
        } => format!("accepted {} on {route}{}", jti(token), attempt_tag(attempt)),
        EventKind::Rejected {
            attempt,
            route,
            jti: token,
            reason,
        } => format!(
            "rejected {} on {route}: {reason}{}",
            jti(token),
            attempt_tag(attempt)
        ),
        EventKind::Rotated {
            attempt,
            jti,
            new_jti,
        } => format!("rotated {jti} -> {new_jti}{}", attempt_tag(attempt)),
        EventKind::Revoked {
            attempt,
            jti,
            cause,
        } => format!("revoked {jti} ({cause}){}", attempt_tag(attempt)),
        EventKind::ClockAdvanced { by_ms, .. } => {
            format!(
                "lab clock +{:.1} s (the user comes back later)",
                *by_ms as f64 / 1000.0
            )
        }
        EventKind::Woke { tabs, lanes } => {
            format!("woke: tabs {} (lanes {})", join(tabs), join(lanes))
        }
        EventKind::TabClosed { tab, abandoned } => {
            format!("tab {tab} closed (abandoned: {})", join(abandoned))
        }
        EventKind::TabFrozen { tab, stuck } => {
            format!("tab {tab} frozen (stuck: {})", join(stuck))
        }
        EventKind::Hang { waiting, on } => format!("HANG: {} wait for {on}", join(waiting)),
    }
}

fn join<T: std::fmt::Display>(items: &[T]) -> String {
    match items {
        [] => "none".into(),
        items => items
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// Each request lane's story on one line, without times: what happened to
/// it, in order. Seeded runs give the same lines every time.
pub fn lanes(events: &[Event]) -> String {
    let mut stories: BTreeMap<Lane, Vec<String>> = BTreeMap::new();
    for event in events {
        let step = match &event.kind {
            EventKind::RequestSent {
                route, jti: token, ..
            } => {
                format!("GET {route} {}", jti(token))
            }
            EventKind::Response { status, reason, .. } => match reason {
                Some(reason) => format!("{status} {reason}"),
                None => status.to_string(),
            },
            EventKind::Queued { .. } => "queued".into(),
            EventKind::RefreshSent { jti: token, .. } => format!("refresh {}", jti(token)),
            EventKind::RefreshDone {
                status,
                new_jti,
                reason,
                ..
            } => match new_jti {
                Some(new) => format!("{status} -> {new}"),
                None => format!("{status} {}", reason.map_or("failed", Reason::as_str)),
            },
            EventKind::RetrySent { jti: token, .. } => format!("retry {}", jti(token)),
            EventKind::RequestDone { ok, .. } => (if *ok { "OK" } else { "FAILED" }).into(),
            _ => continue,
        };
        stories.entry(event.lane).or_default().push(step);
    }
    let mut out = String::from("Lanes\n");
    for (lane, steps) in stories {
        let _ = writeln!(out, "  {lane:<10}  {}", steps.join(" | "));
    }
    out
}

/// The verdict: the sentence and the counts.
pub fn verdict(verdict: &Verdict) -> String {
    format!(
        "Verdict: {}\n  requests {} ({} ok, {} failed) | refresh calls {} ({} ok, {} rejected) | accepted by server {} | logouts {} | tokens issued {}\n",
        verdict.sentence,
        verdict.requests,
        verdict.ok,
        verdict.failed,
        verdict.refresh_calls,
        verdict.refresh_ok,
        verdict.refresh_rejected,
        verdict.refresh_accepted_by_server,
        verdict.logouts,
        verdict.tokens_issued
    )
}

/// The matrix: one row per run.
pub fn matrix(rows: &[RunReport]) -> String {
    let mut out = format!(
        "{:<24} {:<14} {:<10} {:<7} {:>4} {:>4} {:>4} {:>8} {:>8} {:>7}  {}\n",
        "case",
        "client",
        "policy",
        "mode",
        "tabs",
        "ok",
        "fail",
        "refresh",
        "accepted",
        "logouts",
        "verdict"
    );
    for row in rows {
        let v = &row.verdict;
        let _ = writeln!(
            out,
            "{:<24} {:<14} {:<10} {:<7} {:>4} {:>4} {:>4} {:>8} {:>8} {:>7}  {}",
            row.settings.case.as_str(),
            row.settings.strategy.as_str(),
            row.settings.policy.as_str(),
            row.settings.mode.as_str(),
            row.settings.tabs,
            v.ok,
            v.failed,
            v.refresh_calls,
            v.refresh_accepted_by_server,
            v.logouts,
            v.sentence
        );
    }
    out
}

/// One setup of the reference table: what is the same for a whole section.
#[derive(Debug, Clone, Copy)]
pub struct ReferenceSetup {
    pub title: &'static str,
    pub mode: Mode,
    pub tabs: u32,
    pub cross_tab: CrossTab,
    pub late: bool,
}

impl ReferenceSetup {
    /// `settings` in this setup.
    pub fn apply(&self, settings: RunSettings) -> RunSettings {
        RunSettings {
            mode: self.mode,
            tabs: self.tabs,
            cross_tab: self.cross_tab,
            late: self.late,
            ..settings
        }
    }
}

/// The sections of `refresh-race matrix --reference` (docs/reference-matrix.md).
pub const REFERENCE_SETUPS: [ReferenceSetup; 6] = {
    const ONE: ReferenceSetup = ReferenceSetup {
        title: "One tab, the article's refresh (the expired access token)",
        mode: Mode::Article,
        tabs: 1,
        cross_tab: CrossTab::None,
        late: false,
    };
    [
        ONE,
        ReferenceSetup {
            title: "One tab, and a late request whose 401 lands after the first refresh ended",
            late: true,
            ..ONE
        },
        ReferenceSetup {
            title: "One tab, OAuth refresh tokens",
            mode: Mode::Oauth,
            ..ONE
        },
        ReferenceSetup {
            title: "Three tabs sharing one stored token, no cross-tab lock",
            tabs: 3,
            ..ONE
        },
        ReferenceSetup {
            title: "Three tabs with a cross-tab lock and a re-read of the store",
            tabs: 3,
            cross_tab: CrossTab::Lock,
            ..ONE
        },
        ReferenceSetup {
            title: "Three tabs, OAuth refresh tokens, no cross-tab lock",
            tabs: 3,
            mode: Mode::Oauth,
            ..ONE
        },
    ]
};

/// One cell of the reference table: survived, or how it failed.
fn survival(verdict: &Verdict) -> String {
    if verdict.failed == 0 && verdict.logouts == 0 {
        return "✔".into();
    }
    let mut words = vec![format!("✖ {} failed", verdict.failed)];
    if verdict.family_revoked > 0 {
        words.push("family revoked".into());
    }
    if verdict.logouts > 0 {
        words.push("logged out".into());
    }
    words.join(", ")
}

/// The reference table (Markdown): per setup, a client per row and a server
/// rule per column; each cell says whether every request of case 3
/// survived. `sections` hold the runs client by client, policy by policy.
pub fn reference(sections: &[(ReferenceSetup, Vec<RunReport>)], policies: &[Policy]) -> String {
    let mut out = String::from(
        "# Reference: which client survives which server rule\n\n\
         Generated by `scripts/reference-matrix.sh` (`refresh-race matrix --reference`) \
         from real runs; do not edit by hand. Each cell is one run of case 3 \
         (three secret and three public requests per tab, the access token expired \
         1 s ago, inside its refresh window), stepped in due order with the default \
         latencies, so every cell is exact and repeatable. ✔: every request \
         succeeded and nobody was logged out; ✖: how many requests failed, and what \
         else happened. Presets use their server's defaults (docs/design.md, \
         \"Server presets\").\n",
    );
    for (setup, rows) in sections {
        let _ = write!(out, "\n## {}\n\n| client |", setup.title);
        for policy in policies {
            let _ = write!(out, " {policy} |");
        }
        out.push_str("\n|---|");
        out.push_str(&"---|".repeat(policies.len()));
        out.push('\n');
        for chunk in rows.chunks(policies.len().max(1)) {
            let Some(first) = chunk.first() else { continue };
            let _ = write!(out, "| `{}` |", first.settings.strategy);
            for row in chunk {
                let _ = write!(out, " {} |", survival(&row.verdict));
            }
            out.push('\n');
        }
    }
    out
}
