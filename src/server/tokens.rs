//! Signing and checking tokens: HS256 with a random key per server.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::error::TokenFault;
use crate::clock::NumericDate;

/// Declares a serial id written as a letter and a number (`t12`, `f3`):
/// short so the timeline can show it, a number so the revocation store keys
/// it without allocating.
macro_rules! serial_id {
    ($(#[$meta:meta])* $name:ident, $letter:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub u64);

        impl $name {
            /// Reads `t12` (or `f3`); `None` for anything this server never mints.
            pub fn parse(text: &str) -> Option<Self> {
                let digits = text.strip_prefix($letter)?;
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                digits.parse().ok().map($name)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($letter, "{}"), self.0)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                $name::parse(&text).ok_or_else(|| {
                    serde::de::Error::custom(concat!("not an id of the form ", $letter, "<number>"))
                })
            }
        }
    };
}

serial_id!(
    /// A token's `jti`: `t1`, `t2`, ... per server.
    TokenId,
    "t"
);
serial_id!(
    /// A login's family (`fam`): `f1`, `f2`, ... per server; every token
    /// refreshed from a login shares it.
    FamilyId,
    "f"
);
serial_id!(
    /// An OAuth refresh token's name: `r2`. Its number comes from the same
    /// counter as the access tokens' (`TokenId(n)` in the revocation store),
    /// so the two kinds never share a number.
    RefreshId,
    "r"
);

/// The claims every lab token carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    /// Issued at, on the lab clock, to the millisecond.
    pub iat: NumericDate,
    /// Expires at: the first lab millisecond at which the token is refused.
    pub exp: NumericDate,
    /// Unique per token.
    pub jti: TokenId,
    /// The login this token descends from.
    pub fam: FamilyId,
}

/// Signs and verifies tokens with this server's own key.
pub struct TokenAuthority {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    next_jti: AtomicU64,
    next_family: AtomicU64,
}

impl TokenAuthority {
    /// A fresh random 256-bit key: never a hard-coded secret.
    pub fn new() -> Self {
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        Self::with_key(&key)
    }

    /// A known key; for tests that forge tokens on purpose.
    pub fn with_key(key: &[u8]) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        // jsonwebtoken's default leeway is 60 s, which would hide every
        // expiry in the lab. Expiry is checked against the lab clock instead
        // (see `check_expiry` callers), so the library must not check it.
        validation.leeway = 0;
        validation.validate_exp = false;
        // The library reads `exp` as whole seconds only; ours may carry a
        // fraction. [`Claims`] requires every claim itself.
        validation.set_required_spec_claims(&["sub"]);
        TokenAuthority {
            encoding: EncodingKey::from_secret(key),
            decoding: DecodingKey::from_secret(key),
            validation,
            next_jti: AtomicU64::new(1),
            next_family: AtomicU64::new(1),
        }
    }

    /// A new refresh token id, numbered with the access tokens.
    pub fn new_refresh_id(&self) -> RefreshId {
        RefreshId(self.next_jti.fetch_add(1, Ordering::Relaxed))
    }

    /// A new family id, one per login.
    pub fn new_family(&self) -> FamilyId {
        FamilyId(self.next_family.fetch_add(1, Ordering::Relaxed))
    }

    /// Signs a token for `sub` in family `fam`, issued at `now` and valid
    /// for exactly `ttl_ms` from then.
    pub fn sign(
        &self,
        sub: &str,
        fam: FamilyId,
        now: NumericDate,
        ttl_ms: u64,
    ) -> (String, Claims) {
        let claims = Claims {
            sub: sub.to_owned(),
            iat: now,
            exp: now.plus_ms(ttl_ms),
            jti: TokenId(self.next_jti.fetch_add(1, Ordering::Relaxed)),
            fam,
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 signing of plain claims cannot fail");
        (token, claims)
    }

    /// Checks the signature and shape; says nothing about time or revocation.
    pub fn verify(&self, token: &str) -> Result<Claims, TokenFault> {
        // The common case first: a well-formed HS256 token. Only a failure
        // pays for reading the header again to say precisely what is wrong.
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|err| Self::explain(token, &err))
    }

    /// Why `token` failed to verify, in words a student can act on:
    /// `alg: none` and friends get named instead of a generic parse error.
    fn explain(token: &str, err: &jsonwebtoken::errors::Error) -> TokenFault {
        use jsonwebtoken::errors::ErrorKind;
        let parts = token.split('.').count();
        if parts != 3 {
            return TokenFault::Malformed(format!(
                "a JWT has 3 dot-separated parts, this one has {parts}"
            ));
        }
        let header: Option<serde_json::Value> = URL_SAFE_NO_PAD
            .decode(token.split('.').next().unwrap_or_default())
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok());
        let Some(header) = header else {
            return TokenFault::Malformed("the header is not base64url JSON".into());
        };
        match header.get("alg").and_then(|alg| alg.as_str()) {
            Some("HS256") => {}
            Some(other) => {
                return TokenFault::BadSignature(format!(
                    "algorithm {other} is not accepted; only HS256 is"
                ))
            }
            None => return TokenFault::Malformed("the header names no alg".into()),
        }
        // The library's own texts ("Base64 error: Invalid symbol 32") name
        // its internals; a student needs to know which part is wrong.
        TokenFault::Malformed(
            match err.kind() {
                ErrorKind::InvalidSignature
                | ErrorKind::InvalidAlgorithm
                | ErrorKind::InvalidAlgorithmName => {
                    return TokenFault::BadSignature("the signature does not match".into())
                }
                ErrorKind::Base64(_) => "a part of the token is not base64url",
                ErrorKind::Utf8(_) => "the token's payload is not UTF-8 text",
                ErrorKind::Json(_) | ErrorKind::MissingRequiredClaim(_) => {
                    "the payload lacks a claim the lab signs (sub, iat, exp, jti, fam) or has one of the wrong type"
                }
                _ => "the token cannot be read as a JWT",
            }
            .into(),
        )
    }
}

impl Default for TokenAuthority {
    fn default() -> Self {
        Self::new()
    }
}

/// Reads a token's `jti` without verifying it: what a browser client does
/// with a token it was handed (it cannot verify, it has no key).
pub fn peek_jti(token: &str) -> Option<String> {
    let payload = token.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload).ok()?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    value.get("jti")?.as_str().map(str::to_owned)
}

/// Reads a token's `exp` (lab ms) without verifying it, as a browser's
/// proactive refresh timer does.
pub fn peek_exp_ms(token: &str) -> Option<u64> {
    let payload = token.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload).ok()?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    NumericDate::deserialize(value.get("exp")?)
        .ok()
        .map(NumericDate::as_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_token_verifies_and_names_its_jti() {
        let authority = TokenAuthority::new();
        let (token, claims) =
            authority.sign("ada", FamilyId(1), NumericDate::from_ms(1_000_907), 5_000);
        assert_eq!(authority.verify(&token).unwrap(), claims);
        assert_eq!(peek_jti(&token).as_deref(), Some("t1"));
        assert_eq!(claims.exp, NumericDate::from_ms(1_005_907));
        let payload = URL_SAFE_NO_PAD
            .decode(token.split('.').nth(1).unwrap())
            .unwrap();
        let payload: serde_json::Value = serde_json::from_slice(&payload).unwrap();
        assert_eq!(payload["exp"], serde_json::json!(1005.907));
        assert_eq!(payload["fam"], "f1");
    }

    #[test]
    fn ids_read_only_what_the_server_mints() {
        assert_eq!(TokenId::parse("t12"), Some(TokenId(12)));
        assert_eq!(FamilyId(3).to_string(), "f3");
        for bad in ["t", "f12", "t-1", "t+1", "t1a", "t99999999999999999999"] {
            assert_eq!(TokenId::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn library_texts_do_not_reach_clients() {
        let authority = TokenAuthority::new();
        let fault = authority.verify("eyJhbGciOiJIUzI1NiJ9.a b.c").unwrap_err();
        assert_eq!(
            fault,
            TokenFault::Malformed("a part of the token is not base64url".into())
        );
    }

    #[test]
    fn another_servers_key_is_a_bad_signature() {
        let (token, _) =
            TokenAuthority::new().sign("ada", FamilyId(1), NumericDate::from_ms(1_000), 5_000);
        let fault = TokenAuthority::new().verify(&token).unwrap_err();
        assert!(matches!(fault, TokenFault::BadSignature(_)), "{fault:?}");
    }

    #[test]
    fn alg_none_is_refused() {
        let authority = TokenAuthority::new();
        let (token, _) = authority.sign("ada", FamilyId(1), NumericDate::from_ms(1_000), 5_000);
        let payload = token.split('.').nth(1).unwrap();
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let forged = format!("{header}.{payload}.");
        let fault = authority.verify(&forged).unwrap_err();
        assert!(matches!(fault, TokenFault::BadSignature(ref why) if why.contains("none")));
    }
}
