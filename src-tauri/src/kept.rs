//! What the learner's page keeps across launches: the shell owns it.
//!
//! The page keeps its work (the learner's module, challenge progress, theme,
//! scale, the last setup) in `localStorage` under `refresh-race.*` keys. The
//! window loads the lab's server on a port picked at each launch, so its
//! origin, and with it `localStorage`, is new every time. The shell
//! therefore keeps a copy of those keys in one file of its own
//! (`kept.json` in the app's data folder):
//! - before the page's scripts run, an initialisation script puts the kept
//!   keys back into `localStorage`, so the page reads them as ever;
//! - every write of such a key is sent to the one command here, `keep`,
//!   which rewrites the file atomically (a killed app loses nothing).
//!
//! Only the main window's page, at the server's exact origin, may call
//! `keep` (a capability added at launch for that origin); keys outside
//! `refresh-race.*` and oversized values are refused. A file that cannot be
//! read (corrupt, another program's, another format) is moved aside, never
//! deleted, and the page says so; the app starts with nothing kept.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

/// The file's name in the app's data folder.
pub const FILE_NAME: &str = "kept.json";
/// What the file says it is, so another program's JSON is told apart.
const FORMAT: &str = "refresh-race/kept";
/// The file's layout; another one is set aside, not guessed at.
const VERSION: u32 = 1;
/// The page's keys; nothing else is kept.
pub const PREFIX: &str = "refresh-race.";
/// Largest value of one key: the learner's module is at most 64 KiB.
pub const MAX_VALUE_BYTES: usize = 256 * 1024;
/// Most keys kept.
pub const MAX_ITEMS: usize = 64;
/// Longest key.
pub const MAX_KEY_BYTES: usize = 100;
/// Largest file read back (the bounds above, and some room).
const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    format: String,
    version: u32,
    items: BTreeMap<String, String>,
}

/// The kept keys and the file they live in.
pub struct Kept {
    path: PathBuf,
    items: Mutex<BTreeMap<String, String>>,
}

/// A key or value `keep` refuses, or a file it could not write.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum KeepError {
    #[error("only keys starting with {PREFIX} are kept (got {0:?})")]
    ForeignKey(String),
    #[error("a kept key is at most {MAX_KEY_BYTES} bytes")]
    LongKey,
    #[error("{key} is {bytes} bytes: at most {MAX_VALUE_BYTES} are kept")]
    LargeValue { key: String, bytes: usize },
    #[error("at most {MAX_ITEMS} keys are kept")]
    TooMany,
    #[error("cannot write {path}: {message}")]
    Write { path: String, message: String },
}

impl Kept {
    /// Reads `path` (a missing file: nothing kept). Returns the store and,
    /// when the file could not be used, a sentence for the page.
    pub fn load(path: PathBuf) -> (Kept, Option<String>) {
        let (items, note) = match read(&path) {
            Ok(items) => (items, None),
            Err(Unreadable::Missing) => (BTreeMap::new(), None),
            Err(Unreadable::Bad(reason)) => {
                let aside = set_aside(&path);
                let note = format!(
                    "Your kept work could not be read ({reason}): it was ignored, and the app starts with nothing kept. {}",
                    match aside {
                        Ok(aside) => format!("The file is kept as {}.", aside.display()),
                        Err(err) => format!("{} could not be moved aside: {err}.", path.display()),
                    }
                );
                (BTreeMap::new(), Some(note))
            }
        };
        let kept = Kept {
            path,
            items: Mutex::new(items),
        };
        (kept, note)
    }

    /// A copy of the kept keys.
    pub fn items(&self) -> BTreeMap<String, String> {
        self.items.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Sets (`Some`) or removes (`None`) one key, and writes the file.
    pub fn keep(&self, key: &str, value: Option<&str>) -> Result<(), KeepError> {
        if !key.starts_with(PREFIX) {
            return Err(KeepError::ForeignKey(key.chars().take(40).collect()));
        }
        if key.len() > MAX_KEY_BYTES {
            return Err(KeepError::LongKey);
        }
        let mut items = self.items.lock().unwrap_or_else(|e| e.into_inner());
        match value {
            Some(value) if value.len() > MAX_VALUE_BYTES => {
                return Err(KeepError::LargeValue {
                    key: key.to_owned(),
                    bytes: value.len(),
                })
            }
            Some(value) => {
                if items.get(key).map(String::as_str) == Some(value) {
                    return Ok(());
                }
                if !items.contains_key(key) && items.len() >= MAX_ITEMS {
                    return Err(KeepError::TooMany);
                }
                items.insert(key.to_owned(), value.to_owned());
            }
            None => {
                if items.remove(key).is_none() {
                    return Ok(());
                }
            }
        }
        // Written while the lock is held: two writes never interleave.
        let file = File {
            format: FORMAT.to_owned(),
            version: VERSION,
            items: items.clone(),
        };
        let bytes = serde_json::to_vec_pretty(&file).expect("strings always serialise");
        if let Some(dir) = self.path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        refresh_race::save::write_atomically(&self.path, &bytes).map_err(|err| KeepError::Write {
            path: self.path.display().to_string(),
            message: err.to_string(),
        })
    }

    /// The script that runs before the page's own at `origin`: puts the
    /// kept keys back and sends every later write of one to `keep`.
    pub fn init_script(&self, origin: &str, note: Option<&str>) -> String {
        include_str!("kept.js")
            .replace("__ORIGIN__", &json(&origin))
            .replace("__PREFIX__", &json(&PREFIX))
            .replace("__ITEMS__", &json(&self.items()))
            .replace("__NOTE__", &json(&note))
    }
}

/// JSON text of a value (a JavaScript literal), for the script template.
fn json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("strings always serialise")
}

enum Unreadable {
    Missing,
    Bad(String),
}

fn read(path: &Path) -> Result<BTreeMap<String, String>, Unreadable> {
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Err(Unreadable::Missing),
        Err(err) => return Err(Unreadable::Bad(err.to_string())),
    };
    if meta.len() > MAX_FILE_BYTES {
        return Err(Unreadable::Bad(format!(
            "{} bytes, more than {MAX_FILE_BYTES}",
            meta.len()
        )));
    }
    let bytes = std::fs::read(path).map_err(|err| Unreadable::Bad(err.to_string()))?;
    let file: File = serde_json::from_slice(&bytes)
        .map_err(|err| Unreadable::Bad(format!("not a file of this app: {err}")))?;
    if file.format != FORMAT {
        return Err(Unreadable::Bad(format!(
            "its format is {:?}, not {FORMAT:?}",
            file.format.chars().take(40).collect::<String>()
        )));
    }
    if file.version != VERSION {
        return Err(Unreadable::Bad(format!(
            "version {} of the file, this app reads version {VERSION}",
            file.version
        )));
    }
    if file.items.len() > MAX_ITEMS {
        return Err(Unreadable::Bad(format!(
            "{} keys, more than {MAX_ITEMS}",
            file.items.len()
        )));
    }
    if let Some((key, _)) = file.items.iter().find(|(key, value)| {
        !key.starts_with(PREFIX) || key.len() > MAX_KEY_BYTES || value.len() > MAX_VALUE_BYTES
    }) {
        return Err(Unreadable::Bad(format!(
            "a key this app does not keep: {:?}",
            key.chars().take(40).collect::<String>()
        )));
    }
    Ok(file.items)
}

/// Moves an unreadable file out of the way: `kept.json.unreadable` (or
/// `.unreadable-2`, …: an earlier one is never overwritten).
fn set_aside(path: &Path) -> std::io::Result<PathBuf> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| FILE_NAME.to_owned());
    let aside = (1..1000)
        .map(|n| {
            let suffix = if n == 1 {
                String::new()
            } else {
                format!("-{n}")
            };
            path.with_file_name(format!("{name}.unreadable{suffix}"))
        })
        .find(|candidate| !candidate.exists())
        .ok_or_else(|| std::io::Error::other("too many unreadable copies"))?;
    std::fs::rename(path, &aside)?;
    Ok(aside)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("rr-kept-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn kept_keys_come_back_after_a_relaunch() {
        let dir = scratch("relaunch");
        let path = dir.join(FILE_NAME);
        let (kept, note) = Kept::load(path.clone());
        assert_eq!(note, None, "no file yet: nothing to say");
        kept.keep("refresh-race.theme", Some("presenter")).unwrap();
        kept.keep("refresh-race.interceptor", Some("export function x() {}"))
            .unwrap();
        kept.keep("refresh-race.scale", Some("2")).unwrap();
        kept.keep("refresh-race.scale", None).unwrap();
        let (again, note) = Kept::load(path);
        assert_eq!(note, None);
        let items = again.items();
        assert_eq!(items.len(), 2);
        assert_eq!(items["refresh-race.theme"], "presenter");
        assert_eq!(items["refresh-race.interceptor"], "export function x() {}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn keep_refuses_foreign_keys_and_oversized_values() {
        let dir = scratch("refuse");
        let (kept, _) = Kept::load(dir.join(FILE_NAME));
        assert_eq!(
            kept.keep("token", Some("x")),
            Err(KeepError::ForeignKey("token".into()))
        );
        let big = "x".repeat(MAX_VALUE_BYTES + 1);
        assert!(matches!(
            kept.keep("refresh-race.interceptor", Some(&big)),
            Err(KeepError::LargeValue { bytes, .. }) if bytes == MAX_VALUE_BYTES + 1
        ));
        for n in 0..MAX_ITEMS {
            kept.keep(&format!("refresh-race.k{n}"), Some("1")).unwrap();
        }
        assert_eq!(
            kept.keep("refresh-race.one-more", Some("1")),
            Err(KeepError::TooMany)
        );
        assert!(!dir
            .join(FILE_NAME)
            .with_extension("json.unreadable")
            .exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_corrupt_or_foreign_file_is_set_aside_with_a_note() {
        let dir = scratch("corrupt");
        let path = dir.join(FILE_NAME);
        for (text, says) in [
            ("{not json", "not a file of this app"),
            (r#"{"theme":"dark"}"#, "not a file of this app"),
            (
                r#"{"format":"other/app","version":1,"items":{}}"#,
                "its format is \"other/app\"",
            ),
            (
                r#"{"format":"refresh-race/kept","version":9,"items":{}}"#,
                "version 9 of the file",
            ),
            (
                r#"{"format":"refresh-race/kept","version":1,"items":{"token":"x"}}"#,
                "a key this app does not keep",
            ),
        ] {
            std::fs::write(&path, text).unwrap();
            let (kept, note) = Kept::load(path.clone());
            let note = note.expect("an unreadable file is reported");
            assert!(note.contains(says), "{note}");
            assert!(kept.items().is_empty());
            assert!(!path.exists(), "moved out of the way");
            // Moved aside, not deleted: the newest copy holds this text.
            let aside = (1..)
                .map(|n| {
                    let suffix = if n == 1 {
                        String::new()
                    } else {
                        format!("-{n}")
                    };
                    dir.join(format!("{FILE_NAME}.unreadable{suffix}"))
                })
                .take_while(|p| p.exists())
                .last()
                .unwrap();
            assert_eq!(std::fs::read_to_string(aside).unwrap(), text);
            // And the app keeps working: the next write makes a good file.
            kept.keep("refresh-race.theme", Some("presenter")).unwrap();
            assert_eq!(Kept::load(path.clone()).0.items().len(), 1);
            std::fs::remove_file(&path).unwrap();
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_script_carries_the_items_as_json() {
        let dir = scratch("script");
        let (kept, _) = Kept::load(dir.join(FILE_NAME));
        kept.keep("refresh-race.interceptor", Some("\"quoted\" </script>\n"))
            .unwrap();
        let script = kept.init_script("http://127.0.0.1:4321", Some("a note"));
        assert!(script.contains(r#""http://127.0.0.1:4321""#));
        assert!(script.contains(r#"{"refresh-race.interceptor":"\"quoted\" </script>\n"}"#));
        assert!(script.contains(r#""a note""#));
        assert!(!script.contains("__ITEMS__") && !script.contains("__ORIGIN__"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
