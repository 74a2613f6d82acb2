//! A run as a link: its settings (a hand order included) and, optionally, the
//! learner's module, in a URL fragment the page and the CLI both read.
//!
//! `#s=1.DATA`: `1` is the format's version; DATA is the JSON
//! `{"settings": RunSettings, "source": "…"}`, compressed as zlib (deflate
//! with an Adler-32 checksum, what the page's `CompressionStream("deflate")`
//! writes) and written in base64url without padding. The checksum is why it
//! is zlib and not raw deflate: a link edited by hand or cut short is refused
//! as damaged instead of being read as some other setup.
//!
//! A link is input from anyone: it is bounded before it is decoded (its
//! length, and what it inflates to), and its settings go through
//! [`RunSettings::validate`] like any other. The page (ui/lib/link.js) reads
//! the same format with the same bounds, which `/lab/options` hands it.

use std::io::Read;

use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::settings::{RunSettings, SettingsError};

/// The format this build writes and reads.
pub const LINK_VERSION: u32 = 1;
/// Where a link's setup starts in a URL.
pub const FRAGMENT_PREFIX: &str = "#s=";
/// Longest fragment read, in characters: a setup takes a few hundred, a
/// learner's module a few thousand more.
pub const MAX_LINK_CHARS: usize = 32 * 1024;
/// Most bytes a link's JSON may inflate to (a guard against a small link
/// that unpacks into a huge one).
pub const MAX_LINK_JSON_BYTES: usize = 160 * 1024;
/// Where `refresh-race link` points by default: `refresh-race serve`'s page.
pub const DEFAULT_BASE: &str = "http://127.0.0.1:3000/";

/// What a link holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Link {
    pub settings: RunSettings,
    /// The learner's module (JavaScript), which the page loads into its
    /// editor and runs only when the learner presses Run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// Why a link was refused, naming what was refused.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error("this is not a Refresh Race link: it has no {FRAGMENT_PREFIX} part")]
    NoSetup,
    #[error("the link is {got} characters long: at most {MAX_LINK_CHARS} are read")]
    TooLong { got: usize },
    #[error("the link is of format {got}: this Refresh Race reads format {LINK_VERSION} links")]
    OtherVersion { got: String },
    #[error("the link is damaged ({0}): was it edited or cut short?")]
    Damaged(String),
    #[error("the link unpacks to more than {MAX_LINK_JSON_BYTES} bytes")]
    TooLarge,
    #[error("the link's setup is not one this Refresh Race knows: {0}")]
    Shape(String),
    #[error("the link's setup was refused: {0}")]
    Settings(#[from] SettingsError),
}

/// The fragment (`#s=1.…`) of `link`.
pub fn encode(link: &Link) -> String {
    let json = serde_json::to_vec(link).expect("settings always serialise");
    let mut zlib = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    std::io::Write::write_all(&mut zlib, &json).expect("writing to memory cannot fail");
    let bytes = zlib.finish().expect("writing to memory cannot fail");
    format!(
        "{FRAGMENT_PREFIX}{LINK_VERSION}.{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// Reads a link (a whole URL, or its fragment alone) and checks its settings.
pub fn decode(text: &str) -> Result<Link, LinkError> {
    let text = text.trim();
    let at = text.find(FRAGMENT_PREFIX).ok_or(LinkError::NoSetup)?;
    let fragment = &text[at..];
    let chars = fragment.chars().count();
    if chars > MAX_LINK_CHARS {
        return Err(LinkError::TooLong { got: chars });
    }
    let body = &fragment[FRAGMENT_PREFIX.len()..];
    // Anything after the data (another `&key=` a chat app added) is not ours.
    let body = body.split('&').next().unwrap_or_default();
    let (version, data) = body
        .split_once('.')
        .ok_or_else(|| LinkError::Damaged("no version before the data".into()))?;
    if version != LINK_VERSION.to_string() {
        let shown: String = version.chars().take(12).collect();
        return Err(LinkError::OtherVersion { got: shown });
    }
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(data)
        .map_err(|err| LinkError::Damaged(format!("not base64url: {err}")))?;
    let mut json = Vec::new();
    flate2::read::ZlibDecoder::new(bytes.as_slice())
        .take(MAX_LINK_JSON_BYTES as u64 + 1)
        .read_to_end(&mut json)
        .map_err(|err| LinkError::Damaged(format!("it does not unpack: {err}")))?;
    if json.len() > MAX_LINK_JSON_BYTES {
        return Err(LinkError::TooLarge);
    }
    let link: Link =
        serde_json::from_slice(&json).map_err(|err| LinkError::Shape(err.to_string()))?;
    link.settings.validate()?;
    Ok(link)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::{NetworkDriver, Policy, Strategy};

    fn hand_run() -> Link {
        Link {
            settings: RunSettings {
                strategy: Strategy::Queue,
                policy: Policy::Family,
                network: NetworkDriver::Hand,
                deliver: vec!["secret#1>".parse().unwrap(), "secret#1<".parse().unwrap()],
                ..RunSettings::default()
            },
            source: None,
        }
    }

    #[test]
    fn a_link_reads_back_as_it_was_written() {
        let link = hand_run();
        let fragment = encode(&link);
        assert!(fragment.starts_with("#s=1."), "{fragment}");
        assert_eq!(decode(&fragment).unwrap(), link);
        let url = format!("{DEFAULT_BASE}{fragment}");
        assert_eq!(decode(&url).unwrap(), link);
    }

    #[test]
    fn every_changed_character_is_refused() {
        let fragment = encode(&hand_run());
        let data_at = "#s=1.".len();
        let mut refused = 0;
        for at in data_at..fragment.len() {
            let mut bytes = fragment.clone().into_bytes();
            bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
            let edited = String::from_utf8(bytes).unwrap();
            match decode(&edited) {
                Err(LinkError::Damaged(_)) | Err(LinkError::Shape(_)) => refused += 1,
                other => panic!("character {at} changed, and the link read as {other:?}"),
            }
        }
        assert_eq!(refused, fragment.len() - data_at);
    }

    #[test]
    fn bad_links_say_what_was_refused() {
        let fragment = encode(&hand_run());
        let other = fragment.replacen("#s=1.", "#s=2.", 1);
        assert_eq!(
            decode(&other).unwrap_err().to_string(),
            "the link is of format 2: this Refresh Race reads format 1 links"
        );
        let long = format!("#s=1.{}", "A".repeat(MAX_LINK_CHARS));
        assert!(matches!(decode(&long), Err(LinkError::TooLong { .. })));
        assert!(matches!(
            decode("https://example.org/"),
            Err(LinkError::NoSetup)
        ));
        let cut = &fragment[..fragment.len() - 4];
        assert!(matches!(decode(cut), Err(LinkError::Damaged(_))));

        let out_of_range = Link {
            settings: RunSettings {
                secret: 0,
                ..RunSettings::default()
            },
            source: None,
        };
        assert_eq!(
            decode(&encode(&out_of_range)).unwrap_err().to_string(),
            "the link's setup was refused: secret must be between 1 and 10000 (got 0)"
        );
    }

    #[test]
    fn a_small_link_that_unpacks_into_a_huge_one_is_refused() {
        let json = format!(
            r#"{{"settings":{{}},"source":"{}"}}"#,
            " ".repeat(MAX_LINK_JSON_BYTES)
        );
        let mut zlib = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        std::io::Write::write_all(&mut zlib, json.as_bytes()).unwrap();
        let data = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(zlib.finish().unwrap());
        let fragment = format!("#s=1.{data}");
        assert!(fragment.len() < MAX_LINK_CHARS, "{}", fragment.len());
        assert!(matches!(decode(&fragment), Err(LinkError::TooLarge)));
    }
}
