//! The timeline as one standalone SVG picture, 1280 px wide.
//!
//! Standalone: no stylesheet, no script, no external font. Every style is a
//! presentation attribute on its element (so resvg, browsers, Inkscape and
//! slide software all read it the same), and the only fonts named are the
//! generic families `sans-serif` and `monospace`. The colours are the app's.
//! A legend explains them. Runs with many lanes draw the first
//! [`MAX_LANES`] request lanes and say how many more there are.

use std::fmt::Write;

use crate::protocol::Lane;
use crate::scenario::RunReport;
use crate::timeline::{EventKind, RevokeCause};

use super::exchanges::{Exchange, ExchangeKind, Exchanges};

/// Width of the picture, in px.
pub const WIDTH: u32 = 1280;
/// Most request lanes drawn; the rest are counted in a note.
pub const MAX_LANES: usize = 40;

const PAD: f64 = 24.0;
const LABEL_W: f64 = 128.0;
const ROW_H: f64 = 34.0;
const BAR_H: f64 = 20.0;
const TOP: f64 = 150.0;

const SANS: &str = "sans-serif";
const MONO: &str = "monospace";

// The app's palette (ui/style.css, ui/lib/colors.js).
const BG: &str = "#0a0e13";
const PANEL: &str = "#121922";
const BAND: &str = "#17202b";
const LINE: &str = "#2b3644";
const TEXT: &str = "#eef3f8";
const MUTED: &str = "#a3b1c0";
const ACCENT: &str = "#ffd33d";
const OK: &str = "#2ea043";
const OK_BRIGHT: &str = "#56d364";
const UNAUTHORIZED: &str = "#f0883e";
const BAD: &str = "#8e1519";
const BAD_BRIGHT: &str = "#ff5c5c";
const ERROR: &str = "#da3633";
const PENDING: &str = "#6e7681";
const QUEUED: &str = "#6f9cff";
const TOKEN_PALETTE: [&str; 10] = [
    "#4da3ff", "#ff6ec7", "#ffe14d", "#3ee0e8", "#b48cff", "#c8ff5a", "#ffffff", "#ffa98a",
    "#8ab4ff", "#ff9ef0",
];
const NO_TOKEN: &str = "#8b949e";

/// The picture's height for a report (the PNG has the same size).
pub fn height(report: &RunReport) -> u32 {
    let run = Exchanges::of(report);
    let (rows, more) = rows(&run);
    layout_height(rows.len(), more > 0) as u32
}

fn layout_height(rows: usize, note: bool) -> f64 {
    let rows_end = TOP + rows as f64 * ROW_H + if note { ROW_H } else { 0.0 };
    rows_end + 24.0 + LEGEND_ROWS as f64 * 26.0 + 36.0
}

const LEGEND_ROWS: usize = 2;

/// The lanes drawn, and how many request lanes were left out.
fn rows(run: &Exchanges) -> (Vec<Lane>, usize) {
    let requests: Vec<Lane> = run
        .lanes
        .iter()
        .copied()
        .filter(|lane| lane.kind().is_some())
        .collect();
    let more = requests.len().saturating_sub(MAX_LANES);
    let mut rows: Vec<Lane> = requests.into_iter().take(MAX_LANES).collect();
    rows.extend([Lane::Client, Lane::Server]);
    (rows, more)
}

/// The SVG document of a run.
pub fn svg(report: &RunReport) -> String {
    let run = Exchanges::of(report);
    let (rows, more) = rows(&run);
    let w = f64::from(WIDTH);
    let h = layout_height(rows.len(), more > 0);
    let s = &report.settings;
    let v = &report.verdict;
    let x0 = PAD + LABEL_W;
    let x1 = w - PAD;
    let end_ms = (run.end_us as f64 / 1000.0).max(1.0);
    let (step, domain_ms) = ticks(end_ms);
    let x = |us: u64| x0 + (us as f64 / 1000.0) / domain_ms * (x1 - x0);

    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{h}" viewBox="0 0 {WIDTH} {h}" font-family="{SANS}">"#
    );
    let title = format!(
        "Refresh Race: case {}, {} client, {} server",
        s.case,
        s.client_name(),
        s.policy
    );
    let _ = writeln!(out, "<title>{}</title>", esc(&title));
    let _ = writeln!(out, r#"<rect width="{WIDTH}" height="{h}" fill="{BG}"/>"#);
    text(
        &mut out, PAD, 38.0, 22.0, TEXT, "700", SANS, "start", &title,
    );
    let mut detail = format!(
        "{} secret + {} public requests{} · latency secret {} / public {} / refresh {} ms",
        s.secret,
        s.public,
        if s.late { " + 1 late" } else { "" },
        s.latency_ms.secret,
        s.latency_ms.public,
        s.latency_ms.refresh
    );
    if s.jitter_ms > 0 {
        let _ = write!(detail, " · jitter {} ms, seed {}", s.jitter_ms, s.seed);
    }
    let _ = write!(
        detail,
        " · token lifetime {} s, refresh window {} s",
        s.access_ttl_s, s.refresh_window_s
    );
    text(
        &mut out, PAD, 64.0, 14.0, MUTED, "400", SANS, "start", &detail,
    );

    // The verdict, framed in the colour of how it went.
    let bad = v.failed > 0 || v.logouts > 0;
    let tone = if bad { BAD_BRIGHT } else { OK_BRIGHT };
    let _ = writeln!(
        out,
        r#"<rect x="{PAD}" y="80" width="{}" height="34" rx="6" fill="{PANEL}" stroke="{tone}" stroke-width="2"/>"#,
        w - 2.0 * PAD
    );
    text(
        &mut out,
        PAD + 12.0,
        102.0,
        15.0,
        TEXT,
        "600",
        SANS,
        "start",
        &v.sentence,
    );

    // Time axis.
    let axis_y = TOP - 14.0;
    let rows_end = TOP + rows.len() as f64 * ROW_H + if more > 0 { ROW_H } else { 0.0 };
    let mut t = 0.0;
    while t <= domain_ms + 1e-9 {
        let tx = x0 + t / domain_ms * (x1 - x0);
        let _ = writeln!(
            out,
            r#"<line x1="{tx:.1}" y1="{}" x2="{tx:.1}" y2="{rows_end}" stroke="{LINE}" stroke-width="1"/>"#,
            axis_y + 4.0
        );
        let anchor = if t == 0.0 {
            "start"
        } else if t + step > domain_ms + 1e-9 {
            "end"
        } else {
            "middle"
        };
        text(
            &mut out,
            tx,
            axis_y,
            12.0,
            MUTED,
            "400",
            SANS,
            anchor,
            &format!("{} ms", fmt_ms(t)),
        );
        t += step;
    }

    for (i, lane) in rows.iter().enumerate() {
        let top = TOP + i as f64 * ROW_H;
        let mid = top + ROW_H / 2.0;
        if i % 2 == 0 {
            let _ = writeln!(
                out,
                r#"<rect x="{PAD}" y="{top}" width="{}" height="{ROW_H}" fill="{BAND}"/>"#,
                w - 2.0 * PAD
            );
        }
        let outcome = run
            .requests
            .iter()
            .find(|r| r.lane == *lane)
            .and_then(|r| r.done);
        if let Some((_, ok, _)) = outcome {
            let _ = writeln!(
                out,
                r#"<circle cx="{}" cy="{mid}" r="5" fill="{}"/>"#,
                PAD + 10.0,
                if ok { OK_BRIGHT } else { BAD_BRIGHT }
            );
        }
        text(
            &mut out,
            PAD + 22.0,
            mid + 5.0,
            14.0,
            TEXT,
            "400",
            MONO,
            "start",
            &lane.to_string(),
        );
        match lane {
            Lane::Client => client_row(&mut out, report, mid, &x),
            Lane::Server => server_row(&mut out, report, mid, &x),
            Lane::Request(..) => request_row(&mut out, &run, *lane, mid, &x),
        }
    }
    if more > 0 {
        let top = TOP + rows.len() as f64 * ROW_H;
        text(
            &mut out,
            PAD + 22.0,
            top + ROW_H / 2.0 + 5.0,
            14.0,
            MUTED,
            "400",
            SANS,
            "start",
            &format!("… and {more} more request lanes, not drawn (the HAR and the trace have every exchange)"),
        );
    }
    legend(&mut out, rows_end + 28.0);
    text(
        &mut out,
        w - PAD,
        h - 14.0,
        12.0,
        MUTED,
        "400",
        SANS,
        "end",
        &format!(
            "refresh-race export svg · {} events · time since the run started",
            report.events.len()
        ),
    );
    out.push_str("</svg>\n");
    out
}

fn request_row(out: &mut String, run: &Exchanges, lane: Lane, mid: f64, x: &impl Fn(u64) -> f64) {
    if let Some(request) = run.requests.iter().find(|r| r.lane == lane) {
        // The logical request's life, then its waits.
        let end = request.done.map_or(run.end_us, |(t, _, _)| t);
        let _ = writeln!(
            out,
            r#"<line x1="{:.1}" y1="{mid}" x2="{:.1}" y2="{mid}" stroke="{PENDING}" stroke-width="2"/>"#,
            x(request.start_us),
            x(end)
        );
        for &(from, to) in &request.waits {
            let _ = writeln!(
                out,
                r#"<rect x="{:.1}" y="{}" width="{:.1}" height="8" rx="2" fill="{QUEUED}" fill-opacity="0.75"/>"#,
                x(from),
                mid - 4.0,
                (x(to) - x(from)).max(2.0)
            );
        }
    }
    for ex in run.exchanges.iter().filter(|ex| ex.lane == lane) {
        exchange_bar(out, ex, run.end_us, mid, x);
    }
}

fn exchange_bar(out: &mut String, ex: &Exchange, run_end: u64, mid: f64, x: &impl Fn(u64) -> f64) {
    let (bx, ex_end) = (x(ex.sent_us), x(ex.end_us(run_end)));
    let bw = (ex_end - bx).max(3.0);
    let fill = match &ex.answer {
        None => PENDING,
        Some(a) if a.ok() => OK,
        Some(a) if a.status == 401 => UNAUTHORIZED,
        Some(a) if a.status == 400 => BAD,
        Some(_) => ERROR,
    };
    let y = mid - BAR_H / 2.0;
    if ex.kind == ExchangeKind::Refresh {
        let _ = writeln!(
            out,
            r#"<rect x="{bx:.1}" y="{y}" width="{bw:.1}" height="{BAR_H}" rx="{}" fill="{fill}" stroke="{ACCENT}" stroke-width="2"/>"#,
            BAR_H / 2.0
        );
    } else {
        let _ = writeln!(
            out,
            r#"<rect x="{bx:.1}" y="{y}" width="{bw:.1}" height="{BAR_H}" rx="3" fill="{fill}"/>"#
        );
    }
    // A token chip at the start, then the answer, when they fit.
    let chip = ex.jti.as_deref().unwrap_or("–");
    let chip_w = 8.0 + 7.5 * chip.chars().count() as f64;
    let label = match (&ex.answer, ex.kind) {
        (None, _) => "…".to_owned(),
        (Some(a), ExchangeKind::Refresh) if a.new_jti.is_some() => {
            format!("refresh → {}", a.new_jti.as_deref().unwrap_or_default())
        }
        (Some(a), ExchangeKind::Refresh) => match a.reason {
            Some(reason) => format!("refresh {} {reason}", a.status),
            None => format!("refresh {}", a.status),
        },
        (Some(a), _) if a.status == 0 => "no answer".to_owned(),
        (Some(a), kind) => {
            let retry = if kind == ExchangeKind::Retry {
                "retry "
            } else {
                ""
            };
            match a.reason {
                Some(reason) if !a.ok() => format!("{retry}{} {reason}", a.status),
                _ => format!("{retry}{}", a.status),
            }
        }
    };
    let label_w = 7.0 * label.chars().count() as f64;
    if bw >= chip_w + 8.0 {
        let color = token_color(ex.jti.as_deref());
        let _ = writeln!(
            out,
            r#"<rect x="{:.1}" y="{}" width="{chip_w:.1}" height="14" rx="7" fill="{color}"/>"#,
            bx + 3.0,
            mid - 7.0
        );
        text(
            out,
            bx + 3.0 + chip_w / 2.0,
            mid + 4.0,
            11.0,
            "#0b0f14",
            "700",
            MONO,
            "middle",
            chip,
        );
        if bw >= chip_w + label_w + 16.0 {
            text(
                out,
                bx + chip_w + 9.0,
                mid + 4.5,
                12.0,
                "#ffffff",
                "700",
                SANS,
                "start",
                &label,
            );
        }
    }
}

fn client_row(out: &mut String, report: &RunReport, mid: f64, x: &impl Fn(u64) -> f64) {
    for event in report.events.iter().filter(|e| e.lane == Lane::Client) {
        let ex = x(event.t_us);
        match &event.kind {
            EventKind::TokenStored { jti, .. } => {
                let chip_w = 8.0 + 7.5 * jti.chars().count() as f64;
                let _ = writeln!(
                    out,
                    r#"<rect x="{:.1}" y="{}" width="{chip_w:.1}" height="16" rx="8" fill="{}" stroke="{BG}" stroke-width="1"/>"#,
                    ex - chip_w / 2.0,
                    mid - 8.0,
                    token_color(Some(jti))
                );
                text(
                    out,
                    ex,
                    mid + 4.0,
                    11.0,
                    "#0b0f14",
                    "700",
                    MONO,
                    "middle",
                    jti,
                );
            }
            EventKind::LoggedOut { .. } => {
                let _ = writeln!(
                    out,
                    r#"<rect x="{:.1}" y="{}" width="12" height="12" fill="{BAD_BRIGHT}"/>"#,
                    ex - 6.0,
                    mid - 6.0
                );
                text(
                    out,
                    ex + 10.0,
                    mid + 5.0,
                    13.0,
                    BAD_BRIGHT,
                    "700",
                    SANS,
                    "start",
                    "logged out",
                );
            }
            _ => {}
        }
    }
}

fn server_row(out: &mut String, report: &RunReport, mid: f64, x: &impl Fn(u64) -> f64) {
    for event in report.events.iter().filter(|e| e.lane == Lane::Server) {
        let ex = x(event.t_us);
        let (color, tall) = match &event.kind {
            EventKind::Accepted { .. } => (OK_BRIGHT, 8.0),
            EventKind::Rejected { .. } => (BAD_BRIGHT, 8.0),
            EventKind::Revoked {
                cause: RevokeCause::Family,
                ..
            } => (BAD_BRIGHT, 12.0),
            EventKind::Issued { jti, .. } => {
                let _ = writeln!(
                    out,
                    r#"<circle cx="{ex:.1}" cy="{mid}" r="5" fill="{}" stroke="{BG}" stroke-width="1"/>"#,
                    token_color(Some(jti))
                );
                text(out, ex, mid - 9.0, 10.0, MUTED, "400", MONO, "middle", jti);
                continue;
            }
            _ => continue,
        };
        let _ = writeln!(
            out,
            r#"<line x1="{ex:.1}" y1="{}" x2="{ex:.1}" y2="{}" stroke="{color}" stroke-width="2"/>"#,
            mid - tall,
            mid + tall
        );
    }
}

fn legend(out: &mut String, y: f64) {
    let items: [(&str, &str, &str); 11] = [
        ("bar", OK, "200 ok"),
        ("bar", UNAUTHORIZED, "401 token refused"),
        ("bar", BAD, "400 refresh refused"),
        ("bar", PENDING, "no answer"),
        ("pill", BAD, "refresh call (outlined pill)"),
        ("wait", QUEUED, "waiting for someone else's refresh"),
        ("chip", TOKEN_PALETTE[0], "token used / stored (t1, t2, …)"),
        ("square", BAD_BRIGHT, "logged out"),
        ("tick", OK_BRIGHT, "server accepted"),
        ("tick", BAD_BRIGHT, "server rejected or revoked"),
        ("dot", TOKEN_PALETTE[1], "server issued a token"),
    ];
    let w = f64::from(WIDTH);
    let (mut lx, mut ly) = (PAD, y);
    for (shape, color, label) in items {
        let item_w = 30.0 + 7.2 * label.chars().count() as f64 + 18.0;
        if lx + item_w > w - PAD {
            lx = PAD;
            ly += 26.0;
        }
        let sy = ly - 10.0;
        let _ = match shape {
            "bar" => writeln!(
                out,
                r#"<rect x="{lx}" y="{sy}" width="22" height="13" rx="2" fill="{color}"/>"#
            ),
            "pill" => writeln!(
                out,
                r#"<rect x="{lx}" y="{sy}" width="22" height="13" rx="6.5" fill="{color}" stroke="{ACCENT}" stroke-width="2"/>"#
            ),
            "wait" => writeln!(
                out,
                r#"<rect x="{lx}" y="{}" width="22" height="7" rx="2" fill="{color}" fill-opacity="0.75"/>"#,
                sy + 3.0
            ),
            "chip" => writeln!(
                out,
                r#"<rect x="{lx}" y="{sy}" width="22" height="13" rx="6.5" fill="{color}"/>"#
            ),
            "square" => writeln!(
                out,
                r#"<rect x="{}" y="{sy}" width="12" height="12" fill="{color}"/>"#,
                lx + 5.0
            ),
            "tick" => writeln!(
                out,
                r#"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{color}" stroke-width="2"/>"#,
                lx + 11.0,
                sy - 1.0,
                lx + 11.0,
                sy + 14.0
            ),
            _ => writeln!(
                out,
                r#"<circle cx="{}" cy="{}" r="5" fill="{color}"/>"#,
                lx + 11.0,
                sy + 6.5
            ),
        };
        text(
            out,
            lx + 30.0,
            ly + 1.0,
            13.0,
            MUTED,
            "400",
            SANS,
            "start",
            label,
        );
        lx += item_w;
    }
}

/// A tick step (ms) and the axis end (a whole number of steps) for a run
/// that lasted `end_ms`.
fn ticks(end_ms: f64) -> (f64, f64) {
    let rough = end_ms / 8.0;
    let magnitude = 10f64.powf(rough.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|step| *step >= rough)
        .unwrap_or(10.0 * magnitude);
    (step, (end_ms / step).ceil().max(1.0) * step)
}

fn fmt_ms(ms: f64) -> String {
    if ms.fract() == 0.0 {
        format!("{ms:.0}")
    } else {
        format!("{ms:.1}")
    }
}

/// The app's colour for a token: `tN` cycles through the palette.
fn token_color(jti: Option<&str>) -> &'static str {
    let Some(jti) = jti else { return NO_TOKEN };
    let index = match jti.strip_prefix('t').and_then(|n| n.parse::<usize>().ok()) {
        Some(n) if n > 0 => (n - 1) % TOKEN_PALETTE.len(),
        _ => {
            jti.bytes()
                .fold(0usize, |h, b| h.wrapping_mul(31).wrapping_add(b as usize))
                % TOKEN_PALETTE.len()
        }
    };
    TOKEN_PALETTE[index]
}

#[allow(clippy::too_many_arguments)]
fn text(
    out: &mut String,
    x: f64,
    y: f64,
    size: f64,
    fill: &str,
    weight: &str,
    family: &str,
    anchor: &str,
    content: &str,
) {
    let _ = writeln!(
        out,
        r#"<text x="{x:.1}" y="{y:.1}" font-size="{size}" font-family="{family}" font-weight="{weight}" fill="{fill}" text-anchor="{anchor}">{}</text>"#,
        esc(content)
    );
}

/// Text as XML character data or attribute value.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => {}
            // Not characters XML allows (a page may report any string):
            // shown as the replacement character.
            '\u{FFFE}' | '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_cover_the_run() {
        assert_eq!(ticks(624.0), (100.0, 700.0));
        assert_eq!(ticks(9.0), (2.0, 10.0));
        assert_eq!(ticks(3200.0), (500.0, 3500.0));
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(esc(r#"<a & "b">"#), "&lt;a &amp; &quot;b&quot;&gt;");
        assert_eq!(esc("t\u{FFFE}\u{1}\u{FFFF}"), "t\u{FFFD}\u{FFFD}");
    }
}
