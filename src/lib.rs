//! Refresh Race: a lab that shows the JWT refresh race and its fixes.
//!
//! A single-page app fires several requests with an expired token; each gets
//! a 401 and refreshes on its own; the server rotates, so all refreshes but
//! the first are rejected. This crate reproduces that for real — a real auth
//! server, real HTTP clients — and records what happened as a timeline.
//!
//! # Layout
//!
//! Layers, from the bottom up; a module uses only the ones below it (or
//! beside it in its own directory), and `tests/it/layers.rs` fails on any
//! import cycle between files.
//!
//! 1. The words: [`protocol`]'s vocabulary (`protocol::vocab`, re-exported
//!    as `protocol::*`) — lanes, routes, refusal reasons, revocation causes,
//!    leg names, the lab's headers and the limits on them. It names nothing
//!    else of the crate.
//! 2. What a run is told and keeps: [`settings`] (case, strategy, policy,
//!    counts, latency, speed, the limits the engine enforces), with the
//!    server rules they choose (`settings::policy`, the generic mechanisms;
//!    `settings::presets`, the real servers' rules, one table); [`clock`],
//!    the lab clock token expiry is checked against; [`timeline`], the event
//!    model and recorder every view reads; [`verdict`], counts and the
//!    one-sentence verdict; [`narrate`], one plain sentence per event;
//!    [`challenge`], goals a learner reaches, checked from a run's settings,
//!    events and verdict.
//! 3. The moving parts: [`motion`], which knows when a held run has settled;
//!    [`network`], every exchange's request and response legs, delivered by
//!    a timer, step by step, or by hand; `protocol::views`, the held run as a
//!    viewer sees it; [`server`], the embedded axum auth server — tokens,
//!    the revocation store, the error type that becomes every failed
//!    response, the doors every lab server keeps locked (foreign `Host`s,
//!    cross-site state changes) and the accept loop with its limits
//!    (docs/server-limits.md); [`client`], a simulated browser — one token
//!    store shared by its tabs, each tab with its own 401 strategy (one file
//!    each, listed in one table); [`page`], the lab's side of a tab that
//!    runs in the page; `protocol::wire`, the messages of a streamed run and
//!    of the page's reports.
//! 4. A run: [`scenario`] runs one case end to end against a fresh server;
//!    [`explore`] counts every order in which a held run's legs can be
//!    delivered, by outcome; `protocol::schema`, the JSON Schemas generated
//!    from the wire and the report.
//! 5. What is made of runs: [`render`], the CLI's text timeline and the
//!    matrix table; [`export`], a finished run as HAR, Chrome trace,
//!    Mermaid, SVG, PNG or JSON; [`link`], a run as a versioned, compressed,
//!    bounded URL fragment; [`save`], atomic file writes.
//! 6. The fronts: [`runs`], live runs on the lab's port (the NDJSON stream
//!    and the network commands); [`classroom`], the lab opened to a
//!    workshop room; `classroom::room`, the room as one (the instructor pushes a
//!    setup or a lesson step to every seat and reads the room's results
//!    live); [`ui_files`], the UI compiled into the binary; [`web`],
//!    the lab's HTTP front, used by `refresh-race serve` and the desktop
//!    shell; [`cli`], the command line.

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
