//! A slide-sized Mermaid `sequenceDiagram` of a run.
//!
//! Two participants, the tab and the server. Exchanges are cut into
//! *waves*: an exchange joins the current wave when it leaves before any
//! answer of that wave came back, so the opening burst is one wave, the
//! refreshes its 401s caused the next, the retries the one after. A wave
//! with several kinds of exchange is a `par` block with one branch per
//! kind; lanes whose exchanges look the same (same call, same token, same
//! answer) share one branch, so 10,000 requests still fit a slide. Refused
//! answers are drawn with a cross (`--x`). What the tab did in between
//! (waited, stored a token, logged out) and reuse detection are notes.
//!
//! Mermaid's lexer cuts a label at `#` and `;`, and the word `end` closes
//! a block, so every label goes through [`label`].

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::protocol::{Lane, RevokeCause};
use crate::scenario::RunReport;
use crate::settings::Case;
use crate::timeline::EventKind;

use super::exchanges::{lane_list, Answer, Exchange, ExchangeKind, Exchanges, Then};

/// The diagram's source text.
pub fn mermaid(report: &RunReport) -> String {
    let run = Exchanges::of(report);
    let s = &report.settings;
    let mut out = String::new();
    // Front matter: a title, and no second row of participants at the
    // bottom (it only costs a slide's height).
    let _ = writeln!(
        out,
        "---\ntitle: {}\nconfig:\n  sequence:\n    mirrorActors: false\n---",
        label(&format!(
            "{} · {} client · {} server",
            s.case,
            s.client_name(),
            s.policy
        ))
    );
    out.push_str("sequenceDiagram\n");
    let _ = writeln!(
        out,
        "    participant tab as tab ({} client)",
        label(s.client_name())
    );
    let _ = writeln!(
        out,
        "    participant server as server ({} policy)",
        label(s.policy.as_str())
    );

    let waves = waves(&run.exchanges);
    // What happened before the first exchange left: login, time travel.
    let first_seq = run.exchanges.first().map_or(u64::MAX, |ex| ex.sent_seq);
    let mut setup = Vec::new();
    for event in report.events.iter().take_while(|e| e.seq < first_seq) {
        match &event.kind {
            EventKind::TokenStored { jti, .. } => {
                setup.push(format!("logged in: token store holds {jti}"))
            }
            EventKind::ClockAdvanced { by_ms, .. } => setup.push(format!(
                "the user comes back {} later{}",
                seconds(*by_ms),
                match s.case {
                    Case::ExpiredRefreshable => ": the token expired, its refresh window is open",
                    Case::ExpiredNotRefreshable => ": the token and its refresh window are over",
                    _ => "",
                }
            )),
            _ => {}
        }
    }
    if s.case == Case::Guest {
        setup.push("a guest: the token store is empty".to_owned());
    }
    if !setup.is_empty() {
        note(&mut out, "tab,server", &setup);
    }

    // Token stores are told with the refresh that returned the token.
    let stored: Vec<&str> = report
        .events
        .iter()
        .filter_map(|event| match &event.kind {
            EventKind::TokenStored { jti, .. } if event.seq > first_seq => Some(jti.as_str()),
            _ => None,
        })
        .collect();

    for wave in &waves {
        let branches = branches(wave);
        if branches.len() > 1 {
            let _ = writeln!(out, "    par {}", label(&wave_title(wave)));
            for (i, branch) in branches.iter().enumerate() {
                if i > 0 {
                    out.push_str("    and\n");
                }
                draw_branch(&mut out, branch, "        ");
            }
            out.push_str("    end\n");
        } else if let Some(branch) = branches.first() {
            draw_branch(&mut out, branch, "    ");
        }
        let notes = wave_notes(wave, &stored);
        if !notes.is_empty() {
            note(&mut out, "tab", &notes);
        }
        let revoked: Vec<&str> = wave
            .iter()
            .flat_map(|ex| ex.server.iter())
            .filter_map(|event| match &event.kind {
                EventKind::Revoked {
                    jti,
                    cause: RevokeCause::Family,
                    ..
                } => Some(jti.as_str()),
                _ => None,
            })
            .collect();
        if !revoked.is_empty() {
            note(
                &mut out,
                "server",
                &[format!(
                    "reuse detected: the whole family is revoked ({})",
                    revoked.join(", ")
                )],
            );
        }
    }
    note(
        &mut out,
        "tab,server",
        std::slice::from_ref(&report.verdict.sentence),
    );
    out
}

/// Exchanges cut into waves (see the module doc).
fn waves(exchanges: &[Exchange]) -> Vec<Vec<&Exchange>> {
    let mut waves: Vec<Vec<&Exchange>> = Vec::new();
    let mut first_answer = u64::MAX;
    for ex in exchanges {
        match waves.last_mut() {
            Some(wave) if ex.sent_us < first_answer => wave.push(ex),
            _ => {
                waves.push(vec![ex]);
                first_answer = u64::MAX;
            }
        }
        if let Some(answer) = &ex.answer {
            first_answer = first_answer.min(answer.us);
        }
    }
    waves
}

/// Lanes of one wave whose exchanges look the same.
struct Branch<'a> {
    lanes: Vec<Lane>,
    first: &'a Exchange,
}

fn branches<'a>(wave: &[&'a Exchange]) -> Vec<Branch<'a>> {
    type Key = (
        u8,
        String,
        Option<String>,
        Option<(u16, Option<String>, Option<String>)>,
    );
    let key = |ex: &Exchange| -> Key {
        let kind = match ex.kind {
            ExchangeKind::Request => 0,
            ExchangeKind::Retry => 1,
            ExchangeKind::Refresh => 2,
        };
        let answer = ex
            .answer
            .as_ref()
            .map(|a| (a.status, a.reason.map(|r| r.to_string()), a.new_jti.clone()));
        (kind, ex.route.to_string(), ex.jti.clone(), answer)
    };
    let mut order: Vec<Key> = Vec::new();
    let mut groups: BTreeMap<Key, Branch<'a>> = BTreeMap::new();
    for ex in wave {
        let k = key(ex);
        match groups.get_mut(&k) {
            Some(branch) => branch.lanes.push(ex.lane),
            None => {
                order.push(k.clone());
                groups.insert(
                    k,
                    Branch {
                        lanes: vec![ex.lane],
                        first: ex,
                    },
                );
            }
        }
    }
    order
        .into_iter()
        .filter_map(|k| groups.remove(&k))
        .collect()
}

fn draw_branch(out: &mut String, branch: &Branch, indent: &str) {
    let ex = branch.first;
    let n = branch.lanes.len();
    let token = ex.jti.as_deref().unwrap_or("no token");
    let call = match ex.kind {
        ExchangeKind::Request => format!("{} {} with {token}", ex.method(), ex.route),
        ExchangeKind::Retry => format!("retry {} {} with {token}", ex.method(), ex.route),
        ExchangeKind::Refresh => format!("refresh with {token}"),
    };
    let _ = writeln!(
        out,
        "{indent}tab->>server: {}",
        label(&format!("{}: {call}", lane_list(&branch.lanes)))
    );
    match &ex.answer {
        Some(answer) => {
            let arrow = if answer.ok() { "-->>" } else { "--x" };
            let times = if n > 1 {
                format!(" (×{n})")
            } else {
                String::new()
            };
            let _ = writeln!(
                out,
                "{indent}server{arrow}tab: {}",
                label(&format!("{}{times}", answer_text(answer)))
            );
        }
        None => {
            let _ = writeln!(
                out,
                "{indent}Note over tab,server: {}",
                label("no answer before the run finished")
            );
        }
    }
}

fn answer_text(answer: &Answer) -> String {
    if answer.status == 0 {
        return "no answer".to_owned();
    }
    match (&answer.new_jti, answer.reason) {
        (Some(new), _) => format!("{}, new token {new}", answer.status),
        (None, Some(reason)) if !answer.ok() => format!("{} {reason}", answer.status),
        _ => answer.status.to_string(),
    }
}

fn wave_title(wave: &[&Exchange]) -> String {
    let n = wave.len();
    let all = |kind: ExchangeKind| wave.iter().all(|ex| ex.kind == kind);
    if all(ExchangeKind::Request) {
        format!("{n} requests leave at once")
    } else if all(ExchangeKind::Refresh) {
        format!("{n} refreshes race")
    } else if all(ExchangeKind::Retry) {
        format!("{n} retries")
    } else {
        format!("{n} calls in flight together")
    }
}

/// What the tab did because of this wave's answers.
fn wave_notes(wave: &[&Exchange], stored: &[&str]) -> Vec<String> {
    let mut notes = Vec::new();
    let waiting: Vec<Lane> = wave
        .iter()
        .filter(|ex| ex.then == Then::Wait)
        .map(|ex| ex.lane)
        .collect();
    if !waiting.is_empty() {
        let verb = if waiting.len() == 1 { "waits" } else { "wait" };
        notes.push(format!(
            "{} {verb} for the refresh already running",
            lane_list(&waiting)
        ));
    }
    for ex in wave {
        if let Some(new) = ex.answer.as_ref().and_then(|a| a.new_jti.as_deref()) {
            if stored.contains(&new) {
                notes.push(format!("token store: {new}"));
            }
        }
    }
    for ex in wave.iter().filter(|ex| ex.logged_out) {
        let reason = ex
            .answer
            .as_ref()
            .and_then(|a| a.reason)
            .map_or("refused".to_owned(), |r| r.to_string());
        notes.push(format!(
            "logged out: the refresh of {} was refused ({reason})",
            ex.jti.as_deref().unwrap_or("no token")
        ));
    }
    notes
}

fn note(out: &mut String, over: &str, lines: &[String]) {
    let text: Vec<String> = lines
        .iter()
        .flat_map(|line| wrap(line, NOTE_WIDTH))
        .map(|line| label(&line))
        .collect();
    let _ = writeln!(out, "    Note over {over}: {}", text.join("<br/>"));
}

/// Characters per line of a note: Mermaid sizes a note box by its longest
/// line and lets a longer one spill out of the picture.
const NOTE_WIDTH: usize = 44;

/// `text` broken at spaces into lines of at most `width` characters (a
/// longer word gets a line of its own).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let len = line.chars().count();
        if len > 0 && len + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

fn seconds(ms: u64) -> String {
    if ms.is_multiple_of(1000) {
        format!("{} s", ms / 1000)
    } else {
        format!("{:.1} s", ms as f64 / 1000.0)
    }
}

/// Text that is safe inside a Mermaid label: `#` as the entity `#35;`
/// (Mermaid decodes it; a bare `#` starts a comment), no `;` (it ends a
/// statement), no line breaks, and never the bare word `end`.
pub fn label(text: &str) -> String {
    let flat: String = text
        .chars()
        .map(|c| match c {
            ';' => ',',
            '\n' | '\r' => ' ',
            c => c,
        })
        .collect();
    let mut out = String::with_capacity(flat.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        if word.eq_ignore_ascii_case("end") {
            out.push_str("finish");
        } else {
            out.push_str(word);
        }
        word.clear();
    };
    for c in flat.chars() {
        if c.is_alphanumeric() || c == '_' {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            if c == '#' {
                out.push_str("#35;");
            } else {
                out.push(c);
            }
        }
    }
    flush(&mut word, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_wrap_at_spaces() {
        assert_eq!(wrap("a bb ccc dddd", 6), ["a bb", "ccc", "dddd"]);
        assert_eq!(wrap("short", 52), ["short"]);
        assert_eq!(wrap("", 52), [""]);
    }

    #[test]
    fn labels_keep_mermaid_keywords_and_comments_out() {
        assert_eq!(label("secret#1: GET"), "secret#35;1: GET");
        assert_eq!(label("the end; END"), "the finish, finish");
        assert_eq!(label("ended, endless"), "ended, endless");
    }
}
