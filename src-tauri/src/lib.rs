//! The desktop shell of Refresh Race.
//!
//! It does three things and nothing else:
//! 1. binds a free port on 127.0.0.1 and runs the lab's one web server there
//!    ([`refresh_race::web::serve`]: the UI, the auth API and the lab API);
//! 2. opens a native window on that server's URL, so the window shows exactly
//!    the page a browser gets (the page uses no Tauri IPC at all);
//! 3. stops the server when the app exits.
//!
//! It also decides where the page's downloads (the Export menu) land: the
//! user's Downloads folder, never a file name nobody sees; keeps the page's
//! own storage across launches ([`kept`]: the one command the page may
//! call); and opens what its command line names: a link (`#s=…`), or a
//! saved run (a file manager's "Open with", through the .deb's MIME entry),
//! which the page replays.
//!
//! Everything the window shows is computed by the engine crate; keep it so.

mod kept;

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use tauri::async_runtime::JoinHandle;
use tauri::ipc::CapabilityBuilder;
use tauri::webview::{DownloadEvent, PageLoadEvent};
use tauri::{App, AppHandle, Manager, RunEvent, State, WebviewUrl, WebviewWindowBuilder};
use tokio::sync::oneshot;

/// The main window's title. The desktop e2e test checks it.
pub const WINDOW_TITLE: &str = "Refresh Race — the JWT refresh race, live";

/// Overrides the UI compiled into the engine with a directory (development).
pub const UI_DIR_ENV: &str = refresh_race::ui_files::UI_DIR_ENV;

/// How long the exit path waits for the server to finish open responses.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// The running lab server, kept in Tauri's state so the exit handler can stop it.
struct LabServer {
    stop: Mutex<Option<oneshot::Sender<()>>>,
    task: Mutex<Option<JoinHandle<()>>>,
}

/// When `run` started: the launch benchmark reads how long the page took.
static LAUNCHED: OnceLock<Instant> = OnceLock::new();

/// Builds the app and runs it until its window closes; the process then exits.
pub fn run() {
    LAUNCHED.get_or_init(Instant::now);
    let app = tauri::Builder::default()
        .invoke_handler(tauri::generate_handler![keep])
        .setup(|app| {
            let addr = start_lab_server(app)?;
            let script = keep_across_launches(app, addr)?;
            open_main_window(app, addr, &script)?;
            Ok(())
        })
        .build(tauri::generate_context!())
        .expect("could not build the Tauri app");

    app.run(|handle, event| {
        if let RunEvent::Exit = event {
            stop_lab_server(handle);
        }
    });
}

/// Binds 127.0.0.1:0 now (so the port is known and connections queue in the
/// backlog before the server task even runs), then serves on Tauri's runtime.
fn start_lab_server(app: &mut App) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;

    // The UI compiled into the engine, unless a directory overrides it.
    let ui = refresh_race::ui_files::UiFiles::choose(None);
    let (stop_tx, stop_rx) = oneshot::channel::<()>();

    let task = tauri::async_runtime::spawn(async move {
        // `from_std` needs a Tokio reactor, which only exists inside the runtime.
        let listener = match tokio::net::TcpListener::from_std(listener) {
            Ok(listener) => listener,
            Err(err) => {
                eprintln!("refresh-race-desktop: cannot use the listener on {addr}: {err}");
                return;
            }
        };
        // A dropped sender (app torn down without Exit) also means "stop".
        let shutdown = async move {
            let _ = stop_rx.await;
        };
        if let Err(err) = refresh_race::web::serve(listener, ui, shutdown).await {
            eprintln!("refresh-race-desktop: the lab server on {addr} failed: {err}");
        }
    });

    app.manage(LabServer {
        stop: Mutex::new(Some(stop_tx)),
        task: Mutex::new(Some(task)),
    });
    Ok(addr)
}

/// The page's kept keys ([`kept`]): loads them, lets the page at exactly
/// `addr` call `keep` (nothing else), and returns the script that puts them
/// back before the page's own scripts run.
fn keep_across_launches(app: &mut App, addr: SocketAddr) -> tauri::Result<String> {
    let folder = app.path().app_data_dir()?;
    let (store, note) = kept::Kept::load(folder.join(kept::FILE_NAME));
    if let Some(note) = &note {
        eprintln!("refresh-race-desktop: {note}");
    }
    let origin = format!("http://{addr}");
    let script = store.init_script(&origin, note.as_deref());
    app.manage(store);
    app.add_capability(
        CapabilityBuilder::new("kept")
            .remote(format!("{origin}/*"))
            .local(false)
            .window("main")
            .permission("allow-keep"),
    )?;
    Ok(script)
}

/// The page's one command: keeps (or forgets, `value` null) one
/// `refresh-race.*` key of its localStorage across launches.
#[tauri::command]
fn keep(store: State<'_, kept::Kept>, key: String, value: Option<String>) -> Result<(), String> {
    store
        .keep(&key, value.as_deref())
        .map_err(|err| err.to_string())
}

/// Longest link the command line may hand the window (the page checks the
/// link itself, with the lab's own bound).
const MAX_ARG_LINK: usize = 64 * 1024;

/// The `#s=…` fragment of a link given as the first argument (a whole URL
/// or the fragment alone), if any.
fn link_fragment(args: impl IntoIterator<Item = String>) -> Option<String> {
    let arg = args.into_iter().nth(1)?;
    let at = arg.find("#s=")?;
    let fragment = &arg[at..];
    let plain = fragment.len() <= MAX_ARG_LINK
        && fragment
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'<' && b != b'>');
    if !plain {
        eprintln!("refresh-race-desktop: the link on the command line is too long or not a link; opening the lab without it");
        return None;
    }
    Some(fragment.to_owned())
}

/// Largest saved run the command line may hand the window.
const MAX_ARG_FILE_BYTES: u64 = 32 * 1024 * 1024;

/// A saved run named by the first argument: its file name and text. The
/// page checks that it is a run (and says so when it is not).
fn run_file(args: impl IntoIterator<Item = String>) -> Option<(String, String)> {
    let arg = args.into_iter().nth(1)?;
    if arg.contains("#s=") || arg.starts_with('-') {
        return None;
    }
    let path = PathBuf::from(arg.strip_prefix("file://").unwrap_or(&arg));
    let name = path.file_name()?.to_string_lossy().into_owned();
    let size = std::fs::metadata(&path).ok().filter(|m| m.is_file())?.len();
    if size > MAX_ARG_FILE_BYTES {
        eprintln!(
            "refresh-race-desktop: {} is {size} bytes, more than a saved run may be ({MAX_ARG_FILE_BYTES}); opening the lab without it",
            path.display()
        );
        return None;
    }
    match std::fs::read(&path) {
        Ok(bytes) => Some((name, String::from_utf8_lossy(&bytes).into_owned())),
        Err(err) => {
            eprintln!(
                "refresh-race-desktop: cannot read {}: {err}",
                path.display()
            );
            None
        }
    }
}

/// The one window. Created here rather than in tauri.conf.json because its
/// URL holds the port that was only just picked.
fn open_main_window(app: &mut App, addr: SocketAddr, kept_script: &str) -> tauri::Result<()> {
    let fragment = link_fragment(std::env::args()).unwrap_or_default();
    // Handed to the page once its scripts listen (the first load).
    let file = Mutex::new(run_file(std::env::args()));
    let url = format!("http://{addr}/{fragment}")
        .parse()
        .expect("a socket address and a plain fragment always make a valid URL");
    WebviewWindowBuilder::new(app, "main", WebviewUrl::External(url))
        .title(WINDOW_TITLE)
        .inner_size(1400.0, 900.0)
        .min_inner_size(960.0, 640.0)
        .initialization_script(kept_script)
        // A file dropped on the window reaches the page's own drop handler
        // (a saved run opens), instead of Tauri's, which the page never hears.
        .disable_drag_drop_handler()
        .on_download(|webview, event| {
            match event {
                DownloadEvent::Requested { url, destination } => {
                    // WebKitGTK suggests the `<a download>` name; the folder is ours.
                    let name = destination
                        .file_name()
                        .map(|name| name.to_string_lossy().into_owned())
                        .unwrap_or_else(|| "refresh-race-export".to_owned());
                    let folder = downloads_folder();
                    if let Err(err) = std::fs::create_dir_all(&folder) {
                        eprintln!(
                            "refresh-race-desktop: cannot create {}: {err}",
                            folder.display()
                        );
                    }
                    *destination = unused_path(&folder, &name);
                    eprintln!(
                        "refresh-race-desktop: saving {} to {}",
                        url.scheme(),
                        destination.display()
                    );
                }
                DownloadEvent::Finished { path, success, .. } => {
                    let shown = path.as_deref().map(|p| p.display().to_string());
                    eprintln!(
                        "refresh-race-desktop: download {} ({})",
                        if success { "saved" } else { "failed" },
                        shown.as_deref().unwrap_or("no path")
                    );
                    // Tell the page where the file is (export-menu.js shows it).
                    let detail = serde_json::json!({"ok": success, "path": shown});
                    let script = format!(
                        "window.dispatchEvent(new CustomEvent('refresh-race:download', {{detail: {detail}}}))"
                    );
                    if let Err(err) = webview.eval(script) {
                        eprintln!("refresh-race-desktop: cannot tell the page: {err}");
                    }
                }
                _ => {}
            }
            true
        })
        .on_page_load(move |webview, payload| {
            // Module scripts have run by the load event: the UI is interactive.
            if payload.event() == PageLoadEvent::Finished {
                let elapsed = LAUNCHED.get().map(Instant::elapsed).unwrap_or_default();
                eprintln!(
                    "refresh-race-desktop: page loaded {} in {} ms",
                    payload.url(),
                    elapsed.as_millis()
                );
                let taken = file.lock().unwrap_or_else(|e| e.into_inner()).take();
                if let Some((name, text)) = taken {
                    // The page replays it as if it had been dropped (app.js),
                    // once it says it is ready (WebKit may finish loading
                    // before the page's module scripts have run).
                    let detail = serde_json::json!({"name": name, "text": text});
                    let script = format!(
                        "(() => {{ const detail = {detail}; const body = document.body;\
                         const go = () => window.dispatchEvent(new CustomEvent('refresh-race:open-file', {{ detail }}));\
                         if (body.getAttribute('data-ready') === 'true') {{ go(); return; }}\
                         const watch = new MutationObserver(() => {{ if (body.getAttribute('data-ready') === 'true') {{ watch.disconnect(); go(); }} }});\
                         watch.observe(body, {{ attributes: true, attributeFilter: ['data-ready'] }}); }})()"
                    );
                    if let Err(err) = webview.eval(script) {
                        eprintln!("refresh-race-desktop: cannot hand {name} to the page: {err}");
                    }
                }
            }
        })
        .build()?;
    Ok(())
}

/// Where downloads land: the user's Downloads folder (XDG `DOWNLOAD` on
/// Linux), else `~/Downloads`, else the system's temporary folder.
fn downloads_folder() -> PathBuf {
    if let Some(folder) = xdg_download_dir() {
        return folder;
    }
    match std::env::var_os("HOME").filter(|home| !home.is_empty()) {
        Some(home) => PathBuf::from(home).join("Downloads"),
        None => std::env::temp_dir(),
    }
}

/// `XDG_DOWNLOAD_DIR` from `$XDG_CONFIG_HOME/user-dirs.dirs`, if set there.
fn xdg_download_dir() -> Option<PathBuf> {
    let home = PathBuf::from(std::env::var_os("HOME")?);
    let config = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|dir| !dir.is_empty())
        .map_or_else(|| home.join(".config"), PathBuf::from);
    let text = std::fs::read_to_string(config.join("user-dirs.dirs")).ok()?;
    parse_user_dirs(&text, &home)
}

/// The `XDG_DOWNLOAD_DIR="$HOME/..."` line of a user-dirs.dirs file.
fn parse_user_dirs(text: &str, home: &Path) -> Option<PathBuf> {
    let value = text
        .lines()
        .rev()
        .find_map(|line| line.trim().strip_prefix("XDG_DOWNLOAD_DIR="))?
        .trim()
        .trim_matches('"');
    let folder = match value.strip_prefix("$HOME") {
        Some(rest) => home.join(rest.trim_start_matches('/')),
        None => PathBuf::from(value),
    };
    // `$HOME/` alone means "no Downloads folder": use the fallback then.
    (folder.is_absolute() && folder != home).then_some(folder)
}

/// `folder/name`, or `folder/stem (1).ext`, `(2)`, … if that file exists:
/// a download never overwrites an earlier one.
fn unused_path(folder: &Path, name: &str) -> PathBuf {
    let candidate = folder.join(name);
    if !candidate.exists() {
        return candidate;
    }
    // "x.trace.json" keeps its whole ending: "x (1).trace.json".
    let (stem, ending) = match name.find('.') {
        Some(dot) if dot > 0 => name.split_at(dot),
        _ => (name, ""),
    };
    (1..)
        .map(|n| folder.join(format!("{stem} ({n}){ending}")))
        .find(|path| !path.exists())
        .unwrap_or(candidate)
}

/// Signals the server to stop and waits briefly so open responses end cleanly.
fn stop_lab_server(handle: &AppHandle) {
    let Some(server) = handle.try_state::<LabServer>() else {
        return;
    };
    let stop = server.stop.lock().unwrap_or_else(|e| e.into_inner()).take();
    let task = server.task.lock().unwrap_or_else(|e| e.into_inner()).take();
    if let Some(stop) = stop {
        let _ = stop.send(());
    }
    if let Some(task) = task {
        tauri::async_runtime::block_on(async {
            if tokio::time::timeout(SHUTDOWN_GRACE, task).await.is_err() {
                eprintln!(
                    "refresh-race-desktop: the lab server did not stop within {SHUTDOWN_GRACE:?}"
                );
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_downloads_folder_comes_from_user_dirs() {
        let home = Path::new("/home/ada");
        let text = "# comment\nXDG_DESKTOP_DIR=\"$HOME/Desktop\"\nXDG_DOWNLOAD_DIR=\"$HOME/Téléchargements\"\n";
        assert_eq!(
            parse_user_dirs(text, home),
            Some(PathBuf::from("/home/ada/Téléchargements"))
        );
        assert_eq!(
            parse_user_dirs("XDG_DOWNLOAD_DIR=\"/data/dl\"", home),
            Some(PathBuf::from("/data/dl"))
        );
        assert_eq!(parse_user_dirs("XDG_DOWNLOAD_DIR=\"$HOME/\"", home), None);
        assert_eq!(parse_user_dirs("", home), None);
    }

    #[test]
    fn a_link_on_the_command_line_is_its_fragment() {
        let args = |arg: &str| vec!["refresh-race-desktop".to_owned(), arg.to_owned()];
        assert_eq!(
            link_fragment(args("http://127.0.0.1:3000/#s=1.eJwr")),
            Some("#s=1.eJwr".to_owned())
        );
        assert_eq!(link_fragment(args("#s=1.abc")), Some("#s=1.abc".to_owned()));
        assert_eq!(link_fragment(args("/home/ada/run.json")), None);
        assert_eq!(link_fragment(args("#s=1.a b")), None);
        assert_eq!(
            link_fragment(args(&format!("#s={}", "a".repeat(MAX_ARG_LINK)))),
            None
        );
        assert_eq!(link_fragment(vec!["refresh-race-desktop".to_owned()]), None);
    }

    #[test]
    fn a_saved_run_on_the_command_line_is_read_for_the_page() {
        let folder = std::env::temp_dir().join(format!("rr-open-{}", std::process::id()));
        std::fs::create_dir_all(&folder).unwrap();
        let path = folder.join("race.run.json");
        std::fs::write(&path, br#"{"settings":{}}"#).unwrap();
        let args = |arg: &str| vec!["refresh-race-desktop".to_owned(), arg.to_owned()];
        let shown = path.display().to_string();
        assert_eq!(
            run_file(args(&shown)),
            Some(("race.run.json".to_owned(), r#"{"settings":{}}"#.to_owned()))
        );
        assert_eq!(
            run_file(args(&format!("file://{shown}"))).map(|(name, _)| name),
            Some("race.run.json".to_owned())
        );
        assert_eq!(run_file(args(&folder.display().to_string())), None);
        assert_eq!(run_file(args("#s=1.abc")), None);
        assert_eq!(run_file(args("/no/such/file.json")), None);
        std::fs::remove_dir_all(&folder).unwrap();
    }

    #[test]
    fn a_download_never_overwrites_an_earlier_one() {
        let folder = std::env::temp_dir().join(format!("rr-downloads-{}", std::process::id()));
        std::fs::create_dir_all(&folder).unwrap();
        let name = "refresh-race-valid-naive-strict.trace.json";
        assert_eq!(unused_path(&folder, name), folder.join(name));
        std::fs::write(folder.join(name), b"1").unwrap();
        assert_eq!(
            unused_path(&folder, name),
            folder.join("refresh-race-valid-naive-strict (1).trace.json")
        );
        std::fs::remove_dir_all(&folder).unwrap();
    }
}
