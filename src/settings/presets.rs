//! Real servers' refresh-token rules as presets (docs/design.md, "Server
//! presets"): each is built from the store's generic mechanisms ([`Rule`])
//! with that server's own parameter names and defaults, and cites where the
//! behaviour comes from. A preset is one entry of [`PRESETS`].
//!
//! The knobs are shared: `overlap_s` is each server's window (whatever it
//! calls it), `reuse_count` its reuse count, `rotate` its rotation switch.
//! A preset that has no such parameter refuses the knob.

use super::policy::{Beyond, Rule};
use super::{check_range, Policy, RunSettings, SettingsError, MAX_GRACE_S, MAX_REUSE_COUNT};

/// The knob values a preset's rule is built from (its defaults filled in).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Knobs {
    pub overlap_ms: u64,
    pub reuse_count: u32,
    pub rotate: bool,
}

/// One real server's rule.
pub struct Preset {
    pub policy: Policy,
    /// The server's parameters and defaults and what it does with a token
    /// that comes back: the policy picker's tooltip and the preset table.
    pub source: &'static str,
    /// How long its refresh tokens live (idle and absolute), by default.
    /// Documented for the reader: a lab run lasts seconds, its tokens live
    /// by `access_ttl_s` and `refresh_window_s`.
    pub lifetimes: &'static str,
    /// Where each rule of the row is documented: the vendor's docs or code.
    pub sources: &'static [&'static str],
    /// The window's default, seconds, if the server has one.
    pub overlap_s: Option<u64>,
    /// The reuse count's default, if the server has one.
    pub reuse_count: Option<u32>,
    /// The rotation switch's default, if the server has one.
    pub rotate: Option<bool>,
    pub rule: fn(Knobs) -> Rule,
}

/// Every preset, in the picker's order.
pub const PRESETS: &[Preset] = &[
    Preset {
        policy: Policy::Auth0,
        source: "Auth0 refresh token rotation: Rotation Overlap Period (leeway, default 0 s) in which only the previous token may be exchanged again, each time for a new one; a reuse after it, or of any older token, is reuse detection, which revokes the whole family; access tokens are JWTs and live until exp (auth0.com/docs/secure/tokens/refresh-tokens/configure-refresh-token-rotation)",
        lifetimes: "idle 1,296,000 s (15 days) and absolute 2,592,000 s (30 days) once expiration is set; both optional",
        sources: &[
            "https://auth0.com/docs/secure/tokens/refresh-tokens/configure-refresh-token-rotation",
            "https://auth0.com/docs/secure/tokens/refresh-tokens/refresh-token-rotation",
            "https://auth0.com/docs/secure/tokens/refresh-tokens/configure-refresh-token-expiration",
        ],
        overlap_s: Some(0),
        reuse_count: None,
        rotate: None,
        rule: |k| Rule {
            only_previous: true,
            access_dies_with_family: false,
            ..Rule::reuse_detection(k.overlap_ms)
        },
    },
    Preset {
        policy: Policy::Okta,
        source: "Okta refresh token rotation: rotation_type ROTATE with a grace period (leeway, 0-60 s, default 30 s); a reuse after it revokes the token family, its access tokens too (developer.okta.com/docs/guides/refresh-tokens/main/#refresh-token-rotation)",
        lifetimes: "idle 7 days (\"expires if not used\") and absolute unlimited, by the default access policy rule",
        sources: &[
            "https://developer.okta.com/docs/guides/refresh-tokens/main/#refresh-token-rotation",
            "https://developer.okta.com/docs/guides/configure-access-policy/main/",
        ],
        overlap_s: Some(30),
        reuse_count: None,
        rotate: None,
        rule: |k| Rule::reuse_detection(k.overlap_ms),
    },
    Preset {
        policy: Policy::Keycloak,
        source: "Keycloak realm tokens: revokeRefreshToken (Revoke Refresh Token, off by default) and refreshTokenMaxReuse (default 0). With rotation the client session remembers the token last used and its count: past the count, invalid_grant \"Maximum allowed refresh token reuse exceeded\"; any older token, \"Stale token\"; either ends the client session (every token of the login); access tokens are JWTs and live until exp (keycloak.org/docs/latest/server_admin/#_timeouts; TokenManager.validateTokenReuse)",
        lifetimes: "idle 30 min (SSO Session Idle) and absolute 10 h (SSO Session Max)",
        sources: &[
            "https://www.keycloak.org/docs/latest/server_admin/#_timeouts",
            "https://github.com/keycloak/keycloak/blob/main/services/src/main/java/org/keycloak/protocol/oidc/TokenManager.java",
        ],
        overlap_s: None,
        reuse_count: Some(0),
        rotate: Some(false),
        rule: |k| match k.rotate {
            false => Rule::NO_ROTATION,
            true => Rule {
                stale: true,
                reuse_limit: Some(k.reuse_count),
                access_dies_with_family: false,
                ..Rule::reuse_detection(0)
            },
        },
    },
    Preset {
        policy: Policy::Hydra,
        source: "Ory Hydra: oauth2.grant.refresh_token.rotation_grace_period (off by default) and rotation_grace_reuse_count, which counts the first use (3: three uses in all; 1: no reuse; 0: unlimited inside the period); a reuse after them revokes the whole chain, access tokens too (ory.sh/docs/hydra/guides/graceful-token-refresh)",
        lifetimes: "absolute 720 h (ttl.refresh_token); no idle limit",
        sources: &[
            "https://www.ory.sh/docs/hydra/guides/graceful-token-refresh",
            "https://github.com/ory/fosite/blob/master/handler/oauth2/flow_refresh.go",
        ],
        overlap_s: Some(0),
        reuse_count: Some(0),
        rotate: None,
        rule: |k| Rule {
            // The count includes the first use: count - 1 reuses.
            reuse_limit: (k.reuse_count > 0).then(|| k.reuse_count - 1),
            ..Rule::reuse_detection(k.overlap_ms)
        },
    },
    Preset {
        policy: Policy::Supabase,
        source: "Supabase Auth (GoTrue): rotation on, REFRESH_TOKEN_REUSE_INTERVAL (10 s in the Supabase CLI's config.toml); the parent of the active token gets the active token back, another reuse inside the interval a new child and a new interval (each reuse stamps the token again), after it the family is revoked; access tokens are JWTs and live until exp (github.com/supabase/auth internal/api/token_refresh.go)",
        lifetimes: "none by default: sessions last until sign-out; a time-box and an inactivity timeout are optional",
        sources: &[
            "https://github.com/supabase/auth/blob/master/internal/api/token_refresh.go",
            "https://supabase.com/docs/guides/auth/sessions",
        ],
        overlap_s: Some(10),
        reuse_count: None,
        rotate: None,
        rule: |k| Rule {
            parent_gets_active: true,
            sliding: true,
            access_dies_with_family: false,
            ..Rule::reuse_detection(k.overlap_ms)
        },
    },
    Preset {
        policy: Policy::Cognito,
        source: "AWS Cognito app client RefreshTokenRotation: Feature DISABLED by default (the same refresh token goes on); ENABLED rotates, and RetryGracePeriodSeconds (0-60, the lab's default 0) keeps the old token working for that long, then it is refused, nothing else dies (docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-the-refresh-token.html)",
        lifetimes: "absolute 30 days (60 min to 10 years); no idle limit",
        sources: &[
            "https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-the-refresh-token.html",
            "https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_RefreshTokenRotationType.html",
        ],
        overlap_s: Some(0),
        reuse_count: None,
        rotate: Some(false),
        rule: |k| match k.rotate {
            false => Rule::NO_ROTATION,
            true => Rule {
                reuse_window_ms: k.overlap_ms,
                beyond: Beyond::Reject,
                ..Rule::STRICT
            },
        },
    },
    Preset {
        policy: Policy::Spring,
        source: "Spring Authorization Server TokenSettings: reuseRefreshTokens (true by default: no rotation); false rotates, but reads the authorization and saves the new one without a lock: two refreshes of one token both pass and the one saved last wins, the other's new token is no longer known (docs.spring.io/spring-authorization-server/reference/core-model-components.html; OAuth2RefreshTokenAuthenticationProvider)",
        lifetimes: "absolute 60 min (refreshTokenTimeToLive); no idle limit",
        sources: &[
            "https://docs.spring.io/spring-authorization-server/reference/core-model-components.html",
            "https://github.com/spring-projects/spring-authorization-server/blob/main/oauth2-authorization-server/src/main/java/org/springframework/security/oauth2/server/authorization/authentication/OAuth2RefreshTokenAuthenticationProvider.java",
        ],
        overlap_s: None,
        reuse_count: None,
        rotate: Some(false),
        rule: |k| match k.rotate {
            false => Rule::NO_ROTATION,
            true => Rule {
                atomic: false,
                last_write_wins: true,
                ..Rule::STRICT
            },
        },
    },
];

/// The preset behind `policy`, if it is one.
pub fn preset(policy: Policy) -> Option<&'static Preset> {
    PRESETS.iter().find(|preset| preset.policy == policy)
}

/// The rule a run's server follows: its policy's, with the knobs applied.
pub fn rule(settings: &RunSettings) -> Rule {
    if let Some(generic) = super::policy::generic(settings.policy) {
        return (generic.rule)(settings);
    }
    match preset(settings.policy) {
        Some(preset) => (preset.rule)(Knobs {
            overlap_ms: settings.overlap_s.or(preset.overlap_s).unwrap_or(0) * 1000,
            reuse_count: settings.reuse_count.or(preset.reuse_count).unwrap_or(0),
            rotate: settings.rotate.or(preset.rotate).unwrap_or(true),
        }),
        None => Rule::STRICT,
    }
}

/// The preset table (docs/presets.md), generated from [`PRESETS`]: a
/// test fails when the checked-in file differs.
pub fn markdown() -> String {
    let mut out = String::from(
        "# Server presets\n\n\
         Generated from `src/settings/presets.rs` (`refresh_race::settings::presets::markdown`); do not edit by hand. \
         `cargo test --test it presets::` fails when this file is stale; `REFRESH_RACE_WRITE_DOCS=1 cargo test --test it presets::` rewrites it. \
         Each row is tested over real HTTP in `tests/it/presets.rs`, by a test that names the row's source.\n\n\
         | preset | knobs (default) | what a token that comes back gets | access tokens of a revoked login | refresh token lifetimes | sources |\n\
         |---|---|---|---|---|---|\n",
    );
    for preset in PRESETS {
        let mut knobs = Vec::new();
        if let Some(overlap) = preset.overlap_s {
            knobs.push(format!("`overlap_s` {overlap}"));
        }
        if let Some(count) = preset.reuse_count {
            knobs.push(format!("`reuse_count` {count}"));
        }
        if let Some(rotate) = preset.rotate {
            knobs.push(format!("`rotate` {rotate}"));
        }
        let rule = (preset.rule)(Knobs {
            overlap_ms: preset.overlap_s.unwrap_or(0) * 1000,
            reuse_count: preset.reuse_count.unwrap_or(0),
            rotate: true,
        });
        let access = match (rule.beyond, rule.access_dies_with_family) {
            (Beyond::Reject, _) => "no login is revoked by a reuse",
            (Beyond::RevokeFamily, true) => "die with it",
            (Beyond::RevokeFamily, false) => "live until `exp`",
        };
        let sources: Vec<String> = preset
            .sources
            .iter()
            .map(|url| format!("<{url}>"))
            .collect();
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} | {} |\n",
            preset.policy,
            knobs.join(", "),
            preset.source.replace('|', "\\|"),
            access,
            preset.lifetimes,
            sources.join("<br>"),
        ));
    }
    out
}

/// Whether a preset has one of the knobs.
type HasKnob = fn(&Preset) -> bool;

/// Refuses knobs out of range, and knobs the chosen policy does not have
/// (naming the policies that do).
pub fn check_knobs(settings: &RunSettings) -> Result<(), SettingsError> {
    if let Some(overlap) = settings.overlap_s {
        check_range("overlap_s", overlap, 0, MAX_GRACE_S)?;
    }
    if let Some(count) = settings.reuse_count {
        check_range("reuse_count", count, 0, MAX_REUSE_COUNT)?;
    }
    let this = preset(settings.policy);
    let knobs: [(&str, bool, HasKnob); 3] = [
        ("overlap_s", settings.overlap_s.is_some(), |p| {
            p.overlap_s.is_some()
        }),
        ("reuse_count", settings.reuse_count.is_some(), |p| {
            p.reuse_count.is_some()
        }),
        ("rotate", settings.rotate.is_some(), |p| p.rotate.is_some()),
    ];
    for (knob, given, has) in knobs {
        if given && !this.is_some_and(has) {
            let takers: Vec<&str> = PRESETS
                .iter()
                .filter(|p| has(p))
                .map(|p| p.policy.as_str())
                .collect();
            return Err(SettingsError::Conflict(format!(
                "{knob} is a parameter of {}, not of the {} policy",
                takers.join(", "),
                settings.policy
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(policy: Policy) -> RunSettings {
        RunSettings {
            policy,
            ..RunSettings::default()
        }
    }

    #[test]
    fn every_preset_has_its_defaults_and_a_source() {
        for preset in PRESETS {
            assert!(
                preset.source.contains('('),
                "{}: cite a source",
                preset.policy
            );
            assert_eq!(preset.policy.mirrors(), preset.source);
        }
        let auth0 = rule(&with(Policy::Auth0));
        assert!(auth0.only_previous && !auth0.access_dies_with_family);
        assert_eq!(auth0.reuse_window_ms, 0);
        assert_eq!(rule(&with(Policy::Okta)), Rule::reuse_detection(30_000));
        assert_eq!(rule(&with(Policy::Keycloak)), Rule::NO_ROTATION);
        assert_eq!(rule(&with(Policy::Spring)), Rule::NO_ROTATION);
        assert_eq!(rule(&with(Policy::Cognito)), Rule::NO_ROTATION);
        let supabase = rule(&with(Policy::Supabase));
        assert!(supabase.parent_gets_active && supabase.sliding);
        for preset in PRESETS {
            assert!(
                preset.sources.iter().all(|url| url.starts_with("https://")),
                "{}: sources are links",
                preset.policy
            );
        }
    }

    #[test]
    fn knobs_set_the_parameters_and_strangers_are_refused() {
        let keycloak = RunSettings {
            rotate: Some(true),
            reuse_count: Some(2),
            ..with(Policy::Keycloak)
        };
        assert_eq!(rule(&keycloak).reuse_limit, Some(2));
        let okta = RunSettings {
            overlap_s: Some(0),
            ..with(Policy::Okta)
        };
        assert_eq!(rule(&okta), Rule::reuse_detection(0));
        let strict = RunSettings {
            overlap_s: Some(5),
            ..with(Policy::Strict)
        };
        assert_eq!(
            strict.validate().unwrap_err().to_string(),
            "overlap_s is a parameter of auth0, okta, hydra, supabase, cognito, not of the strict policy"
        );
        let far = RunSettings {
            overlap_s: Some(61),
            ..with(Policy::Okta)
        };
        assert_eq!(
            far.validate().unwrap_err().to_string(),
            "overlap_s must be between 0 and 60 (got 61)"
        );
    }
}
