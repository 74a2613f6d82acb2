//! Every integration test of the `refresh-race` crate, in one binary: one
//! compile and one link instead of thirty (the cold suite is CPU-bound on two
//! cores). Each module is what used to be its own `tests/*.rs`; run one with
//! `cargo test --test it hardening::`.

mod common;

mod cases;
mod classroom;
mod cli;
mod doors;
mod explore;
mod explore_page;
mod explore_room;
mod export;
mod fixtures;
mod hardening;
mod late_check;
mod layers;
mod lifecycle;
mod link;
mod lost;
mod mutex;
mod names;
mod network;
mod oauth;
mod page;
mod policies;
mod presets;
mod proactive;
mod room;
mod room_doors;
mod schema;
mod server_api;
mod tabs;
mod version;
mod web;
