//! The desktop shell of Refresh Race.
//!
//! It does three things and nothing else:
//! 1. binds a free port on 127.0.0.1 and runs the lab's one web server there
//!    ([`refresh_race::web::serve`]: the UI, the auth API and the lab API);
//! 2. opens a native window on that server's URL, so the window shows exactly
//!    the page a browser gets (the page uses no Tauri IPC at all);
//! 3. stops the server when the app exits.
//!
//! Everything the window shows is computed by the engine crate; keep it so.

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use tauri::async_runtime::JoinHandle;
use tauri::webview::PageLoadEvent;
use tauri::{App, AppHandle, Manager, RunEvent, WebviewUrl, WebviewWindowBuilder};
use tokio::sync::oneshot;

/// The main window's title. The desktop e2e test checks it.
pub const WINDOW_TITLE: &str = "Refresh Race — the JWT refresh race, live";

/// Overrides where the UI's static files are read from (default: the
/// checkout's `ui/`, see [`refresh_race::web::default_ui_dir`]).
pub const UI_DIR_ENV: &str = "REFRESH_RACE_UI_DIR";

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
        .setup(|app| {
            let addr = start_lab_server(app)?;
            open_main_window(app, addr)?;
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

    let ui_dir = std::env::var_os(UI_DIR_ENV)
        .map(PathBuf::from)
        .unwrap_or_else(refresh_race::web::default_ui_dir);
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
        if let Err(err) = refresh_race::web::serve(listener, ui_dir, shutdown).await {
            eprintln!("refresh-race-desktop: the lab server on {addr} failed: {err}");
        }
    });

    app.manage(LabServer {
        stop: Mutex::new(Some(stop_tx)),
        task: Mutex::new(Some(task)),
    });
    Ok(addr)
}

/// The one window. Created here rather than in tauri.conf.json because its
/// URL holds the port that was only just picked.
fn open_main_window(app: &mut App, addr: SocketAddr) -> tauri::Result<()> {
    let url = format!("http://{addr}/")
        .parse()
        .expect("a socket address always makes a valid URL");
    WebviewWindowBuilder::new(app, "main", WebviewUrl::External(url))
        .title(WINDOW_TITLE)
        .inner_size(1400.0, 900.0)
        .min_inner_size(960.0, 640.0)
        .on_page_load(|_, payload| {
            // Module scripts have run by the load event: the UI is interactive.
            if payload.event() == PageLoadEvent::Finished {
                let elapsed = LAUNCHED.get().map(Instant::elapsed).unwrap_or_default();
                eprintln!(
                    "refresh-race-desktop: page loaded {} in {} ms",
                    payload.url(),
                    elapsed.as_millis()
                );
            }
        })
        .build()?;
    Ok(())
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
