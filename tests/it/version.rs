//! One version for everything: the CLI's `--version`, the lab's
//! `GET /lab/options`, the desktop app (Tauri reads src-tauri/Cargo.toml,
//! which inherits the workspace's version) and the changelog.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

const VERSION: &str = env!("CARGO_PKG_VERSION");

fn read(relative: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

#[test]
fn the_cli_prints_the_workspace_version() {
    let output = Command::new(env!("CARGO_BIN_EXE_refresh-race"))
        .arg("--version")
        .output()
        .expect("the binary runs");
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        format!("refresh-race {VERSION}\n")
    );
}

#[test]
fn the_desktop_app_has_no_version_of_its_own() {
    // Without "version", Tauri uses src-tauri/Cargo.toml's, which is the workspace's.
    let config: serde_json::Value =
        serde_json::from_str(&read("src-tauri/tauri.conf.json")).unwrap();
    assert!(
        config.get("version").is_none(),
        "tauri.conf.json must not set a version: the workspace's Cargo.toml is its one home"
    );
    let manifest = read("src-tauri/Cargo.toml");
    assert!(
        manifest
            .lines()
            .any(|l| l.trim() == "version.workspace = true"),
        "src-tauri/Cargo.toml must inherit the workspace's version"
    );
}

#[test]
fn the_changelog_has_a_section_for_this_version() {
    let changelog = read("CHANGELOG.md");
    assert!(
        changelog.contains(&format!("\n## [{VERSION}]")),
        "CHANGELOG.md has no `## [{VERSION}]` section"
    );
}

#[tokio::test]
async fn the_lab_tells_the_page_its_version() {
    // Through the binary, as the page meets it: `serve` on a free port.
    let mut child = Command::new(env!("CARGO_BIN_EXE_refresh-race"))
        .args(["serve", "--port", "0"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let base = stdout.lines().map_while(Result::ok).find_map(|line| {
        let at = line.find("listening on http://")?;
        Some(line[at + "listening on ".len()..].trim().to_owned())
    });
    let options = match base {
        Some(base) => reqwest::get(format!("{base}/lab/options")).await,
        None => {
            let _ = child.kill();
            panic!("serve did not say where it listens");
        }
    };
    let _ = child.kill();
    let _ = child.wait();
    let options: serde_json::Value = options.unwrap().json().await.unwrap();
    assert_eq!(options["version"], VERSION);
}
