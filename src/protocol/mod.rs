//! The protocol in layers: the words ([`vocab`]), what a viewer sees of a
//! held run ([`views`]), the messages of a streamed run ([`wire`]) and the
//! JSON Schemas generated from them ([`schema`]).
//!
//! Only the vocabulary is re-exported here (`crate::protocol::Lane`): it
//! names nothing else of the crate, so any module may use it. The views and
//! the wire name settings, events and verdicts; they are reached by their
//! own paths so that using a word never pulls them in.

pub mod schema;
pub mod views;
pub mod vocab;
pub mod wire;

pub use vocab::*;
