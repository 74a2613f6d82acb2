//! The revocation store: which tokens were rotated or revoked, and the one
//! decision that must be atomic — may this token be refreshed now?
//!
//! What the store does with a token that comes back is a [`Rule`] built
//! from a few generic mechanisms (rotation, a reuse window, a reuse count,
//! what a reuse beyond them does, Supabase's parent rule); every policy and
//! every real server's preset is one such rule (`settings::presets`).
//!
//! Under every rule but the non-atomic one the check and the mark happen
//! under one lock, so of K concurrent refreshes of one token exactly the
//! rule's number win. The non-atomic rule splits them on purpose to show
//! the bug.
//!
//! The store remembers only what a decision needs — a spent token, and under
//! `family` and `grace` which tokens each login issued — and only until the
//! token lapses (exp + refresh window: from then on it is refused anyway).
//! Every entry also goes on a queue in order of lapse time, so forgetting is
//! popping the front: O(1) per token, never a scan under the lock. A full
//! store refuses to issue ([`Full`], a 503) rather than forget a revocation
//! early.
//!
//! Everything a decision reads belongs to one login, so the store is split
//! into [`SHARDS`] ledgers by family: a map that doubles rehashes a
//! sixteenth of the tokens, under a lock that a sixteenth of the logins wait
//! for.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

pub use super::error::Full;
use super::tokens::{FamilyId, TokenId};
use crate::protocol::Reason;
pub use crate::settings::policy::{Beyond, Rule};

/// The outcome of asking to refresh one token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshDecision {
    /// Go ahead; `rotate` says whether the old token is now spent.
    Allow { rotate: bool },
    /// The token was spent, but its child is unspent: hand that back
    /// (Supabase), without issuing a new refresh token.
    ReturnActive { active: TokenId },
    /// Refused with a reason for the client; `family_revoked` lists every
    /// token that this refusal just killed (reuse detection).
    Refuse {
        reason: Reason,
        family_revoked: Vec<TokenId>,
        why: Refusal,
    },
    /// The store is full: nothing was spent, try again later.
    Full(Full),
}

/// Why a refresh was refused, for the answer's description.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The token was already used (past the window or the count).
    Reused,
    /// Keycloak: neither the token last presented nor the newest issued.
    Stale,
    /// Spring: another refresh of the same token saved after this one's.
    Overwritten,
    /// The token's login was revoked earlier.
    FamilyDead,
}

#[derive(Debug, Default)]
struct Ledger {
    /// Spent tokens.
    rotated_at: HashMap<TokenId, Spent>,
    /// Login → its tokens still remembered (only under `family` and `grace`,
    /// which revoke a whole login at once).
    families: HashMap<FamilyId, Family>,
    /// Every entry above, in the order it lapses.
    lapses: VecDeque<Lapse>,
}

/// A spent token: when, how often it was reused since, and the token its
/// rotation issued (once the issuer said, and only for Supabase's rule).
#[derive(Debug, Clone, Copy)]
struct Spent {
    at_ms: u64,
    reuses: u32,
    child: Option<TokenId>,
    /// Spring: a later save replaced this token; it is unknown now.
    overwritten: bool,
}

#[derive(Debug)]
struct Family {
    /// Oldest first: a family's tokens lapse in the order they were issued.
    members: VecDeque<TokenId>,
    /// Killed by reuse detection.
    dead: bool,
    /// Keycloak's session: the credential last presented, how often it was
    /// used, and the newest one issued (login or refresh).
    current: Option<TokenId>,
    uses: u32,
    newest: Option<TokenId>,
}

impl Family {
    fn new() -> Self {
        Family {
            members: VecDeque::with_capacity(1),
            dead: false,
            current: None,
            uses: 0,
            newest: None,
        }
    }
}

#[derive(Debug)]
struct Lapse {
    /// Lab ms from which the entry is useless.
    at_ms: u64,
    entry: Entry,
}

#[derive(Debug)]
enum Entry {
    /// `rotated_at[id]`.
    Spent(TokenId),
    /// The oldest member of `families[id]`.
    Member(FamilyId),
}

/// Lapsed entries a registration (or a login's [`RevocationStore::room`]
/// check) forgets on its way: more than it adds, so a busy store keeps pace
/// without the sweeper.
const FORGET_PER_REGISTRATION: usize = 2;

/// Lapsed entries one [`RevocationStore::sweep`] call forgets under the lock:
/// a few hundred microseconds, so no request waits long behind it.
pub const SWEEP_BATCH: usize = 2048;

/// A map or queue at least this many times larger than its contents is
/// shrunk (to twice its contents), so memory comes back after a flood while
/// each shrink's O(len) rehash is paid for by the removals before it.
const SHRINK_WHEN_SPARSER_THAN: usize = 4;
/// Smaller collections are not worth shrinking.
const SHRINK_ABOVE: usize = 4096;

/// Ledgers per store.
const SHARDS: usize = 16;

/// Shared by all handlers of one server.
pub struct RevocationStore {
    rule: Rule,
    capacity: usize,
    ledgers: Box<[Mutex<Ledger>]>,
    /// Entries in all ledgers together.
    entries: AtomicUsize,
}

impl RevocationStore {
    /// A store that holds at most `capacity` entries (see [`Full`]).
    pub fn new(rule: Rule, capacity: usize) -> Self {
        RevocationStore {
            rule,
            capacity,
            ledgers: (0..SHARDS).map(|_| Mutex::default()).collect(),
            entries: AtomicUsize::new(0),
        }
    }

    pub fn rule(&self) -> Rule {
        self.rule
    }

    /// Only reuse detection revokes a whole login, so only it needs to know
    /// which tokens a login issued.
    fn tracks_families(&self) -> bool {
        self.rule.beyond == Beyond::RevokeFamily
    }

    /// Tells the store which credential the rotation of `parent` issued
    /// (lapsing at `child_lapses_at_ms`), for the rules that follow a
    /// token's child: Supabase's, Auth0's and Spring's (no-op under the
    /// others).
    pub fn set_child(
        &self,
        parent: TokenId,
        fam: FamilyId,
        child: TokenId,
        child_lapses_at_ms: u64,
    ) {
        let rule = self.rule;
        if !(rule.parent_gets_active || rule.only_previous || rule.last_write_wins) {
            return;
        }
        let mut ledger = self.ledger(fam);
        let Some(spent) = ledger.rotated_at.get_mut(&parent) else {
            return;
        };
        let earlier = spent.child.replace(child);
        // Spring saves the authorization with one refresh token: a second
        // save of the same parent's rotation overwrites the first child.
        let overwrite = earlier
            .filter(|e| rule.last_write_wins && *e != child && !ledger.rotated_at.contains_key(e));
        if let Some(earlier) = overwrite {
            let lapse = ledger.spend(earlier, 0, child_lapses_at_ms);
            if let Some(spent) = ledger.rotated_at.get_mut(&earlier) {
                spent.overwritten = true;
            }
            self.push(&mut ledger, lapse);
        }
    }

    /// Tells the store the newest credential of login `fam` (issued by its
    /// login or its latest refresh), for Keycloak's rule (no-op under the
    /// others).
    pub fn issued_credential(&self, fam: FamilyId, id: TokenId) {
        if !self.rule.stale {
            return;
        }
        let mut ledger = self.ledger(fam);
        ledger
            .families
            .entry(fam)
            .or_insert_with(Family::new)
            .newest = Some(id);
    }

    /// The ledger that holds everything about family `fam`.
    fn ledger(&self, fam: FamilyId) -> std::sync::MutexGuard<'_, Ledger> {
        self.shard(shard_of(fam))
    }

    fn shard(&self, index: usize) -> std::sync::MutexGuard<'_, Ledger> {
        // Every mutation keeps the maps and the queue consistent between
        // statements that cannot panic, so a poisoned ledger is usable.
        self.ledgers[index]
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    /// Forgets what lapsed at the front of `ledger`, at most `budget`.
    fn forget(&self, ledger: &mut Ledger, now_ms: u64, budget: usize) -> usize {
        let forgotten = ledger.forget_lapsed(now_ms, budget);
        self.entries.fetch_sub(forgotten, Ordering::Relaxed);
        forgotten
    }

    /// Queues an entry of `ledger`.
    fn push(&self, ledger: &mut Ledger, lapse: Lapse) {
        ledger.lapses.push_back(lapse);
        self.entries.fetch_add(1, Ordering::Relaxed);
    }

    /// `Ok` while the store can take another entry at lab time `now_ms`.
    /// Requests that pass together may each add one, so the store can exceed
    /// its capacity by the number of requests in flight at once. `held` is
    /// the ledger the caller has locked, if any, with its index.
    fn has_room(&self, now_ms: u64, mut held: Option<(usize, &mut Ledger)>) -> Result<(), Full> {
        if self.entries.load(Ordering::Relaxed) < self.capacity {
            return Ok(());
        }
        // Full, the rare case: forget what lapsed anywhere (the sweeper may
        // be behind), and if that is not enough, the oldest entry says when
        // there will be room.
        let mut oldest = None;
        for index in 0..SHARDS {
            let mut guard;
            let ledger = match held.as_mut() {
                Some((locked, ledger)) if *locked == index => &mut **ledger,
                _ => {
                    guard = self.shard(index);
                    &mut *guard
                }
            };
            self.forget(ledger, now_ms, SWEEP_BATCH);
            if let Some(lapse) = ledger.lapses.front() {
                oldest = Some(oldest.map_or(lapse.at_ms, |at: u64| at.min(lapse.at_ms)));
            }
        }
        if self.entries.load(Ordering::Relaxed) < self.capacity {
            return Ok(());
        }
        let oldest = oldest.unwrap_or(now_ms);
        Err(Full {
            capacity: self.capacity,
            retry_after_s: oldest.saturating_sub(now_ms).div_ceil(1000).max(1),
        })
    }

    /// `Ok` while the store can take a new login (of family `fam`) at lab
    /// time `now_ms`.
    pub fn room(&self, fam: FamilyId, now_ms: u64) -> Result<(), Full> {
        {
            let mut ledger = self.ledger(fam);
            self.forget(&mut ledger, now_ms, FORGET_PER_REGISTRATION);
        }
        self.has_room(now_ms, None)
    }

    /// Remembers a newly issued token as a member of its family until lab
    /// time `lapses_at_ms` (exp + refresh window), if the policy needs it.
    ///
    /// Returns true when the family was already revoked: a refresh that won
    /// just before a reuse killed its family issues a token born dead, and
    /// only the issuer can report that (the reuse listed the family before
    /// this token was in it).
    pub fn register(&self, jti: TokenId, fam: FamilyId, lapses_at_ms: u64, now_ms: u64) -> bool {
        let mut ledger = self.ledger(fam);
        self.forget(&mut ledger, now_ms, FORGET_PER_REGISTRATION);
        if !self.tracks_families() {
            return false;
        }
        let family = ledger.families.entry(fam).or_insert_with(Family::new);
        family.members.push_back(jti);
        let born_dead = family.dead;
        let lapse = Lapse {
            at_ms: lapses_at_ms,
            entry: Entry::Member(fam),
        };
        self.push(&mut ledger, lapse);
        born_dead
    }

    /// How many entries the store remembers (for tests and benchmarks).
    pub fn remembered(&self) -> usize {
        self.entries.load(Ordering::Relaxed)
    }

    /// May this token still be used for access? Returns the refusal reason.
    pub fn access_refusal(&self, jti: TokenId, fam: FamilyId) -> Option<Reason> {
        let ledger = self.ledger(fam);
        let spent = ledger.rotated_at.contains_key(&jti);
        let dead = self.rule.access_dies_with_family && ledger.family_dead(fam);
        (spent || dead).then_some(Reason::Revoked)
    }

    /// The atomic check-and-revoke of one refresh, at lab time `now_ms`, of
    /// a token that lapses at `lapses_at_ms`. `gap` is what the non-atomic
    /// store waits for between its check and its revoke (the network's
    /// commit leg); the others never call it.
    pub async fn decide_refresh<F: std::future::Future<Output = ()>>(
        &self,
        jti: TokenId,
        fam: FamilyId,
        now_ms: u64,
        lapses_at_ms: u64,
        gap: impl FnOnce() -> F,
    ) -> RefreshDecision {
        if !self.rule.atomic {
            return self
                .decide_refresh_non_atomic(jti, fam, now_ms, lapses_at_ms, gap)
                .await;
        }
        let rule = self.rule;
        let mut ledger = self.ledger(fam);
        if ledger.family_dead(fam) {
            return refuse(Reason::Revoked, Refusal::FamilyDead);
        }
        if rule.stale && rule.rotate {
            return self.decide_by_session(ledger, jti, fam, now_ms, lapses_at_ms);
        }
        let previous = ledger.rotated_at.get(&jti).copied();
        let decision = match previous {
            _ if !rule.rotate => RefreshDecision::Allow { rotate: false },
            None => RefreshDecision::Allow { rotate: true },
            Some(spent) if spent.overwritten => {
                return refuse(Reason::Revoked, Refusal::Overwritten)
            }
            Some(spent) => {
                let active = spent
                    .child
                    .filter(|child| !ledger.rotated_at.contains_key(child));
                // Auth0: a token whose child was spent is not the previous one.
                let previous = !rule.only_previous || spent.child.is_none() || active.is_some();
                let in_window = now_ms.saturating_sub(spent.at_ms) < rule.reuse_window_ms
                    && rule.reuse_limit.is_none_or(|limit| spent.reuses < limit)
                    && previous;
                match active {
                    Some(active) if rule.parent_gets_active => {
                        return RefreshDecision::ReturnActive { active }
                    }
                    // Counted below, once the store has room for it.
                    _ if in_window => RefreshDecision::Allow { rotate: false },
                    _ => match rule.beyond {
                        Beyond::Reject => return refuse(Reason::Reused, Refusal::Reused),
                        Beyond::RevokeFamily => {
                            return RefreshDecision::Refuse {
                                reason: Reason::Reused,
                                family_revoked: ledger.kill(fam),
                                why: Refusal::Reused,
                            };
                        }
                    },
                }
            }
        };
        // An allowed refresh issues a token the store may have to remember:
        // refuse it while full, before anything is spent.
        if self.tracks_families() || decision == (RefreshDecision::Allow { rotate: true }) {
            if let Err(full) = self.has_room(now_ms, Some((shard_of(fam), &mut ledger))) {
                return RefreshDecision::Full(full);
            }
        }
        if decision == (RefreshDecision::Allow { rotate: true }) {
            let lapse = ledger.spend(jti, now_ms, lapses_at_ms);
            self.push(&mut ledger, lapse);
        } else if let (true, Some(spent)) = (rule.rotate, ledger.rotated_at.get_mut(&jti)) {
            // An allowed reuse of a spent token: one of its reuses is used,
            // and a sliding window starts again from it.
            spent.reuses += 1;
            if rule.sliding {
                spent.at_ms = now_ms;
            }
        }
        decision
    }

    /// Keycloak's rule: the session (client session) remembers the
    /// credential last presented and how often it was used. The newest
    /// credential becomes the current one at its first use; a reuse of the
    /// current one past the count, or any other credential (stale), ends
    /// the session.
    fn decide_by_session(
        &self,
        mut ledger: std::sync::MutexGuard<'_, Ledger>,
        jti: TokenId,
        fam: FamilyId,
        now_ms: u64,
        lapses_at_ms: u64,
    ) -> RefreshDecision {
        let family = ledger.families.entry(fam).or_insert_with(Family::new);
        let fresh = family.current != Some(jti);
        let stale = fresh && family.newest.is_some_and(|newest| newest != jti);
        let uses = if fresh { 0 } else { family.uses };
        let exceeded = self.rule.reuse_limit.is_some_and(|limit| uses > limit);
        if stale || exceeded {
            return RefreshDecision::Refuse {
                reason: Reason::Reused,
                family_revoked: ledger.kill(fam),
                why: if stale {
                    Refusal::Stale
                } else {
                    Refusal::Reused
                },
            };
        }
        if let Err(full) = self.has_room(now_ms, Some((shard_of(fam), &mut ledger))) {
            return RefreshDecision::Full(full);
        }
        if let Some(family) = ledger.families.get_mut(&fam) {
            family.current = Some(jti);
            family.uses = uses + 1;
        }
        if fresh && !ledger.rotated_at.contains_key(&jti) {
            let lapse = ledger.spend(jti, now_ms, lapses_at_ms);
            self.push(&mut ledger, lapse);
            return RefreshDecision::Allow { rotate: true };
        }
        RefreshDecision::Allow { rotate: false }
    }

    /// The bug on purpose: read, wait, then write.
    async fn decide_refresh_non_atomic<F: std::future::Future<Output = ()>>(
        &self,
        jti: TokenId,
        fam: FamilyId,
        now_ms: u64,
        lapses_at_ms: u64,
        gap: impl FnOnce() -> F,
    ) -> RefreshDecision {
        let spent = {
            let ledger = self.ledger(fam);
            if ledger.family_dead(fam) {
                return refuse(Reason::Revoked, Refusal::FamilyDead);
            }
            ledger.rotated_at.get(&jti).map(|spent| spent.overwritten)
        };
        match spent {
            Some(true) => return refuse(Reason::Revoked, Refusal::Overwritten),
            Some(false) => return refuse(Reason::Reused, Refusal::Reused),
            None => {}
        }
        if let Err(full) = self.has_room(now_ms, None) {
            return RefreshDecision::Full(full);
        }
        gap().await;
        let mut ledger = self.ledger(fam);
        // A refresh that checked at the same time may have spent it first:
        // it stays spent as that one left it (its child, for Spring's rule).
        if !ledger.rotated_at.contains_key(&jti) {
            let lapse = ledger.spend(jti, now_ms, lapses_at_ms);
            self.push(&mut ledger, lapse);
        }
        RefreshDecision::Allow { rotate: true }
    }

    /// Forgets entries lapsed at `now_ms`, up to [`SWEEP_BATCH`] from each
    /// ledger, one lock at a time; a ledger left with nothing lapsed is
    /// shrunk if it became sparse. Says how many it forgot and whether a
    /// ledger may have more (then yield and call again).
    pub fn sweep(&self, now_ms: u64) -> Swept {
        let mut swept = Swept::default();
        for index in 0..SHARDS {
            let mut ledger = self.shard(index);
            let forgotten = self.forget(&mut ledger, now_ms, SWEEP_BATCH);
            swept.forgotten += forgotten;
            if forgotten == SWEEP_BATCH {
                swept.more = true;
            } else {
                swept.shrunk |= ledger.shrink_if_sparse();
            }
        }
        swept
    }
}

/// What one [`RevocationStore::sweep`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    pub forgotten: usize,
    /// A ledger forgot a whole batch and may have more lapsed entries.
    pub more: bool,
    /// A map or queue was shrunk: memory went back to the allocator.
    pub shrunk: bool,
}

impl Ledger {
    fn family_dead(&self, fam: FamilyId) -> bool {
        self.families.get(&fam).is_some_and(|family| family.dead)
    }

    /// Reuse detection: the login's family dies; returns its tokens.
    fn kill(&mut self, fam: FamilyId) -> Vec<TokenId> {
        match self.families.get_mut(&fam) {
            Some(family) => {
                family.dead = true;
                family.members.iter().copied().collect()
            }
            None => Vec::new(),
        }
    }

    /// Marks `jti` spent; returns the entry to queue.
    fn spend(&mut self, jti: TokenId, now_ms: u64, lapses_at_ms: u64) -> Lapse {
        let spent = Spent {
            at_ms: now_ms,
            reuses: 0,
            child: None,
            overwritten: false,
        };
        self.rotated_at.insert(jti, spent);
        Lapse {
            at_ms: lapses_at_ms,
            entry: Entry::Spent(jti),
        }
    }

    /// Pops at most `budget` lapsed entries off the queue. Entries are
    /// queued in registration order, which is lapse order up to the few
    /// microseconds between a handler reading the clock and taking the lock:
    /// an entry queued behind a later one waits for it — forgotten a little
    /// late, never early.
    fn forget_lapsed(&mut self, now_ms: u64, budget: usize) -> usize {
        let mut forgotten = 0;
        while forgotten < budget {
            let Some(lapse) = self.lapses.front() else {
                break;
            };
            if lapse.at_ms > now_ms {
                break;
            }
            let Some(lapse) = self.lapses.pop_front() else {
                break;
            };
            match lapse.entry {
                Entry::Spent(jti) => {
                    self.rotated_at.remove(&jti);
                }
                Entry::Member(fam) => {
                    if let Some(family) = self.families.get_mut(&fam) {
                        family.members.pop_front();
                        if family.members.is_empty() {
                            self.families.remove(&fam);
                        }
                    }
                }
            }
            forgotten += 1;
        }
        forgotten
    }

    /// Returns true when it shrank something.
    fn shrink_if_sparse(&mut self) -> bool {
        fn sparse(len: usize, capacity: usize) -> bool {
            capacity > SHRINK_ABOVE && capacity > len * SHRINK_WHEN_SPARSER_THAN
        }
        let mut shrunk = false;
        if sparse(self.rotated_at.len(), self.rotated_at.capacity()) {
            self.rotated_at.shrink_to(self.rotated_at.len() * 2);
            shrunk = true;
        }
        if sparse(self.families.len(), self.families.capacity()) {
            self.families.shrink_to(self.families.len() * 2);
            shrunk = true;
        }
        if sparse(self.lapses.len(), self.lapses.capacity()) {
            self.lapses.shrink_to(self.lapses.len() * 2);
            shrunk = true;
        }
        shrunk
    }
}

/// The ledger of family `fam`.
fn shard_of(fam: FamilyId) -> usize {
    (fam.0 % SHARDS as u64) as usize
}

fn refuse(reason: Reason, why: Refusal) -> RefreshDecision {
    RefreshDecision::Refuse {
        reason,
        family_revoked: Vec::new(),
        why,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn no_gap() {}

    const T1: TokenId = TokenId(1);
    const T2: TokenId = TokenId(2);
    const F1: FamilyId = FamilyId(1);
    const NEVER: u64 = u64::MAX;

    #[tokio::test]
    async fn a_token_registered_into_a_dead_family_is_born_dead() {
        let store = RevocationStore::new(Rule::reuse_detection(0), 100);
        assert!(!store.register(T1, F1, NEVER, 0));
        store.decide_refresh(T1, F1, 0, NEVER, no_gap).await;
        // The reuse lands between the winner's decision and its new token.
        store.decide_refresh(T1, F1, 1, NEVER, no_gap).await;
        assert!(store.register(T2, F1, NEVER, 2));
        assert_eq!(store.access_refusal(T2, F1), Some(Reason::Revoked));
    }

    #[tokio::test]
    async fn lapsed_entries_are_forgotten_in_batches_and_the_maps_shrink() {
        let store = RevocationStore::new(Rule::reuse_detection(0), usize::MAX);
        // Two and a half batches per ledger.
        let logins = SWEEP_BATCH * SHARDS * 5 / 2;
        for n in 0..logins as u64 {
            store.register(TokenId(n), FamilyId(n), 1_000 + n, 0);
        }
        store.register(TokenId(1_000_000), FamilyId(9), 1_000_000, 0);
        assert_eq!(store.remembered(), logins + 1);
        let capacity = store.ledger(FamilyId(9)).families.capacity();
        // All but the last login lapsed by then.
        let now = 1_000 + logins as u64;
        let sweeps: Vec<Swept> = (0..4).map(|_| store.sweep(now)).collect();
        let swept = |forgotten, more, shrunk| Swept {
            forgotten,
            more,
            shrunk,
        };
        let batches = SWEEP_BATCH * SHARDS;
        assert_eq!(
            sweeps,
            [
                swept(batches, true, false),
                swept(batches, true, false),
                swept(batches / 2, false, true),
                swept(0, false, false)
            ]
        );
        assert_eq!(store.remembered(), 1);
        assert!(store.ledger(FamilyId(9)).families.capacity() < capacity / 100);
        assert_eq!(store.access_refusal(TokenId(1_000_000), FamilyId(9)), None);
    }

    #[tokio::test]
    async fn registrations_forget_on_their_way() {
        let store = RevocationStore::new(Rule::reuse_detection(0), usize::MAX);
        // Families of one ledger: 0, 16, 32, ...
        let fam = |n: u64| FamilyId(n * SHARDS as u64);
        for n in 0..10 {
            store.register(TokenId(n), fam(n), 5, 0);
        }
        for n in 10..13 {
            store.register(TokenId(n), fam(n), 100, 5);
        }
        // Each of the 3 later registrations forgot 2 of the 10 lapsed ones.
        assert_eq!(store.remembered(), 10 - 3 * 2 + 3);
    }

    #[tokio::test]
    async fn a_full_store_refuses_before_spending_anything() {
        let store = RevocationStore::new(Rule::STRICT, 2);
        // Strict logins cost no entry; each rotation costs one.
        assert_eq!(store.room(F1, 0), Ok(()));
        for jti in [T1, T2] {
            assert_eq!(
                store.decide_refresh(jti, F1, 0, 4_500, no_gap).await,
                RefreshDecision::Allow { rotate: true }
            );
        }
        let full = Full {
            capacity: 2,
            retry_after_s: 5,
        };
        assert_eq!(store.room(F1, 1), Err(full));
        assert_eq!(
            store.decide_refresh(TokenId(3), F1, 1, NEVER, no_gap).await,
            RefreshDecision::Full(full)
        );
        // Nothing was spent: the same token refreshes once there is room.
        store.sweep(4_500);
        assert_eq!(
            store
                .decide_refresh(TokenId(3), F1, 4_500, NEVER, no_gap)
                .await,
            RefreshDecision::Allow { rotate: true }
        );
    }

    #[tokio::test]
    async fn a_reuse_refused_for_a_full_store_uses_up_no_reuse() {
        let rule = Rule {
            reuse_window_ms: u64::MAX,
            reuse_limit: Some(1),
            ..Rule::reuse_detection(0)
        };
        let store = RevocationStore::new(rule, 3);
        // Lapses are forgotten in the order they were queued: T2's first.
        store.register(T2, F1, 5_000, 0);
        store.register(T1, F1, NEVER, 0);
        let allow = |rotate| RefreshDecision::Allow { rotate };
        assert_eq!(
            store.decide_refresh(T1, F1, 0, NEVER, no_gap).await,
            allow(true)
        );
        // Full: T1's one reuse is refused for lack of room...
        assert!(matches!(
            store.decide_refresh(T1, F1, 1, NEVER, no_gap).await,
            RefreshDecision::Full(_)
        ));
        // ...and is still there once T2 lapsed and made room.
        assert_eq!(
            store.decide_refresh(T1, F1, 5_000, NEVER, no_gap).await,
            allow(false)
        );
    }

    #[tokio::test]
    async fn strict_allows_once_then_refuses_reuse() {
        let store = RevocationStore::new(Rule::STRICT, 100);
        store.register(T1, F1, NEVER, 0);
        assert_eq!(
            store.decide_refresh(T1, F1, 0, NEVER, no_gap).await,
            RefreshDecision::Allow { rotate: true }
        );
        assert_eq!(
            store.decide_refresh(T1, F1, 1, NEVER, no_gap).await,
            refuse(Reason::Reused, Refusal::Reused)
        );
        assert_eq!(store.access_refusal(T1, F1), Some(Reason::Revoked));
    }

    #[tokio::test]
    async fn grace_allows_reuse_inside_the_window_only() {
        let store = RevocationStore::new(Rule::reuse_detection(30_000), 100);
        store.register(T1, F1, NEVER, 0);
        store.register(T2, F1, NEVER, 0);
        store.decide_refresh(T1, F1, 1_000, NEVER, no_gap).await;
        assert_eq!(
            store.decide_refresh(T1, F1, 30_999, NEVER, no_gap).await,
            RefreshDecision::Allow { rotate: false }
        );
        assert_eq!(
            store.decide_refresh(T1, F1, 31_000, NEVER, no_gap).await,
            RefreshDecision::Refuse {
                reason: Reason::Reused,
                family_revoked: vec![T1, T2],
                why: Refusal::Reused,
            }
        );
        assert_eq!(store.access_refusal(T2, F1), Some(Reason::Revoked));
    }

    #[tokio::test]
    async fn a_reuse_count_allows_that_many_reuses_then_refuses() {
        let rule = Rule {
            reuse_window_ms: u64::MAX,
            reuse_limit: Some(1),
            ..Rule::STRICT
        };
        let store = RevocationStore::new(rule, 100);
        let allow = |rotate| RefreshDecision::Allow { rotate };
        assert_eq!(
            store.decide_refresh(T1, F1, 0, NEVER, no_gap).await,
            allow(true)
        );
        assert_eq!(
            store.decide_refresh(T1, F1, 1, NEVER, no_gap).await,
            allow(false)
        );
        assert_eq!(
            store.decide_refresh(T1, F1, 2, NEVER, no_gap).await,
            refuse(Reason::Reused, Refusal::Reused)
        );
    }

    #[tokio::test]
    async fn the_parent_of_the_active_token_gets_it_back_until_the_child_is_spent() {
        let rule = Rule {
            parent_gets_active: true,
            ..Rule::reuse_detection(10_000)
        };
        let store = RevocationStore::new(rule, 100);
        store.register(T1, F1, NEVER, 0);
        store.decide_refresh(T1, F1, 0, NEVER, no_gap).await;
        store.register(T2, F1, NEVER, 0);
        store.set_child(T1, F1, T2, NEVER);
        assert_eq!(
            store.decide_refresh(T1, F1, 20_000, NEVER, no_gap).await,
            RefreshDecision::ReturnActive { active: T2 },
            "even past the interval: the client never stored its child"
        );
        // Once the child is spent, the parent is a plain reuse: past the
        // interval the family dies.
        store.decide_refresh(T2, F1, 20_001, NEVER, no_gap).await;
        assert!(matches!(
            store.decide_refresh(T1, F1, 20_002, NEVER, no_gap).await,
            RefreshDecision::Refuse {
                reason: Reason::Reused,
                ..
            }
        ));
    }
}
