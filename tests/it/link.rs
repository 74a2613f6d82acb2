//! A run as a link from the command line: `refresh-race link <setup flags>`
//! prints one, `refresh-race run --link URL` runs it, with the same outcome
//! as `run` with the flags; a damaged, foreign or out-of-range link exits 2
//! naming what was refused, and runs nothing.

use std::process::{Command, Output};

use refresh_race::link::{self, Link, MAX_LINK_CHARS};
use refresh_race::settings::RunSettings;
use serde_json::Value;

fn refresh_race(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_refresh-race"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The link `refresh-race link` prints for `setup`.
fn link_for(setup: &[&str]) -> String {
    let output = refresh_race(&[&["link"], setup].concat());
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    let url = text.trim_end().to_owned();
    assert_eq!(text.lines().count(), 1, "one line: {text}");
    url
}

/// `run … --json` as a report.
fn report(args: &[&str]) -> Value {
    let output = refresh_race(&[args, &["--json"]].concat());
    assert!(output.status.success(), "{}", stderr(&output));
    serde_json::from_slice(&output.stdout).unwrap()
}

/// A report's events without their times (which differ between two runs).
fn timeless(report: &Value) -> Vec<Value> {
    report["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| {
            let mut event = event.clone();
            let fields = event.as_object_mut().unwrap();
            for time in ["t_us", "token", "iat", "exp", "refresh_until", "lab_now_ms"] {
                fields.remove(time);
            }
            event
        })
        .collect()
}

#[test]
fn a_hand_order_through_a_link_runs_as_with_the_flags() {
    let setup = [
        "--client",
        "queue",
        "--policy",
        "family",
        "--secret",
        "2",
        "--public",
        "1",
        "--latency-refresh",
        "350",
        "--network",
        "hand",
        "--deliver",
        "secret#1>,secret#2>,secret#1<,secret#2<,secret#1>",
    ];
    let url = link_for(&setup);
    assert!(url.starts_with("http://127.0.0.1:3000/#s=1."), "{url}");

    let direct = report(&[&["run"], &setup[..]].concat());
    let linked = report(&["run", "--link", &url]);
    assert_eq!(linked["settings"], direct["settings"]);
    assert_eq!(linked["settings"]["latency_ms"]["refresh"], 350);
    assert_eq!(linked["delivered"], direct["delivered"]);
    assert_eq!(linked["verdict"], direct["verdict"]);
    assert_eq!(timeless(&linked), timeless(&direct));
    assert_eq!(linked["delivered"][4], "secret#1>");
}

#[test]
fn a_timed_race_through_a_link_has_the_flags_verdict() {
    let setup = [
        "--case",
        "expired-refreshable",
        "--client",
        "naive",
        "--jitter",
        "80",
        "--seed",
        "7",
        "--ttl",
        "7",
        "--window",
        "20",
        // Delivered in due order, one leg at a time: the two runs compare
        // exactly on a busy machine too.
        "--network",
        "step",
    ];
    let url = link_for(&setup);
    let direct = report(&[&["run"], &setup[..]].concat());
    let linked = report(&["run", "--link", &url]);
    assert_eq!(linked["settings"], direct["settings"]);
    assert_eq!(linked["settings"]["seed"], 7);
    assert_eq!(linked["settings"]["access_ttl_s"], 7);
    assert_eq!(linked["verdict"], direct["verdict"]);
    assert_eq!(linked["verdict"]["logouts"], 1);
    // The fragment alone is a link too, and --base chooses the page.
    let fragment = &url[url.find('#').unwrap()..];
    let text = refresh_race(&["run", "--link", fragment]);
    assert!(text.status.success(), "{}", stderr(&text));
    assert!(stdout(&text)
        .contains("Refresh Race: case expired-refreshable, client naive, policy strict"));
    let other = link_for(&[&["--base", "http://192.168.1.20:3000/#old"], &setup[..]].concat());
    assert_eq!(other, format!("http://192.168.1.20:3000/{fragment}"));
}

#[test]
fn a_bad_link_exits_2_naming_what_was_refused() {
    let url = link_for(&[
        "--client",
        "single-flight",
        "--network",
        "step",
        "--deliver",
        "secret#1>",
    ]);
    let at = url.len() - 6;
    let mut bytes = url.clone().into_bytes();
    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(bytes).unwrap();
    let cases: Vec<(String, &str)> = vec![
        (tampered, "the link is damaged"),
        (
            url.replacen("#s=1.", "#s=7.", 1),
            "the link is of format 7: this Refresh Race reads format 1 links",
        ),
        (url[..url.len() - 5].to_owned(), "the link is damaged"),
        (
            format!("#s=1.{}", "A".repeat(MAX_LINK_CHARS)),
            "characters long: at most 32768 are read",
        ),
        (
            "http://127.0.0.1:3000/".to_owned(),
            "this is not a Refresh Race link: it has no #s= part",
        ),
        (
            link::encode(&Link {
                settings: RunSettings {
                    secret: 0,
                    ..RunSettings::default()
                },
                source: None,
            }),
            "the link's setup was refused: secret must be between 1 and 10000 (got 0)",
        ),
        (
            link::encode(&Link {
                settings: RunSettings::default(),
                source: Some("export function createClient() {}".into()),
            }),
            "the link carries a learner's module, which runs only in the lab's page",
        ),
    ];
    for (bad, says) in cases {
        let output = refresh_race(&["run", "--link", &bad]);
        assert_eq!(output.status.code(), Some(2), "{bad}: {}", stderr(&output));
        assert!(stderr(&output).contains(says), "{bad}: {}", stderr(&output));
        assert!(stdout(&output).is_empty(), "nothing ran for {bad}");
    }
    let browser = link::encode(&Link {
        settings: RunSettings {
            runtime: refresh_race::settings::Runtime::Browser,
            ..RunSettings::default()
        },
        source: None,
    });
    let output = refresh_race(&["run", "--link", &browser]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("runs in the lab's page"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_link_and_setup_flags_do_not_mix_and_link_refuses_a_bad_setup() {
    let url = link_for(&[]);
    let output = refresh_race(&["run", "--link", &url, "--client", "queue"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("cannot be used with"),
        "{}",
        stderr(&output)
    );
    let output = refresh_race(&["run", "--link", &url, "--secret", "4"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let output = refresh_race(&["link", "--tabs", "9"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("tabs must be between 1 and 8 (got 9)"),
        "{}",
        stderr(&output)
    );
    assert!(stdout(&output).is_empty());
}
