//! `naive`: every 401 refreshes on its own, with the token it was sent with.
//! This is the interceptor most apps start with, and the one that races.

use std::sync::Arc;

use futures::future::BoxFuture;

use super::{Interceptor, Tab, Token};
use crate::motion::Motion;
use crate::protocol::views::StateRow;
use crate::protocol::Lane;

pub struct Naive;

/// A naive tab keeps nothing.
pub fn make(_motion: &Arc<Motion>) -> Box<dyn Interceptor> {
    Box::new(Naive)
}

impl Interceptor for Naive {
    fn handle_401<'a>(&'a self, tab: &'a Tab, lane: Lane, used: Token) -> BoxFuture<'a, Option<Token>> {
        Box::pin(async move { tab.refresh_and_store(lane, &used).await.ok() })
    }

    fn rows(&self) -> Vec<StateRow> {
        vec![StateRow::new("memory", "none", "each 401 refreshes alone")]
    }
}
