//! The revocation store: which tokens were rotated or revoked, and the one
//! decision that must be atomic — may this token be refreshed now?
//!
//! Under every policy but `non-atomic` the check and the mark happen under
//! one lock, so of K concurrent refreshes of one token exactly the policy's
//! number win. `non-atomic` splits them on purpose to show the bug.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use crate::protocol::Reason;
use crate::settings::Policy;

/// The outcome of asking to refresh one token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshDecision {
    /// Go ahead; `rotate` says whether the old token is now spent.
    Allow { rotate: bool },
    /// Refused with a reason for the client; `family_revoked` lists every
    /// token that this refusal just killed (reuse detection).
    Refuse {
        reason: Reason,
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
    /// jti → (family, lab ms from which it is useless: refresh window over).
    lapses_at: HashMap<String, (String, u64)>,
    registered_since_sweep: usize,
}

/// How many registrations between two sweeps of lapsed tokens: sweeping is
/// O(tokens), so doing it this rarely keeps its cost per token tiny.
const SWEEP_EVERY: usize = 4096;

/// Shared by all handlers of one server.
pub struct RevocationStore {
    policy: Policy,
    grace_ms: u64,
    ledger: Mutex<Ledger>,
}

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

    /// Remembers a newly issued token as a member of its family, until lab
    /// time `lapses_at_ms` (exp + refresh window), after which it can neither
    /// be used nor refreshed and the store forgets it: a long-lived server's
    /// memory stays proportional to the tokens still alive.
    ///
    /// Returns true when the family was already revoked: a refresh that won
    /// just before a reuse killed its family issues a token born dead, and
    /// only the issuer can report that (the reuse listed the family before
    /// this token was in it).
    pub fn register(&self, jti: &str, fam: &str, lapses_at_ms: u64, now_ms: u64) -> bool {
        let mut ledger = self.ledger();
        ledger
            .members
            .entry(fam.to_owned())
            .or_default()
            .push(jti.to_owned());
        ledger
            .lapses_at
            .insert(jti.to_owned(), (fam.to_owned(), lapses_at_ms));
        ledger.registered_since_sweep += 1;
        if ledger.registered_since_sweep >= SWEEP_EVERY {
            ledger.registered_since_sweep = 0;
            ledger.forget_lapsed(now_ms);
        }
        ledger.dead_families.contains(fam)
    }

    /// How many tokens the store remembers (for tests and benchmarks).
    pub fn remembered(&self) -> usize {
        self.ledger().lapses_at.len()
    }

    /// May this token still be used for access? Returns the refusal reason.
    pub fn access_refusal(&self, jti: &str, fam: &str) -> Option<Reason> {
        let ledger = self.ledger();
        let spent = ledger.rotated_at.contains_key(jti);
        (spent || ledger.dead_families.contains(fam)).then_some(Reason::Revoked)
    }

    /// The atomic check-and-revoke of one refresh, at lab time `now_ms`.
    /// `gap` is what the non-atomic store waits for between its check and
    /// its revoke (the network's commit leg); the others never call it.
    pub async fn decide_refresh<F: std::future::Future<Output = ()>>(
        &self,
        jti: &str,
        fam: &str,
        now_ms: u64,
        gap: impl FnOnce() -> F,
    ) -> RefreshDecision {
        if self.policy == Policy::NonAtomic {
            return self.decide_refresh_non_atomic(jti, fam, now_ms, gap).await;
        }
        let mut ledger = self.ledger();
        if ledger.dead_families.contains(fam) {
            return refuse(Reason::Revoked);
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
                    reason: Reason::Reused,
                    family_revoked,
                }
            }
            (Policy::Strict | Policy::NonAtomic, Some(_)) => refuse(Reason::Reused),
        }
    }

    /// The bug on purpose: read, wait, then write.
    async fn decide_refresh_non_atomic<F: std::future::Future<Output = ()>>(
        &self,
        jti: &str,
        fam: &str,
        now_ms: u64,
        gap: impl FnOnce() -> F,
    ) -> RefreshDecision {
        let already_spent = {
            let ledger = self.ledger();
            if ledger.dead_families.contains(fam) {
                return refuse(Reason::Revoked);
            }
            ledger.rotated_at.contains_key(jti)
        };
        if already_spent {
            return refuse(Reason::Reused);
        }
        gap().await;
        self.ledger().rotated_at.insert(jti.to_owned(), now_ms);
        RefreshDecision::Allow { rotate: true }
    }
}

impl Ledger {
    fn forget_lapsed(&mut self, now_ms: u64) {
        let lapsed: Vec<(String, String)> = self
            .lapses_at
            .iter()
            .filter(|(_, (_, at))| *at <= now_ms)
            .map(|(jti, (fam, _))| (jti.clone(), fam.clone()))
            .collect();
        for (jti, fam) in lapsed {
            self.lapses_at.remove(&jti);
            self.rotated_at.remove(&jti);
            if let Some(members) = self.members.get_mut(&fam) {
                members.retain(|member| *member != jti);
                if members.is_empty() {
                    self.members.remove(&fam);
                    self.dead_families.remove(&fam);
                }
            }
        }
    }
}

fn refuse(reason: Reason) -> RefreshDecision {
    RefreshDecision::Refuse {
        reason,
        family_revoked: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn no_gap() {}

    #[tokio::test]
    async fn a_token_registered_into_a_dead_family_is_born_dead() {
        let store = RevocationStore::new(Policy::Family, 30);
        assert!(!store.register("t1", "f1", u64::MAX, 0));
        store.decide_refresh("t1", "f1", 0, no_gap).await;
        // The reuse lands between the winner's decision and its new token.
        store.decide_refresh("t1", "f1", 1, no_gap).await;
        assert!(store.register("t2", "f1", u64::MAX, 2));
        assert_eq!(store.access_refusal("t2", "f1"), Some(Reason::Revoked));
    }

    #[tokio::test]
    async fn lapsed_tokens_are_forgotten() {
        let store = RevocationStore::new(Policy::Family, 30);
        for n in 0..SWEEP_EVERY * 2 {
            store.register(&format!("t{n}"), &format!("f{n}"), 1_000, 0);
        }
        assert_eq!(store.remembered(), SWEEP_EVERY * 2);
        store.register("fresh", "g", 100_000, 2_000);
        store.register("fresh2", "g", 100_000, 2_000);
        for n in 0..SWEEP_EVERY - 2 {
            store.register(&format!("u{n}"), "h", 100_000, 2_000);
        }
        // The sweep ran at 2,000 ms: only the still-alive tokens remain.
        assert_eq!(store.remembered(), SWEEP_EVERY);
    }

    #[tokio::test]
    async fn strict_allows_once_then_refuses_reuse() {
        let store = RevocationStore::new(Policy::Strict, 30);
        store.register("t1", "f1", u64::MAX, 0);
        assert_eq!(
            store.decide_refresh("t1", "f1", 0, no_gap).await,
            RefreshDecision::Allow { rotate: true }
        );
        assert_eq!(
            store.decide_refresh("t1", "f1", 1, no_gap).await,
            refuse(Reason::Reused)
        );
        assert_eq!(store.access_refusal("t1", "f1"), Some(Reason::Revoked));
    }

    #[tokio::test]
    async fn grace_allows_reuse_inside_the_window_only() {
        let store = RevocationStore::new(Policy::Grace, 30);
        store.register("t1", "f1", u64::MAX, 0);
        store.register("t2", "f1", u64::MAX, 0);
        store.decide_refresh("t1", "f1", 1_000, no_gap).await;
        assert_eq!(
            store.decide_refresh("t1", "f1", 30_999, no_gap).await,
            RefreshDecision::Allow { rotate: false }
        );
        assert_eq!(
            store.decide_refresh("t1", "f1", 31_000, no_gap).await,
            RefreshDecision::Refuse {
                reason: Reason::Reused,
                family_revoked: vec!["t1".into(), "t2".into()]
            }
        );
        assert_eq!(store.access_refusal("t2", "f1"), Some(Reason::Revoked));
    }
}
