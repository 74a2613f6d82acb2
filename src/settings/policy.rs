//! The generic mechanisms a server's refresh-token rule is made of: what
//! the revocation store does with a token that comes back. Policies and
//! presets are built from them; the store (`server::revocation`) follows
//! them. The generic policies are one table, [`GENERIC`], as the real
//! servers' presets are one table (`settings::presets::PRESETS`).

use super::{Policy, RunSettings};

/// What a server does with a refresh credential that comes back: the
/// generic mechanisms every policy and preset is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// A refresh spends the presented token (false: it refreshes forever).
    pub rotate: bool,
    /// A spent token may be refreshed again for this long after it was
    /// spent, each time issuing new tokens (a grace or overlap period) ...
    pub reuse_window_ms: u64,
    /// ... at most this many times (`None`: as often as the window allows).
    pub reuse_limit: Option<u32>,
    /// What a reuse beyond the window or the count does.
    pub beyond: Beyond,
    /// Supabase: a spent token whose child is still unspent (the client
    /// never stored the child) gets that child back instead of a new one.
    pub parent_gets_active: bool,
    /// Check and spend as one step; false is the non-atomic bug.
    pub atomic: bool,
    /// Supabase: a reuse inside the window restarts it (the server stamps
    /// the spent token again), so a client that keeps retrying keeps it open.
    pub sliding: bool,
    /// Auth0: only the previous token may be reused inside the window; a
    /// spent token whose child was spent too is beyond it at once.
    pub only_previous: bool,
    /// Keycloak: the session remembers the token last presented and how
    /// often it was used; any token but that one or the newest issued is
    /// stale, which is fatal like a reuse past the count.
    pub stale: bool,
    /// Spring (non-atomic): two refreshes of one token both pass, and the
    /// one that saves last overwrites the other's new token, which the
    /// server then no longer knows.
    pub last_write_wins: bool,
    /// Whether a login's access tokens die with its revoked family (Okta,
    /// Hydra) or live until `exp` (self-contained JWTs: Auth0, Supabase,
    /// Keycloak).
    pub access_dies_with_family: bool,
}

/// What a reuse outside the window does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Beyond {
    /// Refused (`reused`); nothing else changes.
    Reject,
    /// Reuse detection (RFC 9700 §4.14.2): refused, and every token of the
    /// login dies, the one that won the race too.
    RevokeFamily,
}

impl Rule {
    /// Single use: a reuse is refused.
    pub const STRICT: Rule = Rule {
        rotate: true,
        reuse_window_ms: 0,
        reuse_limit: None,
        beyond: Beyond::Reject,
        parent_gets_active: false,
        atomic: true,
        sliding: false,
        only_previous: false,
        stale: false,
        last_write_wins: false,
        access_dies_with_family: true,
    };
    /// No rotation: the same token refreshes as often as it likes.
    pub const NO_ROTATION: Rule = Rule {
        rotate: false,
        ..Rule::STRICT
    };

    /// Reuse detection after a window of `window_ms` (0: at once).
    pub const fn reuse_detection(window_ms: u64) -> Rule {
        Rule {
            reuse_window_ms: window_ms,
            beyond: Beyond::RevokeFamily,
            ..Rule::STRICT
        }
    }
}

/// A policy built from the generic mechanisms alone.
pub struct Generic {
    pub policy: Policy,
    /// The real systems this policy mirrors, for tooltips and docs.
    pub mirrors: &'static str,
    /// Its rule, from the run's settings (`grace_s`).
    pub rule: fn(&RunSettings) -> Rule,
}

/// Every generic policy, in the picker's order.
pub const GENERIC: &[Generic] = &[
    Generic {
        policy: Policy::Strict,
        mirrors: "AWS Cognito RefreshTokenRotation ENABLED with RetryGracePeriodSeconds 0 (a reuse is refused, nothing else dies)",
        rule: |_| Rule::STRICT,
    },
    Generic {
        policy: Policy::Family,
        mirrors: "RFC 9700 §4.14.2 reuse detection; Okta reuse detection; Ory Hydra default; Keycloak revokeRefreshToken=true, refreshTokenMaxReuse=0 (ends the client session)",
        rule: |_| Rule::reuse_detection(0),
    },
    Generic {
        policy: Policy::Grace,
        mirrors: "Okta grace period (default 30 s); Ory Hydra rotation_grace_period; AWS Cognito RetryGracePeriodSeconds",
        rule: |s| Rule::reuse_detection(s.grace_s * 1000),
    },
    Generic {
        policy: Policy::None,
        mirrors: "Spring Authorization Server default; Keycloak default; AWS Cognito default; Okta STATIC",
        rule: |_| Rule::NO_ROTATION,
    },
    Generic {
        policy: Policy::NonAtomic,
        mirrors: "Spring Authorization Server reuseRefreshTokens=false (last write wins); Keycloak CVE-2026-1035; Ory Hydra #3604 (check-then-revoke race)",
        rule: |_| Rule {
            atomic: false,
            ..Rule::STRICT
        },
    },
];

/// The generic policy `policy`, if it is one (not a preset).
pub fn generic(policy: Policy) -> Option<&'static Generic> {
    GENERIC.iter().find(|g| g.policy == policy)
}
