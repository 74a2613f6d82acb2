//! `naive`: every 401 refreshes on its own, with the token it was sent with.
//! This is the interceptor most apps start with, and the one that races.

use super::{Tab, Token};
use crate::protocol::Lane;

pub struct Naive;

impl Naive {
    pub async fn handle_401(&self, tab: &Tab, lane: Lane, used: Token) -> Option<Token> {
        tab.refresh_and_store(lane, &used).await.ok()
    }
}
