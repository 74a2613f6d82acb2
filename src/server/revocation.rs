//! The revocation store: which tokens were rotated or revoked, and the one
//! decision that must be atomic — may this token be refreshed now?
//!
//! Under every policy but `non-atomic` the check and the mark happen under
//! one lock, so of K concurrent refreshes of one token exactly the policy's
//! number win. `non-atomic` splits them on purpose to show the bug.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::Duration;

use crate::settings::Policy;

/// The outcome of asking to refresh one token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshDecision {
    /// Go ahead; `rotate` says whether the old token is now spent.
    Allow { rotate: bool },
    /// Refused with a reason for the client; `family_revoked` lists every
    /// token that this refusal just killed (reuse detection).
    Refuse {
        reason: &'static str,
        family_revoked: Vec<String>,
    },
}

#[derive(Debug, Default)]
struct Ledger {
    /// jti → lab ms when it was rotated (spent).
    rotated_at: HashMap<String, u64>,
    /// Families killed by reuse detection.
    dead_families: HashSet<String>,
    /// Family → every jti issued in it, to revoke them all at once.
    members: HashMap<String, Vec<String>>,
}

/// Shared by all handlers of one server.
pub struct RevocationStore {
    policy: Policy,
    grace_ms: u64,
    ledger: Mutex<Ledger>,
}

/// How long the deliberately buggy store waits between check and mark:
/// a stand-in for the database round trip that real servers have there.
const NON_ATOMIC_GAP: Duration = Duration::from_millis(5);

impl RevocationStore {
    pub fn new(policy: Policy, grace_s: u64) -> Self {
        RevocationStore {
            policy,
            grace_ms: grace_s * 1000,
            ledger: Mutex::new(Ledger::default()),
        }
    }

    pub fn policy(&self) -> Policy {
        self.policy
    }

    fn ledger(&self) -> std::sync::MutexGuard<'_, Ledger> {
        // Every mutation is a single insert, so a poisoned ledger is consistent.
        self.ledger.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Remembers a newly issued token as a member of its family.
    pub fn register(&self, jti: &str, fam: &str) {
        self.ledger()
            .members
            .entry(fam.to_owned())
            .or_default()
            .push(jti.to_owned());
    }

    /// May this token still be used for access? Returns the refusal reason.
    pub fn access_refusal(&self, jti: &str, fam: &str) -> Option<&'static str> {
        let ledger = self.ledger();
        let spent = ledger.rotated_at.contains_key(jti);
        (spent || ledger.dead_families.contains(fam)).then_some("revoked")
    }

    /// The atomic check-and-revoke of one refresh, at lab time `now_ms`.
    pub async fn decide_refresh(&self, jti: &str, fam: &str, now_ms: u64) -> RefreshDecision {
        if self.policy == Policy::NonAtomic {
            return self.decide_refresh_non_atomic(jti, fam, now_ms).await;
        }
        let mut ledger = self.ledger();
        if ledger.dead_families.contains(fam) {
            return refuse("revoked");
        }
        let previous = ledger.rotated_at.get(jti).copied();
        match (self.policy, previous) {
            (Policy::None, _) => RefreshDecision::Allow { rotate: false },
            (_, None) => {
                ledger.rotated_at.insert(jti.to_owned(), now_ms);
                RefreshDecision::Allow { rotate: true }
            }
            (Policy::Grace, Some(at)) if now_ms.saturating_sub(at) < self.grace_ms => {
                RefreshDecision::Allow { rotate: false }
            }
            (Policy::Family | Policy::Grace, Some(_)) => {
                ledger.dead_families.insert(fam.to_owned());
                let family_revoked = ledger.members.get(fam).cloned().unwrap_or_default();
                RefreshDecision::Refuse {
                    reason: "reused",
                    family_revoked,
                }
            }
            (Policy::Strict | Policy::NonAtomic, Some(_)) => refuse("reused"),
        }
    }

    /// The bug on purpose: read, wait, then write.
    async fn decide_refresh_non_atomic(
        &self,
        jti: &str,
        fam: &str,
        now_ms: u64,
    ) -> RefreshDecision {
        let already_spent = {
            let ledger = self.ledger();
            if ledger.dead_families.contains(fam) {
                return refuse("revoked");
            }
            ledger.rotated_at.contains_key(jti)
        };
        if already_spent {
            return refuse("reused");
        }
        tokio::time::sleep(NON_ATOMIC_GAP).await;
        self.ledger().rotated_at.insert(jti.to_owned(), now_ms);
        RefreshDecision::Allow { rotate: true }
    }
}

fn refuse(reason: &'static str) -> RefreshDecision {
    RefreshDecision::Refuse {
        reason,
        family_revoked: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn strict_allows_once_then_refuses_reuse() {
        let store = RevocationStore::new(Policy::Strict, 30);
        store.register("t1", "f1");
        assert_eq!(
            store.decide_refresh("t1", "f1", 0).await,
            RefreshDecision::Allow { rotate: true }
        );
        assert_eq!(store.decide_refresh("t1", "f1", 1).await, refuse("reused"));
        assert_eq!(store.access_refusal("t1", "f1"), Some("revoked"));
    }

    #[tokio::test]
    async fn grace_allows_reuse_inside_the_window_only() {
        let store = RevocationStore::new(Policy::Grace, 30);
        store.register("t1", "f1");
        store.register("t2", "f1");
        store.decide_refresh("t1", "f1", 1_000).await;
        assert_eq!(
            store.decide_refresh("t1", "f1", 30_999).await,
            RefreshDecision::Allow { rotate: false }
        );
        assert_eq!(
            store.decide_refresh("t1", "f1", 31_000).await,
            RefreshDecision::Refuse {
                reason: "reused",
                family_revoked: vec!["t1".into(), "t2".into()]
            }
        );
        assert_eq!(store.access_refusal("t2", "f1"), Some("revoked"));
    }
}
