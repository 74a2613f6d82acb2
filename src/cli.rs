//! The command line: `run`, `explore`, `link`, `matrix`, `export`, `schema`
//! and `serve`.
//!
//! Invalid arguments and out-of-range values exit with code 2 and a message
//! that names the value, like clap's own errors.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::export::{self, ExportFormat};
use crate::protocol::{LegId, LostAnswer};
use crate::render;
use crate::scenario::{self, RunReport};
use crate::settings::{
    Case, CrossTab, Latency, Mode, NetworkDriver, Point, Policy, RunSettings, Sleep, Strategy,
    TabAt,
};
use crate::timeline::Recorder;

#[derive(Parser)]
#[command(
    name = "refresh-race",
    version,
    about = "The JWT refresh race, live: a real auth server, racing clients, a timeline"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run one case and print its timeline and verdict.
    Run {
        #[command(flatten)]
        knobs: Knobs,
        /// guest | valid | expired-refreshable | expired-not-refreshable |
        /// cold-start (the app starts holding only the refresh credential)
        #[arg(long, default_value = "expired-refreshable")]
        case: Case,
        /// The 401 strategy: naive, queue, single-flight, … (a wrong name lists them all)
        #[arg(long = "client", default_value = "naive")]
        strategy: Strategy,
        /// Browser tabs open on the app (1..=8): each has its own interceptor,
        /// all share one stored token.
        #[arg(long, default_value_t = 1)]
        tabs: u32,
        /// article (the expired access token is the refresh credential) |
        /// oauth (an opaque refresh token, sent as a form, RFC 6749 §6).
        #[arg(long, default_value = "article")]
        mode: Mode,
        /// strict | family | grace | none | non-atomic, or a real server's rule:
        /// auth0 | okta | keycloak | hydra | supabase | cognito | spring
        #[arg(long, default_value = "strict")]
        policy: Policy,
        /// Who delivers the network's legs: timer (latencies), step or hand.
        /// Headless, step and hand deliver `--deliver` first, then the rest
        /// in due order.
        #[arg(long, default_value = "timer")]
        network: NetworkDriver,
        /// Legs to deliver first, in order, comma-separated: `secret#1>`
        /// (request to the server), `secret#1<` (answer back to the client),
        /// `secret#1=` (a non-atomic refresh's commit). Needs --network hand
        /// or step.
        #[arg(long, value_name = "LEGS", value_delimiter = ',')]
        deliver: Vec<LegId>,
        /// Refresh answers the network loses, comma-separated: `refresh#1<`
        /// is the answer to the run's first refresh call. The server has
        /// decided; the client gets a network error. Any network driver.
        #[arg(long = "drop", value_name = "ANSWERS", value_delimiter = ',')]
        lose: Vec<LostAnswer>,
        #[command(flatten)]
        life: LifeFlags,
        /// Print one plain sentence per event instead of the text timeline.
        #[arg(long)]
        narrate: bool,
        /// Print the report as JSON (settings, events, verdict).
        #[arg(long)]
        json: bool,
        /// Also save the JSON report to this file (written atomically); the
        /// app's "Replay a saved run" plays it back.
        #[arg(long, value_name = "FILE")]
        save: Option<PathBuf>,
        /// Also export the run: har | trace | mermaid | svg | png | json.
        /// Written to --out FILE, or to stdout instead of the timeline.
        #[arg(long, value_name = "FORMAT")]
        export: Option<ExportFormat>,
        /// Where --export writes (atomically).
        #[arg(long, value_name = "FILE", requires = "export")]
        out: Option<PathBuf>,
        /// Run the setup of a link (`refresh-race link`, or the app's Copy
        /// link) instead of the setup flags: a whole URL or its `#s=…` part.
        #[arg(long, value_name = "URL", conflicts_with_all = [
            "Knobs", "case", "strategy", "tabs", "mode", "policy", "network", "deliver", "lose",
        ])]
        link: Option<String>,
    },
    /// Print a link to a setup (the `run` flags): opening it in the lab's
    /// page restores the setup, and `run --link` runs it here.
    Link {
        #[command(flatten)]
        setup: LinkSetup,
        /// The page the link opens (the fragment is added to it).
        #[arg(long, value_name = "URL", default_value = crate::link::DEFAULT_BASE)]
        base: String,
    },
    /// Explore every order in which the network can deliver a run's legs
    /// (hand network), count them by outcome, and show each outcome's
    /// shortest order and its point of no return.
    Explore {
        #[command(flatten)]
        knobs: Knobs,
        /// guest | valid | expired-refreshable | expired-not-refreshable
        #[arg(long, default_value = "expired-refreshable")]
        case: Case,
        /// The 401 strategy: naive, queue, single-flight, … (a wrong name lists them all)
        #[arg(long = "client", default_value = "naive")]
        strategy: Strategy,
        /// Browser tabs open on the app (1..=8).
        #[arg(long, default_value_t = 1)]
        tabs: u32,
        /// article | oauth
        #[arg(long, default_value = "article")]
        mode: Mode,
        /// A generic policy or a real server's rule (as for `run`).
        #[arg(long, default_value = "strict")]
        policy: Policy,
        /// Start every order with these legs (a `--deliver` list).
        #[arg(long, value_name = "LEGS", value_delimiter = ',')]
        deliver: Vec<LegId>,
        /// Print the result as JSON (to stdout, or to --out FILE).
        #[arg(long)]
        json: bool,
        /// Write the JSON result here (atomically).
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Stop once this many complete orders are counted (then the counts
        /// say "at least").
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
        budget_orders: Option<u64>,
        /// Stop after this many seconds (then the counts say "at least").
        #[arg(long, value_name = "S", value_parser = clap::value_parser!(u64).range(1..=86_400))]
        budget_s: Option<u64>,
        /// Save each failing outcome's shortest order as a run file here
        /// (what `run --save` writes: the app replays it, `export` reads it).
        #[arg(long, value_name = "DIR")]
        save_failing: Option<PathBuf>,
    },
    /// Export a saved run (`run --save FILE`) as HAR, a Chrome trace, a
    /// Mermaid diagram, an SVG or PNG timeline, or JSON.
    Export {
        /// har | trace | mermaid | svg | png | json
        format: ExportFormat,
        /// The saved run report (JSON); `-` reads standard input.
        #[arg(value_name = "RUN.json")]
        report: PathBuf,
        /// Write here (atomically) instead of to stdout.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Run every case x client x policy and print one table of verdicts.
    Matrix {
        #[command(flatten)]
        knobs: Knobs,
        /// Only these policies (repeatable); all of them by default.
        #[arg(long = "policy")]
        policies: Vec<Policy>,
        /// Tab counts to run (repeatable): --tabs 1 --tabs 3.
        #[arg(long = "tabs", default_values_t = [1])]
        tabs: Vec<u32>,
        /// Modes to run (repeatable): --mode article --mode oauth.
        #[arg(long = "mode", default_values_t = [Mode::Article])]
        modes: Vec<Mode>,
        /// Print the reference table instead (Markdown, docs/reference-matrix.md):
        /// case 3, stepped in due order, which client survives which server
        /// rule, with one tab and three, in article and OAuth mode.
        #[arg(long, conflicts_with_all = ["tabs", "modes"])]
        reference: bool,
    },
    /// Write the JSON Schemas of the lab protocol (stream messages, run
    /// reports) into a directory; docs/schema/ holds the checked-in copy.
    Schema {
        /// Directory to write the *.schema.json files into.
        #[arg(long, value_name = "DIR", default_value = "docs/schema")]
        out: PathBuf,
    },
    /// Serve the auth API, the lab API and the UI for a browser.
    Serve {
        /// Address to bind; keep 127.0.0.1 unless you mean to expose the lab.
        #[arg(long, default_value = "127.0.0.1")]
        host: String,
        /// Port to bind; 0 picks a free one.
        #[arg(long, default_value_t = 3000)]
        port: u16,
        /// Serve the UI from this directory instead of the copy compiled into
        /// the binary (UI development; also $REFRESH_RACE_UI_DIR).
        #[arg(long)]
        ui_dir: Option<PathBuf>,
        /// Do not record the /api routes' decisions (to measure what recording costs).
        #[arg(long)]
        no_record: bool,
        /// Policy of the long-lived /api routes (runs pick their own).
        #[arg(long, default_value = "strict")]
        policy: Policy,
        /// Access token lifetime of the long-lived /api routes, seconds.
        #[arg(long, default_value_t = 5)]
        ttl: u64,
        /// Refresh window of the long-lived /api routes, seconds.
        #[arg(long, default_value_t = 10)]
        window: u64,
        /// How the long-lived /api routes issue tokens: `article` (the
        /// expired access token is the refresh credential) or `oauth`
        /// (access and refresh tokens, the refresh_token grant), so a real
        /// OAuth client can be pointed at the lab.
        #[arg(long, default_value = "article")]
        mode: Mode,
        /// Also open the lab to a workshop room: a second address, behind a
        /// join code (printed as a URL); each attendee gets their own API,
        /// lab clock and runs, within limits.
        #[arg(long)]
        classroom: bool,
        /// The room-facing address to open (default: this machine's own).
        #[arg(long, requires = "classroom")]
        room_host: Option<std::net::IpAddr>,
        /// The room-facing port (0 picks a free one).
        #[arg(long, default_value_t = 0, requires = "classroom")]
        room_port: u16,
    },
}

/// The setup `link` puts in a link: `run`'s flags.
#[derive(Args)]
struct LinkSetup {
    #[command(flatten)]
    knobs: Knobs,
    /// guest | valid | expired-refreshable | expired-not-refreshable
    #[arg(long, default_value = "expired-refreshable")]
    case: Case,
    /// The 401 strategy: naive, queue, single-flight, … (a wrong name lists them all)
    #[arg(long = "client", default_value = "naive")]
    strategy: Strategy,
    /// Browser tabs open on the app (1..=8).
    #[arg(long, default_value_t = 1)]
    tabs: u32,
    /// article | oauth
    #[arg(long, default_value = "article")]
    mode: Mode,
    /// A policy, or a real server's rule (as for `run`).
    #[arg(long, default_value = "strict")]
    policy: Policy,
    /// timer | step | hand
    #[arg(long, default_value = "timer")]
    network: NetworkDriver,
    /// Legs to deliver first, in order, comma-separated (as for `run`).
    #[arg(long, value_name = "LEGS", value_delimiter = ',')]
    deliver: Vec<LegId>,
    /// Refresh answers the network loses, comma-separated (as for `run`).
    #[arg(long = "drop", value_name = "ANSWERS", value_delimiter = ',')]
    lose: Vec<LostAnswer>,
}

impl LinkSetup {
    fn settings(self) -> RunSettings {
        RunSettings {
            network: self.network,
            deliver: self.deliver,
            drop: self.lose,
            tabs: self.tabs,
            mode: self.mode,
            ..self.knobs.settings(self.case, self.strategy, self.policy)
        }
    }
}

/// The settings of `run --link`: the link's, if it is one this build reads
/// and the CLI can run (a learner's module or a page client runs in the page).
fn link_settings(url: &str) -> Result<RunSettings, ExitCode> {
    let link = crate::link::decode(url).map_err(|err| fail(2, &err.to_string()))?;
    if link.source.is_some() {
        return Err(fail(
            2,
            "the link carries a learner's module, which runs only in the lab's page: open the link there",
        ));
    }
    if link.settings.runtime == crate::settings::Runtime::Browser {
        return Err(fail(
            2,
            "the link's client runs in the lab's page (runtime browser): open the link there",
        ));
    }
    Ok(link.settings)
}

/// Settings shared by `run` and `matrix`.
#[derive(Args)]
struct Knobs {
    /// Parallel GET /api/secret requests (1..=10000).
    #[arg(long, default_value_t = 3)]
    secret: u32,
    /// Parallel GET /api/public requests (0..=10000).
    #[arg(long, default_value_t = 3)]
    public: u32,
    /// Add a secret request whose 401 lands after the first refresh ended.
    #[arg(long)]
    late: bool,
    /// Server latency of /api/secret, ms.
    #[arg(long, default_value_t = Latency::default().secret)]
    latency_secret: u64,
    /// Server latency of /api/public, ms.
    #[arg(long, default_value_t = Latency::default().public)]
    latency_public: u64,
    /// Server latency of /api/refresh, ms.
    #[arg(long, default_value_t = Latency::default().refresh)]
    latency_refresh: u64,
    /// Up to this much extra latency per lane and route, drawn from --seed.
    #[arg(long, default_value_t = 0)]
    jitter: u64,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Slow motion: 0.1 runs ten times slower (0.05..=10).
    #[arg(long, default_value_t = 1.0)]
    speed: f64,
    /// Access token lifetime, seconds.
    #[arg(long, default_value_t = 5)]
    ttl: u64,
    /// Refresh window after expiry, seconds.
    #[arg(long, default_value_t = 10)]
    window: u64,
    /// Grace window of the `grace` policy, seconds (0..=60).
    #[arg(long, default_value_t = 30)]
    grace: u64,
    /// How the tabs coordinate: none | lock (a cross-tab lock and a re-read
    /// of the stored token after taking it).
    #[arg(long, default_value = "none")]
    cross_tab: CrossTab,
    /// A preset's window, seconds: Auth0/Okta leeway, Hydra
    /// rotation_grace_period, Supabase REFRESH_TOKEN_REUSE_INTERVAL, Cognito
    /// RetryGracePeriodSeconds (default: the server's).
    #[arg(long, value_name = "SECONDS")]
    overlap: Option<u64>,
    /// A preset's reuse count: Keycloak refreshTokenMaxReuse, Hydra
    /// rotation_grace_reuse_count (default: the server's).
    #[arg(long, value_name = "N")]
    reuse_count: Option<u32>,
    /// Whether a preset rotates: Keycloak revokeRefreshToken, Spring
    /// !reuseRefreshTokens, Cognito RefreshTokenRotation (default: the
    /// server's, off for all three).
    #[arg(long, value_name = "true|false")]
    rotate: Option<bool>,
}

/// A tab's lifecycle in a run: the laptop's sleep, clock skews, closed and
/// frozen tabs, client instances per tab.
#[derive(clap::Args)]
struct LifeFlags {
    /// The laptop sleeps this many ms after the burst (network time); with
    /// --sleep-s.
    #[arg(
        long,
        value_name = "MS",
        requires = "sleep_s",
        conflicts_with = "sleep_after"
    )]
    sleep_at: Option<u64>,
    /// ... or at a point of the run: a number of deliveries or a leg.
    #[arg(long, value_name = "POINT", requires = "sleep_s")]
    sleep_after: Option<Point>,
    /// How long it sleeps, seconds (1..=2592000: 30 days); then every tab wakes.
    #[arg(long, value_name = "N")]
    sleep_s: Option<u64>,
    /// A tab's clock skew, TAB=SECONDS (repeatable; ±86400): its own "now"
    /// for the proactive timer.
    #[arg(long, value_name = "TAB=SECONDS", value_parser = parse_skew)]
    skew: Vec<(String, i64)>,
    /// Close a tab at a point, TAB@LEG or TAB@DELIVERIES (repeatable): its
    /// requests in flight are abandoned, its locks released.
    #[arg(long, value_name = "TAB@POINT")]
    close: Vec<TabAt>,
    /// Freeze a tab at a point, TAB@LEG or TAB@DELIVERIES (repeatable):
    /// nothing of it moves again, its locks stay held.
    #[arg(long, value_name = "TAB@POINT")]
    freeze: Vec<TabAt>,
    /// Client instances per tab (1..=8; React StrictMode starts two).
    #[arg(long, default_value_t = 1)]
    instances: u32,
}

impl LifeFlags {
    fn apply(self, settings: RunSettings) -> Result<RunSettings, String> {
        let sleep = match (self.sleep_at, self.sleep_after, self.sleep_s) {
            (None, None, None) => None,
            (at_ms, after, Some(seconds)) if at_ms.is_some() || after.is_some() => Some(Sleep {
                at_ms,
                after,
                seconds,
            }),
            _ => return Err("--sleep-s needs --sleep-at MS or --sleep-after POINT".into()),
        };
        Ok(RunSettings {
            sleep,
            skew: self.skew.into_iter().collect(),
            close: self.close,
            freeze: self.freeze,
            instances: self.instances,
            ..settings
        })
    }
}

/// `2=-90` → ("2", -90).
fn parse_skew(text: &str) -> Result<(String, i64), String> {
    let (tab, seconds) = text
        .split_once('=')
        .ok_or_else(|| format!("'{text}' is not TAB=SECONDS (e.g. 2=-90)"))?;
    let seconds = seconds
        .trim()
        .parse::<i64>()
        .map_err(|_| format!("'{seconds}' is not a number of seconds"))?;
    Ok((tab.trim().to_owned(), seconds))
}

impl Knobs {
    fn settings(&self, case: Case, strategy: Strategy, policy: Policy) -> RunSettings {
        RunSettings {
            case,
            strategy,
            policy,
            secret: self.secret,
            public: self.public,
            late: self.late,
            latency_ms: Latency {
                secret: self.latency_secret,
                public: self.latency_public,
                refresh: self.latency_refresh,
                login: 0,
            },
            jitter_ms: self.jitter,
            seed: self.seed,
            speed: self.speed,
            access_ttl_s: self.ttl,
            refresh_window_s: self.window,
            grace_s: self.grace,
            cross_tab: self.cross_tab,
            overlap_s: self.overlap,
            reuse_count: self.reuse_count,
            rotate: self.rotate,
            ..RunSettings::default()
        }
    }
}

/// A run whose settings were checked first: bad ones exit 2, a failed run 1.
async fn run_checked(settings: &RunSettings) -> Result<RunReport, ExitCode> {
    if let Err(err) = settings.validate() {
        return Err(fail(2, &err.to_string()));
    }
    scenario::run(settings)
        .await
        .map_err(|err| fail(1, &err.to_string()))
}

/// `matrix --reference`: for each setup of [`render::REFERENCE_SETUPS`],
/// case 3 stepped in due order under every client and policy.
async fn reference_matrix(knobs: &Knobs, policies: &[Policy]) -> ExitCode {
    let mut sections = Vec::new();
    for setup in render::REFERENCE_SETUPS {
        let mut rows = Vec::new();
        for &strategy in Strategy::ALL {
            for &policy in policies {
                let settings = RunSettings {
                    network: NetworkDriver::Step,
                    ..setup.apply(knobs.settings(Case::ExpiredRefreshable, strategy, policy))
                };
                match run_checked(&settings).await {
                    Ok(report) => rows.push(report),
                    Err(code) => return code,
                }
            }
        }
        sections.push((setup, rows));
    }
    print!("{}", render::reference(&sections, policies));
    ExitCode::SUCCESS
}

/// Parses the arguments and runs the command.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // Explore drops thousands of runs mid-flight on purpose: their clients'
    // "no answer" warnings would bury the result (RUST_LOG still shows them).
    let default_filter = match &cli.command {
        Command::Explore { .. } => "refresh_race=info,refresh_race::client=error",
        _ => "refresh_race=info",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| default_filter.into()),
        )
        .with_writer(std::io::stderr)
        .init();
    // Explore plays one run at a time, each a chain of hand-offs between
    // its server and its clients: on one thread they cost no cross-thread
    // wake-ups (about twice as fast on 2 cores; BENCHMARKS.md, "Explore").
    let runtime = match &cli.command {
        Command::Explore { .. } => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build(),
        _ => tokio::runtime::Runtime::new(),
    };
    let runtime = match runtime {
        Ok(runtime) => runtime,
        Err(err) => return fail(1, &format!("cannot start the async runtime: {err}")),
    };
    runtime.block_on(execute(cli.command))
}

fn fail(code: u8, message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(code)
}

async fn execute(command: Command) -> ExitCode {
    match command {
        Command::Run {
            knobs,
            case,
            strategy,
            tabs,
            mode,
            policy,
            network,
            deliver,
            lose,
            life,
            narrate,
            json,
            save,
            export,
            out,
            link,
        } => {
            let settings = match link {
                Some(url) => match link_settings(&url) {
                    Ok(settings) => settings,
                    Err(code) => return code,
                },
                None => match life.apply(RunSettings {
                    network,
                    deliver,
                    drop: lose,
                    tabs,
                    mode,
                    ..knobs.settings(case, strategy, policy)
                }) {
                    Ok(settings) => settings,
                    Err(message) => return fail(2, &message),
                },
            };
            if let Err(err) = settings.validate() {
                return fail(2, &err.to_string());
            }
            if export.is_some() && out.is_none() && json {
                return fail(
                    2,
                    "--json and --export both write to stdout: give --export an --out FILE",
                );
            }
            let report = match scenario::run(&settings).await {
                Ok(report) => report,
                Err(err) => return fail(1, &err.to_string()),
            };
            if let Some(path) = save {
                let bytes = export::json::json(&report);
                if let Err(err) = crate::save::write_atomically(&path, &bytes) {
                    return fail(1, &format!("cannot save {}: {err}", path.display()));
                }
            }
            if let Some(format) = export {
                let written = write_export(&report, format, out.as_deref());
                if out.is_none() || written != ExitCode::SUCCESS {
                    return written;
                }
            }
            if json {
                print_json(&report)
            } else if narrate {
                print!("{}", render::narration(&report));
                ExitCode::SUCCESS
            } else {
                print!("{}", render::report(&report));
                ExitCode::SUCCESS
            }
        }
        Command::Link { setup, base } => {
            let settings = setup.settings();
            if let Err(err) = settings.validate() {
                return fail(2, &err.to_string());
            }
            let link = crate::link::Link {
                settings,
                source: None,
            };
            let base = base.split('#').next().unwrap_or_default();
            println!("{base}{}", crate::link::encode(&link));
            ExitCode::SUCCESS
        }
        Command::Matrix {
            knobs,
            policies,
            tabs,
            modes,
            reference,
        } => {
            let policies = if policies.is_empty() {
                Policy::ALL.to_vec()
            } else {
                policies
            };
            if reference {
                return reference_matrix(&knobs, &policies).await;
            }
            let mut rows = Vec::new();
            for &mode in &modes {
                for &tabs in &tabs {
                    for &policy in &policies {
                        for &case in Case::ALL {
                            for &strategy in Strategy::ALL {
                                let settings = RunSettings {
                                    tabs,
                                    mode,
                                    ..knobs.settings(case, strategy, policy)
                                };
                                match run_checked(&settings).await {
                                    Ok(report) => rows.push(report),
                                    Err(code) => return code,
                                }
                            }
                        }
                    }
                }
            }
            print!("{}", render::matrix(&rows));
            ExitCode::SUCCESS
        }
        Command::Explore {
            knobs,
            case,
            strategy,
            tabs,
            mode,
            policy,
            deliver,
            json,
            out,
            budget_orders,
            budget_s,
            save_failing,
        } => {
            let settings = RunSettings {
                network: NetworkDriver::Hand,
                deliver,
                tabs,
                mode,
                ..knobs.settings(case, strategy, policy)
            };
            let options = crate::explore::Options {
                budget_orders,
                budget: budget_s.map(std::time::Duration::from_secs),
                ..Default::default()
            };
            explore(&settings, &options, json, out, save_failing).await
        }
        Command::Export {
            format,
            report,
            out,
        } => {
            let bytes = if report.as_os_str() == "-" {
                let mut bytes = Vec::new();
                std::io::Read::read_to_end(&mut std::io::stdin(), &mut bytes).map(|_| bytes)
            } else {
                std::fs::read(&report)
            };
            let bytes = match bytes {
                Ok(bytes) => bytes,
                Err(err) => return fail(2, &format!("cannot read {}: {err}", report.display())),
            };
            match export::parse_report(&bytes) {
                Ok(parsed) => write_export(&parsed, format, out.as_deref()),
                Err(err) => fail(2, &format!("{}: {err}", report.display())),
            }
        }
        Command::Schema { out } => {
            for (name, schema) in crate::protocol::schema::schemas() {
                let path = out.join(name);
                let text = crate::protocol::schema::schema_text(&schema);
                if let Err(err) = crate::save::write_atomically(&path, text.as_bytes()) {
                    return fail(1, &format!("cannot write {}: {err}", path.display()));
                }
                println!("wrote {}", path.display());
            }
            ExitCode::SUCCESS
        }
        Command::Serve {
            host,
            port,
            ui_dir,
            no_record,
            policy,
            ttl,
            window,
            mode,
            classroom,
            room_host,
            room_port,
        } => {
            let room = classroom.then_some((room_host, room_port));
            let api = RunSettings {
                policy,
                access_ttl_s: ttl,
                refresh_window_s: window,
                mode,
                ..crate::web::long_lived_api_settings()
            };
            if let Err(err) = api.validate() {
                return fail(2, &err.to_string());
            }
            serve(&host, port, ui_dir, &api, no_record, room).await
        }
    }
}

/// Exports `report` to `out` (atomically) or to stdout. A PNG is not sent
/// to a terminal.
fn write_export(
    report: &RunReport,
    format: ExportFormat,
    out: Option<&std::path::Path>,
) -> ExitCode {
    use std::io::IsTerminal;
    if out.is_none() && format.is_binary() && std::io::stdout().is_terminal() {
        return fail(
            2,
            &format!("{format} is binary: give --out FILE or redirect stdout"),
        );
    }
    let bytes = match export::export(report, format) {
        Ok(bytes) => bytes,
        Err(err) => return fail(1, &err.to_string()),
    };
    match out {
        Some(path) => match crate::save::write_atomically(path, &bytes) {
            Ok(()) => {
                eprintln!("wrote {} ({format}, {} bytes)", path.display(), bytes.len());
                ExitCode::SUCCESS
            }
            Err(err) => fail(1, &format!("cannot write {}: {err}", path.display())),
        },
        None => {
            let mut stdout = std::io::stdout().lock();
            match stdout.write_all(&bytes).and_then(|()| stdout.flush()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(err) => fail(1, &format!("cannot write to stdout: {err}")),
            }
        }
    }
}

fn print_json(report: &RunReport) -> ExitCode {
    match serde_json::to_string_pretty(report) {
        Ok(text) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Err(err) => fail(1, &format!("cannot encode the report: {err}")),
    }
}

async fn serve(
    host: &str,
    port: u16,
    ui_dir: Option<PathBuf>,
    api: &RunSettings,
    no_record: bool,
    room: Option<(Option<std::net::IpAddr>, u16)>,
) -> ExitCode {
    let ui = crate::ui_files::UiFiles::choose(ui_dir);
    if let crate::ui_files::UiFiles::Dir(dir) = &ui {
        if !dir.join("index.html").is_file() {
            return fail(
                2,
                &format!("no index.html in the UI directory {}", dir.display()),
            );
        }
    }
    // Before anything opens a file: a room of browsers needs more than the
    // common soft limit of 1,024.
    crate::server::listen::raise_open_file_limit();
    let listener = match tokio::net::TcpListener::bind((host, port)).await {
        Ok(listener) => listener,
        Err(err) => return fail(2, &format!("cannot bind {host}:{port}: {err}")),
    };
    let addr = match listener.local_addr() {
        Ok(addr) => addr,
        Err(err) => return fail(1, &err.to_string()),
    };
    if !addr.ip().is_loopback() {
        tracing::warn!("the lab is reachable from other machines on {addr}");
    }
    println!("listening on http://{addr}");
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let recorder = if no_record {
        Recorder::disabled()
    } else {
        Recorder::bounded(crate::web::SERVE_RECORDER_CAPACITY)
    };
    let lab = crate::web::Lab::new(ui, api, recorder);
    if let Some((room_host, room_port)) = room {
        let host = match room_host.map_or_else(crate::web::room_address, Ok) {
            Ok(host) => host,
            Err(err) => return fail(2, &err),
        };
        match lab
            .open_room(std::net::SocketAddr::new(host, room_port))
            .await
        {
            Ok(info) => {
                println!("classroom open: attendees join at {}", info.join_url);
                println!(
                    "(code {}; the roster is at http://{addr}/lab/classroom)",
                    info.code
                );
            }
            Err(err) => return fail(2, &format!("cannot open the classroom on {host}: {err}")),
        }
    }
    let _ = std::io::stdout().flush();
    let router = lab.instructor_router();
    match crate::web::serve_router(listener, router, shutdown).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => fail(1, &err.to_string()),
    }
}

/// `explore`: counts every order; bad or too large setups exit 2, a run
/// that fails 1.
async fn explore(
    settings: &RunSettings,
    options: &crate::explore::Options,
    json: bool,
    out: Option<PathBuf>,
    save_failing: Option<PathBuf>,
) -> ExitCode {
    use crate::explore::ExploreError;
    let exploration = match crate::explore::explore(settings, options).await {
        Ok(exploration) => exploration,
        Err(err @ (ExploreError::Settings(_) | ExploreError::Refused(_))) => {
            return fail(2, &err.to_string())
        }
        Err(err) => return fail(1, &err.to_string()),
    };
    if let Some(dir) = save_failing {
        match crate::explore::save_failing(&exploration, &dir).await {
            Ok(paths) => {
                for path in paths {
                    eprintln!("wrote {}", path.display());
                }
            }
            Err(err) => return fail(1, &err),
        }
    }
    let text = match serde_json::to_string_pretty(&exploration) {
        Ok(text) => text + "\n",
        Err(err) => return fail(1, &format!("cannot encode the result: {err}")),
    };
    if let Some(path) = &out {
        if let Err(err) = crate::save::write_atomically(path, text.as_bytes()) {
            return fail(1, &format!("cannot write {}: {err}", path.display()));
        }
        eprintln!("wrote {}", path.display());
    }
    if json && out.is_none() {
        print!("{text}");
    } else if !json {
        print!("{}", crate::explore::render(&exploration));
    }
    ExitCode::SUCCESS
}
