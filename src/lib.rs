//! Refresh Race: a lab that shows the JWT refresh race and its fixes.
//!
//! A single-page app fires several requests with an expired token; each gets
//! a 401 and refreshes on its own; the server rotates, so all refreshes but
//! the first are rejected. This crate reproduces that for real — a real auth
//! server, real HTTP clients — and records what happened as a timeline.
//!
//! # Layout
//!
//! - [`settings`]: what a run can be told (case, strategy, policy, counts,
//!   latency, speed) and the limits the engine enforces.
//! - [`clock`]: the lab clock that token expiry is checked against, so a run
//!   can jump past `exp` without waiting.
//! - [`network`]: the lab's network — every exchange's request and response
//!   legs, delivered by a timer, step by step, or by hand — and [`motion`],
//!   which knows when a held run has settled so deliveries replay exactly.
//! - [`server`]: the embedded axum auth server — tokens (and OAuth refresh
//!   tokens), the revocation store and its rules, the real servers' presets,
//!   the error type that becomes every failed response, and
//!   the accept loop with the limits every lab server enforces
//!   (docs/server-limits.md).
//! - [`client`]: a simulated browser — one token store shared by its tabs,
//!   each tab with its own 401 strategy (`naive`, `queue`, `single-flight`,
//!   `proactive`, `mutex`).
//! - [`scenario`]: runs one case end to end against a fresh server.
//! - [`page`]: the lab's side of a tab that runs in the page (the browser
//!   runtime): its requests reach the run's server through the lab's port,
//!   and its sends and answers are recorded at that edge.
//! - [`protocol`]: the shared words — lanes, routes, refusal reasons,
//!   revocation causes — and the messages of a streamed run, with the JSON
//!   Schema generated from them.
//! - [`timeline`]: the event model and recorder every view reads.
//! - [`verdict`]: counts and the one-sentence verdict from the events.
//! - [`narrate`]: one plain sentence per event, for captions, the CLI and
//!   exports.
//! - [`explore`]: every order in which a held run's legs can be delivered,
//!   counted by outcome through the run's abstract states, with each
//!   outcome's shortest order and point of no return.
//! - [`challenge`]: goals a learner reaches by playing the network, checked
//!   from a run's report.
//! - [`link`]: a run as a link — its settings, a hand order and the
//!   learner's module in a versioned, compressed, bounded URL fragment.
//! - [`render`]: the CLI's text timeline and the matrix table.
//! - [`save`]: atomic file writes for saved runs.
//! - [`runs`]: live runs on the lab's port — the NDJSON stream and the
//!   network commands (pause, step, deliver) while a run lives.
//! - [`classroom`]: the lab opened to a workshop room — a join code, a seat
//!   per attendee with its own API and clock, limits per attendee and room.
//! - [`doors`]: what every lab server refuses — foreign `Host`s, cross-site
//!   state changes, bodies that are not JSON.
//! - [`export`]: a finished run as HAR, Chrome trace, Mermaid, SVG, PNG or
//!   JSON (one file per format), for `refresh-race export`, `run --export`
//!   and `POST /lab/export/{format}`.
//! - [`ui_files`]: the UI compiled into the binary (a directory can
//!   replace it while developing).
//! - [`web`]: the lab's HTTP front (UI files, the auth API, streamed runs),
//!   used by `refresh-race serve` and by the desktop shell.

pub mod challenge;
pub mod classroom;
pub mod cli;
pub mod client;
pub mod clock;
pub mod explore;
pub mod export;
pub mod link;
pub mod motion;
pub mod narrate;
pub mod network;
pub mod page;
pub mod protocol;
pub mod render;
pub mod runs;
pub mod save;
pub mod scenario;
pub mod server;
pub mod settings;
pub mod timeline;
pub mod ui_files;
pub mod verdict;
pub mod web;
