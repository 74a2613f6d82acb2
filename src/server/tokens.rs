//! Signing and checking tokens: HS256 with a random key per server.

use std::sync::atomic::{AtomicU64, Ordering};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};

use super::error::TokenFault;

/// The claims every lab token carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub iat: u64,
    pub exp: u64,
    /// Unique per token; short (`t1`, `t2`, ...) so the timeline can show it.
    pub jti: String,
    /// The login this token descends from.
    pub fam: String,
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
        validation.set_required_spec_claims(&["exp", "sub", "iat", "jti"]);
        TokenAuthority {
            encoding: EncodingKey::from_secret(key),
            decoding: DecodingKey::from_secret(key),
            validation,
            next_jti: AtomicU64::new(1),
            next_family: AtomicU64::new(1),
        }
    }

    /// A new family id, one per login.
    pub fn new_family(&self) -> String {
        format!("f{}", self.next_family.fetch_add(1, Ordering::Relaxed))
    }

    /// Signs a token for `sub` in family `fam`, valid for `ttl_s` from `now_s`.
    pub fn sign(&self, sub: &str, fam: &str, now_s: u64, ttl_s: u64) -> (String, Claims) {
        let claims = Claims {
            sub: sub.to_owned(),
            iat: now_s,
            exp: now_s + ttl_s,
            jti: format!("t{}", self.next_jti.fetch_add(1, Ordering::Relaxed)),
            fam: fam.to_owned(),
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
        match err.kind() {
            ErrorKind::InvalidSignature
            | ErrorKind::InvalidAlgorithm
            | ErrorKind::InvalidAlgorithmName => {
                TokenFault::BadSignature("the signature does not match".into())
            }
            _ => TokenFault::Malformed(format!("the token cannot be read: {err}")),
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_token_verifies_and_names_its_jti() {
        let authority = TokenAuthority::new();
        let (token, claims) = authority.sign("ada", "f1", 1_000, 5);
        assert_eq!(authority.verify(&token).unwrap(), claims);
        assert_eq!(peek_jti(&token).as_deref(), Some("t1"));
        assert_eq!(claims.exp, 1_005);
    }

    #[test]
    fn another_servers_key_is_a_bad_signature() {
        let (token, _) = TokenAuthority::new().sign("ada", "f1", 1_000, 5);
        let fault = TokenAuthority::new().verify(&token).unwrap_err();
        assert!(matches!(fault, TokenFault::BadSignature(_)), "{fault:?}");
    }

    #[test]
    fn alg_none_is_refused() {
        let authority = TokenAuthority::new();
        let (token, _) = authority.sign("ada", "f1", 1_000, 5);
        let payload = token.split('.').nth(1).unwrap();
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let forged = format!("{header}.{payload}.");
        let fault = authority.verify(&forged).unwrap_err();
        assert!(matches!(fault, TokenFault::BadSignature(ref why) if why.contains("none")));
    }
}
