//! Signing and checking tokens: HS256 with a random key per server.

use std::cell::RefCell;
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
    /// Unique in the process, never reused: the verified-token cache is
    /// shared by every authority on a thread, and an entry may only answer
    /// for the authority (the key) that verified it.
    id: u64,
}

/// Source of [`TokenAuthority`] ids.
static NEXT_AUTHORITY: AtomicU64 = AtomicU64::new(1);

/// Slots of each thread's verified-token cache (direct-mapped).
const VERIFIED_SLOTS: usize = 256;
/// Longer tokens (a login name can be long) are verified every time, so a
/// slot stays small: 256 slots of at most 1 KiB per worker thread.
const VERIFIED_MAX_LEN: usize = 1024;

/// A token string that `authority` verified, and what it said.
struct Verified {
    authority: u64,
    token: Box<str>,
    claims: Claims,
}

thread_local! {
    /// Tokens verified lately on this thread. Per thread so that a hit takes
    /// no lock and bounces no cache line between cores; a miss only costs
    /// the verification it would have cost anyway.
    static VERIFIED: RefCell<Vec<Option<Verified>>> = const { RefCell::new(Vec::new()) };
}

/// The cache slot of `token`. Our signature ends the token and is uniformly
/// random, so its last bytes spread tokens over the slots without hashing
/// the whole string; a crafted token can only evict, never match (see
/// [`TokenAuthority::verify_access`]).
fn slot_of(token: &str) -> usize {
    let tail = &token.as_bytes()[token.len().saturating_sub(8)..];
    let folded = tail.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
    (folded.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56) as usize % VERIFIED_SLOTS
}

/// Byte equality in time that depends on the length only: a cached entry is
/// a valid token, and an early exit would tell a prober how many of its
/// leading bytes (eventually the signature) they got right.
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len()
        && std::hint::black_box(a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y))) == 0
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
            id: NEXT_AUTHORITY.fetch_add(1, Ordering::Relaxed),
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

    /// [`TokenAuthority::verify`] for access, remembering what it verified:
    /// a token presented again (every request of a session) skips the
    /// base64, the HMAC and the JSON. Exactly as strict as `verify`, which
    /// is a pure function of key and string (it checks no time, see
    /// `with_key`): a hit needs this authority and the very same bytes, so
    /// a tampered token never matches. Revocation and expiry are the
    /// caller's, checked on every request, cached or not.
    pub fn verify_access(&self, token: &str) -> Result<Claims, TokenFault> {
        let slot = slot_of(token);
        let hit = VERIFIED
            .try_with(|cache| match cache.borrow().get(slot) {
                Some(Some(entry))
                    if entry.authority == self.id
                        && same_bytes(entry.token.as_bytes(), token.as_bytes()) =>
                {
                    Some(entry.claims.clone())
                }
                _ => None,
            })
            .ok()
            .flatten();
        if let Some(claims) = hit {
            return Ok(claims);
        }
        let claims = self.verify(token)?;
        if token.len() <= VERIFIED_MAX_LEN {
            let entry = Verified {
                authority: self.id,
                token: token.into(),
                claims: claims.clone(),
            };
            // A thread being torn down has no cache: nothing to remember.
            let _ = VERIFIED.try_with(|cache| {
                let mut slots = cache.borrow_mut();
                if slots.is_empty() {
                    slots.resize_with(VERIFIED_SLOTS, || None);
                }
                slots[slot] = Some(entry);
            });
        }
        Ok(claims)
    }

    /// Whether this thread's cache holds `token` for this authority.
    #[cfg(test)]
    fn is_cached(&self, token: &str) -> bool {
        VERIFIED.with_borrow(|slots| {
            matches!(slots.get(slot_of(token)), Some(Some(entry))
                if entry.authority == self.id && &*entry.token == token)
        })
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
    // Only the jti: the other claims are skipped, not built into a tree.
    #[derive(Deserialize)]
    struct Peeked {
        jti: Option<String>,
    }
    let peeked: Peeked = serde_json::from_slice(&bytes).ok()?;
    // Read from tokens nobody verified yet, and recorded on events: one of
    // ours is 8 characters, a longer one is not worth keeping.
    peeked.jti.filter(|jti| jti.len() <= MAX_PEEKED_JTI)
}

/// Longest jti read from an unverified token.
const MAX_PEEKED_JTI: usize = 64;

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
    fn the_access_cache_answers_only_for_the_same_bytes_and_key() {
        let authority = TokenAuthority::with_key(b"a key the tests know");
        let (token, claims) =
            authority.sign("ada", FamilyId(1), NumericDate::from_ms(1_000), 5_000);
        assert_eq!(authority.verify_access(&token).unwrap(), claims);
        assert!(authority.is_cached(&token));
        assert_eq!(authority.verify_access(&token).unwrap(), claims);
        // Tampered anywhere — header, payload, signature, a byte more or
        // less — it is a different string: verified afresh and refused.
        let mut tampered = Vec::new();
        for at in [3, token.find('.').unwrap() + 5, token.len() - 2] {
            let mut bytes = token.clone().into_bytes();
            bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
            tampered.push(String::from_utf8(bytes).unwrap());
        }
        tampered.push(format!("{token}A"));
        tampered.push(token[..token.len() - 1].to_owned());
        for forged in &tampered {
            assert!(authority.verify_access(forged).is_err(), "{forged}");
        }
        // The same slot, tail and length, another signature (a crafted
        // collision): still refused, and the real token stays cached.
        let (head, _) = token.rsplit_once('.').unwrap();
        let signature = &token[head.len() + 1..];
        let collision = format!(
            "{head}.{}{}",
            "A".repeat(signature.len() - 8),
            &signature[signature.len() - 8..]
        );
        assert_eq!(slot_of(&collision), slot_of(&token));
        assert!(authority.verify_access(&collision).is_err());
        assert_eq!(authority.verify_access(&token).unwrap(), claims);
        // Another server (another key) never answers from this entry, even
        // on the same thread; nor does one with the same key but its own
        // cache identity skip the check — it verifies and accepts.
        let other = TokenAuthority::new();
        assert!(matches!(
            other.verify_access(&token),
            Err(TokenFault::BadSignature(_))
        ));
        let twin = TokenAuthority::with_key(b"a key the tests know");
        assert!(!twin.is_cached(&token));
        assert_eq!(twin.verify_access(&token).unwrap(), claims);
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
