//! The `refresh-race` binary: the text timeline (golden), JSON output, the
//! matrix, and exit code 2 with a clear message for bad arguments.

use std::process::{Command, Output};

use refresh_race::settings::{Case, Strategy};

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

/// The seeded jitter spreads the three refreshes tens of ms apart, and the
/// step network delivers in that due order, one leg at a time: the same
/// lane wins every time and the lane stories compare exactly.
#[test]
fn text_timeline_of_a_seeded_naive_race_matches_the_golden_file() {
    let output = refresh_race(&[
        "run",
        "--client",
        "naive",
        "--jitter",
        "80",
        "--seed",
        "7",
        "--network",
        "step",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.starts_with("Refresh Race: case expired-refreshable, client naive, policy strict"));
    assert!(text.contains("rotated t1 -> t2"));
    assert!(text.contains("LOGGED OUT (refresh of t1 rejected: reused)"));
    let stable = &text[text.find("Lanes\n").expect("a lanes section")..];
    let golden_path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/naive-seed7.txt");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(golden_path, stable).unwrap();
    }
    let golden = std::fs::read_to_string(golden_path).expect("golden file exists");
    assert_eq!(stable, golden);
}

#[test]
fn single_flight_shows_the_fix() {
    let output = refresh_race(&["run", "--client", "single-flight"]);
    assert!(output.status.success());
    assert!(stdout(&output).contains("Verdict: 1 refresh, all 6 requests succeeded."));
}

#[test]
fn json_output_carries_events_and_verdict() {
    let output = refresh_race(&["run", "--case", "valid", "--client", "queue", "--json"]);
    assert!(output.status.success());
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["settings"]["case"], "valid");
    assert_eq!(report["verdict"]["ok"], 6);
    assert_eq!(report["verdict"]["refresh_calls"], 0);
    // Login (issued, stored), then 6 requests: sent, answered, done; the
    // server accepts the 3 secret ones (public needs no decision).
    assert_eq!(report["events"].as_array().unwrap().len(), 2 + 6 * 3 + 3);
    assert_eq!(report["events"][0]["kind"], "issued");
}

#[test]
fn matrix_prints_every_case_and_client() {
    let output = refresh_race(&["matrix", "--policy", "strict"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    let rows: Vec<&str> = text.lines().skip(1).collect();
    // Every case x every client.
    assert_eq!(rows.len(), Case::ALL.len() * Strategy::ALL.len(), "{text}");
    assert_eq!(Case::ALL.len(), 5);
    let naive_race = rows
        .iter()
        .find(|row| row.starts_with("expired-refreshable      naive"))
        .expect("a naive row");
    assert!(naive_race.contains("Race: 3 refreshes"), "{naive_race}");
}

#[test]
fn the_matrix_has_tabs_and_modes_and_the_reference_table_is_current() {
    let output = refresh_race(&[
        "matrix", "--policy", "strict", "--tabs", "1", "--tabs", "3", "--mode", "oauth",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    // 2 tab counts x every case x every client, under one policy and one mode.
    assert_eq!(
        text.lines().skip(1).count(),
        2 * Case::ALL.len() * Strategy::ALL.len(),
        "{text}"
    );
    let three_tabs = text
        .lines()
        .find(|row| {
            row.starts_with("expired-refreshable      single-flight  strict     oauth      3")
        })
        .expect("a three-tab single-flight row");
    assert!(three_tabs.contains("Race: 3 refreshes"), "{three_tabs}");

    let output = refresh_race(&["matrix", "--reference"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let checked_in = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/reference-matrix.md"
    ))
    .unwrap();
    assert_eq!(
        stdout(&output),
        checked_in,
        "docs/reference-matrix.md is stale: run scripts/reference-matrix.sh"
    );
}

#[test]
fn out_of_range_and_unknown_values_exit_2_with_a_message() {
    for (args, message) in [
        (
            vec!["run", "--secret", "0"],
            "secret must be between 1 and 10000 (got 0)",
        ),
        (
            vec!["run", "--public", "10001"],
            "public must be between 0 and 10000 (got 10001)",
        ),
        (
            vec!["run", "--speed", "0"],
            "speed must be between 0.05 and 10 (got 0)",
        ),
        (
            vec!["run", "--case", "tomorrow"],
            "unknown Case 'tomorrow' (expected one of: guest, valid, expired-refreshable, expired-not-refreshable, cold-start)",
        ),
        (
            vec!["run", "--tabs", "9"],
            "tabs must be between 1 and 8 (got 9)",
        ),
        (
            vec!["run", "--cross-tab", "always"],
            "unknown CrossTab 'always' (expected one of: none, lock, storage-lock)",
        ),
        (
            vec!["run", "--drop", "secret#1<"],
            "'secret#1<' is not a refresh answer: write refresh#N< for the answer to the run's N-th refresh call, e.g. refresh#1<",
        ),
        (
            vec!["run", "--policy", "okta2"],
            "unknown Policy 'okta2' (expected one of: strict, family, grace, none, non-atomic, auth0, okta, keycloak, hydra, supabase, cognito, spring)",
        ),
        (
            vec!["run", "--mode", "saml"],
            "unknown Mode 'saml' (expected one of: article, oauth)",
        ),
        (
            vec!["run", "--policy", "strict", "--overlap", "5"],
            "overlap_s is a parameter of auth0, okta, hydra, supabase, cognito, not of the strict policy",
        ),
        (
            vec!["run", "--policy", "keycloak", "--reuse-count", "101"],
            "reuse_count must be between 0 and 100 (got 101)",
        ),
        (vec!["run", "--secret", "-3"], "unexpected argument '-3'"),
        (vec!["run", "--bogus"], "unexpected argument '--bogus'"),
        (
            vec!["run", "--tabs", "2", "--skew", "2=90000"],
            "skew seconds must be between -86400 and 86400 (got 90000)",
        ),
        (
            vec!["run", "--sleep-at", "0", "--sleep-s", "2592001"],
            "sleep.seconds must be between 1 and 2592000 (got 2592001)",
        ),
        (
            vec!["run", "--instances", "9"],
            "instances must be between 1 and 8 (got 9)",
        ),
        (
            vec!["run", "--close", "2@secret#1<"],
            "close tab must be between 1 and 1 (got 2)",
        ),
        (vec!["run", "--close", "2-3"], "is not TAB@POINT"),
    ] {
        let output = refresh_race(&args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(stderr(&output).contains(message), "{args:?}: {}", stderr(&output));
    }
    // The strategies are the list's, in its order.
    let names: Vec<&str> = Strategy::ALL.iter().map(|s| s.as_str()).collect();
    let message = format!(
        "unknown Strategy 'optimistic' (expected one of: {})",
        names.join(", ")
    );
    let output = refresh_race(&["run", "--client", "optimistic"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains(&message), "{}", stderr(&output));
    assert!(message.contains("naive, queue, single-flight, proactive, mutex"));
}

#[test]
fn save_writes_the_json_report_to_a_file() {
    let dir = std::env::temp_dir().join(format!("refresh-race-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("race.json");
    let output = refresh_race(&[
        "run",
        "--client",
        "single-flight",
        "--save",
        path.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains("Verdict: 1 refresh"));
    let saved: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(saved["verdict"]["refresh_calls"], 1);
    assert_eq!(saved["settings"]["strategy"], "single-flight");

    let output = refresh_race(&["run", "--save", "/nonexistent-dir/x.json"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("cannot save /nonexistent-dir/x.json"));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A hand-made order replays headless, and `--narrate` tells it in words:
/// one sentence per event, from the engine's one source of them.
#[test]
fn a_hand_order_replays_from_the_command_line_with_narration() {
    let order = "secret#1>,secret#2>,secret#1<,secret#2<,secret#1>,secret#2>";
    let args = [
        "run",
        "--secret",
        "2",
        "--public",
        "0",
        "--network",
        "hand",
        "--deliver",
        order,
    ];
    let output = refresh_race(&[&args[..], &["--narrate"]].concat());
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.contains("secret#2 refreshes t1 on its own: the naive client does not know secret#1 is already refreshing it."),
        "{text}"
    );
    assert!(text.contains(&format!("Delivered: {order},")), "{text}");
    assert!(text.contains("Verdict: Race: 2 refreshes for 1 expired token; 1 accepted, 1 rejected (reused); 1 of 2 secret requests failed; logged out."));
    // The JSON report carries the delivered order and one sentence per event.
    let json = refresh_race(&[&args[..], &["--json"]].concat());
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let events = report["events"].as_array().unwrap().len();
    assert_eq!(report["narration"].as_array().unwrap().len(), events);
    assert_eq!(report["delivered"][5], "secret#2>");
}

#[test]
fn a_leg_that_is_not_a_leg_exits_2() {
    let output = refresh_race(&["run", "--network", "hand", "--deliver", "secret#1"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("'secret#1' is not a leg"),
        "{}",
        stderr(&output)
    );
    let output = refresh_race(&["run", "--deliver", "secret#1>"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("deliver needs network step or hand"));
}

/// `serve` without `--ui-dir` serves the UI compiled into the binary: run
/// from a directory far from the checkout, with the override unset, it
/// answers the checkout's own files byte for byte.
#[test]
fn serve_answers_the_ui_compiled_into_the_binary() {
    use std::io::{BufRead, BufReader, Read, Write};
    let elsewhere = std::env::temp_dir();
    let mut child = Command::new(env!("CARGO_BIN_EXE_refresh-race"))
        .args(["serve", "--port", "0"])
        .current_dir(&elsewhere)
        .env_remove("REFRESH_RACE_UI_DIR")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .trim_start_matches("listening on http://")
        .to_owned();
    let get = |path: &str| -> (String, Vec<u8>) {
        let mut stream = std::net::TcpStream::connect(&addr).unwrap();
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).unwrap();
        let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        let head = String::from_utf8_lossy(&raw[..split]).into_owned();
        (head, raw[split + 4..].to_vec())
    };
    let checkout = concat!(env!("CARGO_MANIFEST_DIR"), "/ui/");
    for (path, file) in [("/", "index.html"), ("/lib/scale.js", "lib/scale.js")] {
        let (head, body) = get(path);
        assert!(head.starts_with("HTTP/1.1 200"), "{path}: {head}");
        assert!(
            head.to_ascii_lowercase()
                .contains("content-security-policy"),
            "{head}"
        );
        assert_eq!(
            body,
            std::fs::read(format!("{checkout}{file}")).unwrap(),
            "{path}"
        );
    }
    // A directory name is not a file: 404, never a redirect to `//lib/`.
    let (head, _) = get("//lib");
    assert!(head.starts_with("HTTP/1.1 404"), "{head}");
    let _ = child.kill();
    let _ = child.wait();
}

/// `serve --mode oauth`: the long-lived /api routes speak OAuth, so a real
/// OAuth client can be pointed at the lab: login gives an access and a
/// refresh token, the refresh_token grant rotates the refresh token, and
/// the spent one is refused.
#[test]
fn serve_mode_oauth_issues_refresh_tokens_on_the_long_lived_api() {
    use std::io::{BufRead, BufReader, Read, Write};
    let mut child = Command::new(env!("CARGO_BIN_EXE_refresh-race"))
        .args(["serve", "--port", "0", "--mode", "oauth", "--ttl", "60"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .trim_start_matches("listening on http://")
        .to_owned();
    let post = |path: &str, content_type: &str, body: &str| -> (u16, serde_json::Value) {
        let mut stream = std::net::TcpStream::connect(&addr).unwrap();
        write!(
            stream,
            "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).unwrap();
        let text = String::from_utf8_lossy(&raw).into_owned();
        let status = text[9..12].parse().unwrap();
        let (_, body) = text.split_once("\r\n\r\n").unwrap();
        (
            status,
            serde_json::from_str(body).unwrap_or(serde_json::Value::Null),
        )
    };
    let (status, login) = post(
        "/api/login",
        "application/json",
        r#"{"login":"ada","password":"lab"}"#,
    );
    assert_eq!(status, 200, "{login}");
    assert!(login["access_token"].is_string(), "{login}");
    let first = login["refresh_token"].as_str().unwrap().to_owned();
    let form = |token: &str| format!("grant_type=refresh_token&refresh_token={token}");
    let form_type = "application/x-www-form-urlencoded";
    let (status, rotated) = post("/api/refresh", form_type, &form(&first));
    assert_eq!(status, 200, "{rotated}");
    let second = rotated["refresh_token"].as_str().unwrap();
    assert_ne!(second, first, "the refresh token rotates");
    let (status, reused) = post("/api/refresh", form_type, &form(&first));
    assert!((400..500).contains(&status), "{status} {reused}");
    let _ = child.kill();
    let _ = child.wait();
}

// ---- explore ----

#[test]
fn explore_counts_every_order_and_prints_the_same_bytes_twice() {
    let args = [
        "explore", "--client", "naive", "--secret", "2", "--public", "0",
    ];
    let first = refresh_race(&args);
    assert!(first.status.success(), "{}", stderr(&first));
    let text = stdout(&first);
    assert!(
        text.starts_with(
            "explore: case expired-refreshable, client naive, policy strict, 2 secret + 0 public"
        ),
        "{text}"
    );
    assert!(text.contains(" orders (exact); "), "{text}");
    assert!(text.contains("log the user out"), "{text}");
    // Two naive refreshes of t1 under strict: one is always refused.
    assert!(text.contains("lost before the first delivery"), "{text}");
    let second = refresh_race(&args);
    assert_eq!(first.stdout, second.stdout, "explore is deterministic");
    // The runs it drops mid-flight do not warn about their lost answers.
    assert!(!stderr(&first).contains("no answer"), "{}", stderr(&first));
    let queue = refresh_race(&[
        "explore", "--client", "queue", "--secret", "1", "--public", "0", "--late",
    ]);
    assert!(queue.status.success(), "{}", stderr(&queue));
    let text = stdout(&queue);
    assert!(
        text.contains("orders (") && text.contains("end well"),
        "{text}"
    );
    assert!(text.contains("point of no return: delivery "), "{text}");
}

#[test]
fn explore_json_has_the_documented_shape_and_its_orders_replay() {
    let dir = std::env::temp_dir().join(format!("rr-explore-{}", std::process::id()));
    let out = dir.join("naive.json");
    let setup = [
        "--client", "queue", "--secret", "1", "--public", "0", "--late",
    ];
    let output = refresh_race(
        &[
            &["explore"][..],
            &setup,
            &[
                "--json",
                "--out",
                out.to_str().unwrap(),
                "--save-failing",
                dir.join("failing").to_str().unwrap(),
            ],
        ]
        .concat(),
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(output.stdout.is_empty(), "--out takes the JSON");
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(json["setup"]["strategy"], "queue");
    assert_eq!(json["exact"], true);
    let orders = json["orders"].as_u64().unwrap();
    let classes = json["classes"].as_array().unwrap();
    let counted: u64 = classes.iter().map(|c| c["count"].as_u64().unwrap()).sum();
    assert_eq!(counted, orders);
    let failing: u64 = classes
        .iter()
        .filter(|c| c["ok"] == false)
        .map(|c| c["count"].as_u64().unwrap())
        .sum();
    assert_eq!(json["failing"].as_u64().unwrap(), failing);
    assert!(failing > 0);
    for class in classes {
        for key in [
            "refresh_calls",
            "refresh_rejected",
            "failed",
            "logged_out",
            "hang",
        ] {
            assert!(class["outcome"].get(key).is_some(), "outcome.{key}");
        }
        // The shortest order replays with the hand network to its outcome.
        let order: Vec<&str> = class["shortest"]
            .as_array()
            .unwrap()
            .iter()
            .map(|leg| leg.as_str().unwrap())
            .collect();
        let order = order.join(",");
        let replay = refresh_race(
            &[
                &["run"][..],
                &setup,
                &["--network", "hand", "--deliver", &order, "--json"],
            ]
            .concat(),
        );
        assert!(replay.status.success(), "{}", stderr(&replay));
        let report: serde_json::Value = serde_json::from_slice(&replay.stdout).unwrap();
        let verdict = &report["verdict"];
        assert_eq!(verdict["refresh_calls"], class["outcome"]["refresh_calls"]);
        assert_eq!(
            verdict["refresh_rejected"],
            class["outcome"]["refresh_rejected"]
        );
        assert_eq!(verdict["failed"], class["outcome"]["failed"]);
        assert_eq!(
            verdict["logouts"].as_u64().unwrap() > 0,
            class["outcome"]["logged_out"].as_bool().unwrap()
        );
        if class["ok"] == false {
            let no_return = class["no_return"].as_u64().unwrap() as usize;
            assert!(no_return < class["shortest"].as_array().unwrap().len());
        } else {
            assert!(class["no_return"].is_null());
        }
    }
    // Each failing class was saved as a run file that export reads.
    let saved: Vec<_> = std::fs::read_dir(dir.join("failing"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    assert_eq!(
        saved.len(),
        classes.iter().filter(|c| c["ok"] == false).count()
    );
    for path in &saved {
        let export = refresh_race(&["export", "json", path.to_str().unwrap()]);
        assert!(export.status.success(), "{}", stderr(&export));
        let report: serde_json::Value = serde_json::from_slice(&export.stdout).unwrap();
        assert_eq!(report["settings"]["network"], "hand");
        assert!(
            report["verdict"]["failed"].as_u64().unwrap() > 0
                || report["verdict"]["logouts"].as_u64().unwrap() > 0
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn explore_refuses_bad_and_too_large_setups_with_exit_2() {
    let bad = refresh_race(&["explore", "--secret", "0"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("secret must be between 1 and 10000 (got 0)"),
        "{}",
        stderr(&bad)
    );
    let unknown = refresh_race(&["explore", "--policy", "sometimes"]);
    assert_eq!(unknown.status.code(), Some(2));
    let leg = refresh_race(&["explore", "--deliver", "secret#1"]);
    assert_eq!(leg.status.code(), Some(2));
    let zero = refresh_race(&["explore", "--budget-orders", "0"]);
    assert_eq!(zero.status.code(), Some(2));
    let large = refresh_race(&["explore", "--secret", "8", "--public", "8"]);
    assert_eq!(large.status.code(), Some(2));
    let message = stderr(&large);
    assert!(
        message.contains("too large to explore whole: ")
            && message.contains(" states (the bound is "),
        "{message}"
    );
    assert!(message.contains("--budget-orders"), "{message}");
    // Nothing was printed to stdout for a refusal.
    assert!(large.stdout.is_empty());
}

#[test]
fn explore_with_a_budget_says_at_least() {
    let output = refresh_race(&[
        "explore",
        "--secret",
        "8",
        "--public",
        "8",
        "--budget-orders",
        "5",
        "--json",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["exact"], false);
    assert_eq!(json["cut"], "budget_orders");
    let orders = json["orders"].as_u64().unwrap();
    assert!(orders >= 5);
    assert!(json["at_least"].as_u64().unwrap() > orders);
    let text = refresh_race(&[
        "explore",
        "--secret",
        "8",
        "--public",
        "8",
        "--budget-orders",
        "5",
    ]);
    assert!(stdout(&text).contains(" of at least "), "{}", stdout(&text));
}
