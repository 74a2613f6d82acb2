//! The lab clock: wall-clock time that a run can move forward.
//!
//! Token expiry is checked against this clock, never the system's, so a case
//! can start "6 seconds later" at once and no test ever sleeps for expiry.
//! It counts milliseconds, and so do token lifetimes ([`NumericDate`]).

use std::borrow::Cow;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Milliseconds since the Unix epoch, as the lab sees them.
#[derive(Clone)]
pub struct LabClock {
    inner: Arc<ClockInner>,
}

struct ClockInner {
    /// Wall-clock ms when the clock was made: tokens carry realistic dates.
    base_ms: u64,
    /// Monotonic reference, so a system clock change cannot jump the lab.
    started: Instant,
    /// Lab ms per real ms: below 1 in slow motion, so a run slowed down ten
    /// times does not also age its tokens ten times faster.
    rate: f64,
    /// Time travelled forward so far.
    offset_ms: AtomicU64,
    /// Real time during which the clock stood still (see [`LabClock::hold`]).
    stops: Mutex<Stops>,
}

#[derive(Default)]
struct Stops {
    /// Open [`ClockHold`]s; the clock stands still while there is one.
    holders: usize,
    /// When the current stop began.
    since: Option<Instant>,
    /// Length of every stop that ended.
    total: Duration,
    /// A held run's pause: one more holder while it lasts.
    paused: bool,
}

impl LabClock {
    /// A clock that runs at real speed.
    pub fn new() -> Self {
        Self::with_rate(1.0)
    }

    /// A clock that advances `rate` lab ms per real ms (the run's speed).
    pub fn with_rate(rate: f64) -> Self {
        let base_ms = wall_now_ms();
        LabClock {
            inner: Arc::new(ClockInner {
                base_ms,
                started: Instant::now(),
                rate,
                offset_ms: AtomicU64::new(0),
                stops: Mutex::new(Stops::default()),
            }),
        }
    }

    /// A clock that moves only by time travel: tests that need to know the
    /// exact lab millisecond of every request.
    pub fn frozen() -> Self {
        Self::with_rate(0.0)
    }

    /// Lab time in ms.
    pub fn now_ms(&self) -> u64 {
        let running = {
            let stops = self.stops();
            let until = stops.since.unwrap_or_else(Instant::now);
            until
                .saturating_duration_since(self.inner.started)
                .saturating_sub(stops.total)
        };
        let elapsed_ms = running.as_secs_f64() * 1000.0;
        self.inner.base_ms
            + (elapsed_ms * self.inner.rate) as u64
            + self.inner.offset_ms.load(Ordering::SeqCst)
    }

    /// Stops the clock until [`LabClock::resume`] (time travel still moves
    /// it): a held run (step or hand) stands still, so a learner who thinks
    /// for a minute does not expire the tokens. Idempotent.
    pub fn pause(&self) {
        let mut stops = self.stops();
        if !stops.paused {
            stops.paused = true;
            stops.start_one();
        }
    }

    /// Lets a paused clock run again from where it stood. Idempotent.
    pub fn resume(&self) {
        let mut stops = self.stops();
        if stops.paused {
            stops.paused = false;
            stops.end_one();
        }
    }

    /// Lab ms per real ms (the run's speed).
    pub fn rate(&self) -> f64 {
        self.inner.rate
    }

    /// Lab time, as a token's `iat` or `exp`.
    pub fn now(&self) -> NumericDate {
        NumericDate::from_ms(self.now_ms())
    }

    /// Stops the clock until the returned guard drops (and every other
    /// guard with it). A run holds its clock while a request waits for one
    /// of the client's connection slots: that wait measures the machine,
    /// not the race, so tokens must not age during it.
    pub fn hold(&self) -> ClockHold {
        self.stops().start_one();
        ClockHold {
            clock: self.clone(),
        }
    }

    fn stops(&self) -> std::sync::MutexGuard<'_, Stops> {
        // Every update is a few plain assignments: a poisoned lock is consistent.
        self.inner.stops.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Time travel: moves the lab forward by `ms`; returns the new lab time.
    pub fn advance_ms(&self, ms: u64) -> u64 {
        self.inner.offset_ms.fetch_add(ms, Ordering::SeqCst);
        self.now_ms()
    }
}

/// Keeps a [`LabClock`] standing still while it lives.
pub struct ClockHold {
    clock: LabClock,
}

impl Drop for ClockHold {
    fn drop(&mut self) {
        self.clock.stops().end_one();
    }
}

impl Stops {
    /// One more reason to stand still (a hold, or a held run's pause).
    fn start_one(&mut self) {
        if self.holders == 0 {
            self.since = Some(Instant::now());
        }
        self.holders += 1;
    }

    /// One reason fewer; the clock runs again when none is left.
    fn end_one(&mut self) {
        self.holders = self.holders.saturating_sub(1);
        if self.holders == 0 {
            if let Some(since) = self.since.take() {
                self.total += since.elapsed();
            }
        }
    }
}

/// A lab instant to the millisecond, written the JWT way (RFC 7519
/// NumericDate): seconds since the epoch, with a fraction unless whole
/// (`1764380005.907`). Whole seconds would let a token issued at …907 ms die
/// 907 ms early; the fraction lets it live exactly its lifetime.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NumericDate {
    ms: u64,
}

impl NumericDate {
    pub const fn from_ms(ms: u64) -> Self {
        NumericDate { ms }
    }

    /// Milliseconds since the epoch.
    pub const fn as_ms(self) -> u64 {
        self.ms
    }

    /// This instant plus `ms` milliseconds.
    pub const fn plus_ms(self, ms: u64) -> Self {
        NumericDate { ms: self.ms + ms }
    }
}

impl fmt::Display for NumericDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.ms % 1000 {
            0 => write!(f, "{}", self.ms / 1000),
            frac => {
                let digits = format!("{frac:03}");
                write!(f, "{}.{}", self.ms / 1000, digits.trim_end_matches('0'))
            }
        }
    }
}

impl Serialize for NumericDate {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.ms.is_multiple_of(1000) {
            serializer.serialize_u64(self.ms / 1000)
        } else {
            // The shortest decimal that reads back as this f64: three
            // fraction digits at most, so reading it back rounds exactly.
            serializer.serialize_f64(self.ms as f64 / 1000.0)
        }
    }
}

impl<'de> Deserialize<'de> for NumericDate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let seconds = f64::deserialize(deserializer)?;
        if !(seconds.is_finite() && seconds >= 0.0) {
            return Err(serde::de::Error::custom(
                "a date must be a non-negative number of seconds",
            ));
        }
        Ok(NumericDate::from_ms((seconds * 1000.0).round() as u64))
    }
}

impl JsonSchema for NumericDate {
    fn schema_name() -> Cow<'static, str> {
        "NumericDate".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "number",
            "minimum": 0,
            "description": "Seconds since the Unix epoch on the lab clock, to the millisecond (RFC 7519 NumericDate): a fraction unless whole."
        })
    }
}

/// Wall-clock ms since the Unix epoch: where every new lab clock starts.
pub fn wall_now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl Default for LabClock {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advancing_moves_now_forward_at_once() {
        let clock = LabClock::new();
        let before = clock.now_ms();
        let after = clock.advance_ms(6_000);
        assert!(after >= before + 6_000);
        assert!(after < before + 7_000);
    }

    #[test]
    fn a_paused_clock_stands_still_but_can_travel() {
        let clock = LabClock::new();
        clock.pause();
        let frozen = clock.now_ms();
        std::thread::sleep(std::time::Duration::from_millis(30));
        assert_eq!(clock.now_ms(), frozen);
        assert_eq!(clock.advance_ms(6_000), frozen + 6_000);
        clock.resume();
        let resumed = clock.now_ms();
        assert!(resumed >= frozen + 6_000 && resumed < frozen + 6_020);
    }

    #[test]
    fn a_held_clock_stands_still_until_every_hold_ends() {
        let clock = LabClock::new();
        let first = clock.hold();
        let second = clock.hold();
        let at = clock.now_ms();
        std::thread::sleep(std::time::Duration::from_millis(200));
        drop(first);
        assert_eq!(clock.now_ms(), at, "one hold is still open");
        drop(second);
        std::thread::sleep(std::time::Duration::from_millis(20));
        let ran = clock.now_ms() - at;
        // It ran for the 20 ms after the holds, not the 200 ms during them.
        assert!((20..200).contains(&ran), "{ran} ms");
    }

    #[test]
    fn numeric_dates_keep_their_milliseconds() {
        for (ms, text) in [
            (1_764_380_005_907, "1764380005.907"),
            (5_000, "5"),
            (1_250, "1.25"),
        ] {
            let date = NumericDate::from_ms(ms);
            assert_eq!(serde_json::to_string(&date).unwrap(), text);
            assert_eq!(date.to_string(), text);
            assert_eq!(serde_json::from_str::<NumericDate>(text).unwrap(), date);
        }
        assert!(serde_json::from_str::<NumericDate>("-1").is_err());
    }

    #[test]
    fn a_slowed_clock_ages_slower() {
        let real = LabClock::new();
        let slow = LabClock::with_rate(0.001);
        let (real_start, slow_start) = (real.now_ms(), slow.now_ms());
        std::thread::sleep(std::time::Duration::from_millis(50));
        assert!(real.now_ms() - real_start >= 50);
        assert!(slow.now_ms() - slow_start <= 1);
    }
}
