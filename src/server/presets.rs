//! Real servers' refresh-token rules as presets (docs/design.md, "Server
//! presets"): each is built from the store's generic mechanisms ([`Rule`])
//! with that server's own parameter names and defaults, and cites where the
//! behaviour comes from. A preset is one entry of [`PRESETS`].
//!
//! The knobs are shared: `overlap_s` is each server's window (whatever it
//! calls it), `reuse_count` its reuse count, `rotate` its rotation switch.
//! A preset that has no such parameter refuses the knob.

use super::revocation::{Beyond, Rule};
use crate::settings::{
    check_range, Policy, RunSettings, SettingsError, MAX_GRACE_S, MAX_REUSE_COUNT,
};

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
    /// The server's parameters and defaults, and where the behaviour is
    /// documented: the policy picker's tooltip and docs.
    pub source: &'static str,
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
        source: "Auth0 refresh token rotation: Rotation Overlap Period (leeway, default 0 s); a reuse after it is reuse detection, which revokes the whole family (auth0.com/docs/secure/tokens/refresh-tokens/refresh-token-rotation)",
        overlap_s: Some(0),
        reuse_count: None,
        rotate: None,
        rule: |k| Rule::reuse_detection(k.overlap_ms),
    },
    Preset {
        policy: Policy::Okta,
        source: "Okta refresh token rotation: rotation_type ROTATE with a grace period (leeway, 0-60 s, default 30 s); a reuse after it revokes the token family (developer.okta.com/docs/guides/refresh-tokens/main/#refresh-token-rotation)",
        overlap_s: Some(30),
        reuse_count: None,
        rotate: None,
        rule: |k| Rule::reuse_detection(k.overlap_ms),
    },
    Preset {
        policy: Policy::Keycloak,
        source: "Keycloak realm tokens: revokeRefreshToken (Revoke Refresh Token, off by default) and refreshTokenMaxReuse (default 0); past the count, invalid_grant \"Maximum allowed refresh token reuse exceeded\" (keycloak.org/docs/latest/server_admin/#_timeouts)",
        overlap_s: None,
        reuse_count: Some(0),
        rotate: Some(false),
        rule: |k| match k.rotate {
            false => Rule::NO_ROTATION,
            true => Rule {
                reuse_window_ms: u64::MAX,
                reuse_limit: Some(k.reuse_count),
                ..Rule::STRICT
            },
        },
    },
    Preset {
        policy: Policy::Hydra,
        source: "Ory Hydra: oauth2.grant.refresh_token.rotation_grace_period (off by default) and rotation_grace_reuse_count (0: unlimited inside the period); a reuse after it revokes the whole token chain (ory.sh/docs/hydra/guides/graceful-token-refresh)",
        overlap_s: Some(0),
        reuse_count: Some(0),
        rotate: None,
        rule: |k| Rule {
            reuse_limit: (k.reuse_count > 0).then_some(k.reuse_count),
            ..Rule::reuse_detection(k.overlap_ms)
        },
    },
    Preset {
        policy: Policy::Supabase,
        source: "Supabase Auth (GoTrue): rotation on, REFRESH_TOKEN_REUSE_INTERVAL (10 s in the Supabase CLI's config.toml); the parent of the active token gets the active token back, another reuse inside the interval a new child, after it the family is revoked (github.com/supabase/auth internal/api/token_refresh.go)",
        overlap_s: Some(10),
        reuse_count: None,
        rotate: None,
        rule: |k| Rule {
            parent_gets_active: true,
            ..Rule::reuse_detection(k.overlap_ms)
        },
    },
    Preset {
        policy: Policy::Cognito,
        source: "AWS Cognito refresh token rotation (RefreshTokenRotation, RetryGracePeriodSeconds 0-60; the lab's default 0): the old token keeps working for the grace period, then is refused (docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-the-refresh-token.html)",
        overlap_s: Some(0),
        reuse_count: None,
        rotate: None,
        rule: |k| Rule {
            reuse_window_ms: k.overlap_ms,
            beyond: Beyond::Reject,
            ..Rule::STRICT
        },
    },
    Preset {
        policy: Policy::Spring,
        source: "Spring Authorization Server TokenSettings: reuseRefreshTokens (true by default: no rotation); false rotates and refuses a reused token (docs.spring.io/spring-authorization-server/reference/core-model-components.html)",
        overlap_s: None,
        reuse_count: None,
        rotate: Some(false),
        rule: |k| match k.rotate {
            false => Rule::NO_ROTATION,
            true => Rule::STRICT,
        },
    },
];

/// The preset behind `policy`, if it is one.
pub fn preset(policy: Policy) -> Option<&'static Preset> {
    PRESETS.iter().find(|preset| preset.policy == policy)
}

/// The rule a run's server follows: its policy's, with the knobs applied.
pub fn rule(settings: &RunSettings) -> Rule {
    match settings.policy {
        Policy::Strict => Rule::STRICT,
        Policy::Family => Rule::reuse_detection(0),
        Policy::Grace => Rule::reuse_detection(settings.grace_s * 1000),
        Policy::None => Rule::NO_ROTATION,
        Policy::NonAtomic => Rule {
            atomic: false,
            ..Rule::STRICT
        },
        policy => match preset(policy) {
            Some(preset) => (preset.rule)(Knobs {
                overlap_ms: settings.overlap_s.or(preset.overlap_s).unwrap_or(0) * 1000,
                reuse_count: settings.reuse_count.or(preset.reuse_count).unwrap_or(0),
                rotate: settings.rotate.or(preset.rotate).unwrap_or(true),
            }),
            None => Rule::STRICT,
        },
    }
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
        assert_eq!(rule(&with(Policy::Auth0)), Rule::reuse_detection(0));
        assert_eq!(rule(&with(Policy::Okta)), Rule::reuse_detection(30_000));
        assert_eq!(rule(&with(Policy::Keycloak)), Rule::NO_ROTATION);
        assert_eq!(rule(&with(Policy::Spring)), Rule::NO_ROTATION);
        assert!(rule(&with(Policy::Supabase)).parent_gets_active);
        assert_eq!(rule(&with(Policy::Cognito)), Rule::STRICT);
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
