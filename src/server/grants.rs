//! Refresh credentials the server must find again: OAuth's opaque refresh
//! tokens by their value, and, for Supabase's rule ("the parent of the
//! active token gets the active token back"), any refresh credential by its
//! id. Each is kept until it lapses (its refresh window ends), then
//! forgotten in lapse order, so the map only holds what can still be used.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use super::tokens::{FamilyId, TokenId};

/// What the server knows about one refresh credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub id: TokenId,
    pub fam: FamilyId,
    pub sub: String,
    /// Lab ms from which it is refused (`window_over`).
    pub lapses_at_ms: u64,
}

#[derive(Default)]
pub struct Grants {
    state: Mutex<GrantState>,
}

#[derive(Default)]
struct GrantState {
    by_value: HashMap<String, Grant>,
    by_id: HashMap<TokenId, String>,
    /// (lapse lab ms, value), in issue order, which is lapse order: every
    /// credential of a server lives equally long.
    lapses: VecDeque<(u64, String)>,
}

impl Grants {
    fn lock(&self) -> std::sync::MutexGuard<'_, GrantState> {
        // Each update is a few inserts done together; a panic between them
        // leaves at worst an entry that lapses unused.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Remembers `value` as the credential `grant`.
    pub fn insert(&self, value: String, grant: Grant) {
        let mut state = self.lock();
        state.lapses.push_back((grant.lapses_at_ms, value.clone()));
        state.by_id.insert(grant.id, value.clone());
        state.by_value.insert(value, grant);
    }

    /// The grant of a credential, by its value.
    pub fn find(&self, value: &str) -> Option<Grant> {
        self.lock().by_value.get(value).cloned()
    }

    /// A credential's value, by its id.
    pub fn value_of(&self, id: TokenId) -> Option<String> {
        self.lock().by_id.get(&id).cloned()
    }

    /// Forgets what lapsed by lab time `now_ms`.
    pub fn forget_lapsed(&self, now_ms: u64) {
        let mut state = self.lock();
        while state.lapses.front().is_some_and(|(at, _)| *at <= now_ms) {
            if let Some((_, value)) = state.lapses.pop_front() {
                if let Some(grant) = state.by_value.remove(&value) {
                    state.by_id.remove(&grant.id);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_found_until_they_lapse() {
        let grants = Grants::default();
        let grant = |n, lapses_at_ms| Grant {
            id: TokenId(n),
            fam: FamilyId(1),
            sub: "ada".into(),
            lapses_at_ms,
        };
        grants.insert("r2.a".into(), grant(2, 100));
        grants.insert("r4.b".into(), grant(4, 200));
        assert_eq!(grants.find("r2.a"), Some(grant(2, 100)));
        assert_eq!(grants.value_of(TokenId(4)).as_deref(), Some("r4.b"));
        grants.forget_lapsed(100);
        assert_eq!(grants.find("r2.a"), None);
        assert_eq!(grants.value_of(TokenId(2)), None);
        assert!(grants.find("r4.b").is_some());
    }
}
