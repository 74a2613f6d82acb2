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
    /// Its lock serialises the changes; `now_ms` reads `view` instead.
    stops: Mutex<Stops>,
    /// What `now_ms` needs of `stops`, in one word, so that reading the
    /// clock (every request checks expiry) takes no lock: with [`STOOD`] set,
    /// the running time (ns) at which the clock stands; otherwise the total
    /// of the stops that ended (ns).
    view: AtomicU64,
    /// Odd while `view` is being changed (a seqlock): a reader that sampled
    /// the real time while a stop began or ended reads again, so no reader
    /// ever sees the clock move backwards.
    version: AtomicU64,
}

/// The flag bit of [`ClockInner::view`]: the clock stands still.
const STOOD: u64 = 1 << 63;

/// Lock-free reads of the clock tried before waiting on its lock.
const READ_ATTEMPTS: usize = 64;

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
                view: AtomicU64::new(0),
                version: AtomicU64::new(0),
            }),
        }
    }

    /// A clock that moves only by time travel: tests that need to know the
    /// exact lab millisecond of every request.
    pub fn frozen() -> Self {
        Self::with_rate(0.0)
    }

    /// Lab time in ms. Lock-free unless a hold or pause is changing the
    /// clock at that very moment: see [`ClockInner::version`].
    pub fn now_ms(&self) -> u64 {
        let inner = &*self.inner;
        let running_ns = (0..READ_ATTEMPTS)
            .find_map(|_| {
                let version = inner.version.load(Ordering::Acquire);
                if version.is_multiple_of(2) {
                    let now = Instant::now();
                    let view = inner.view.load(Ordering::Acquire);
                    if inner.version.load(Ordering::Acquire) == version {
                        return Some(running_ns(inner.started, now, view));
                    }
                }
                std::hint::spin_loop();
                None
            })
            .unwrap_or_else(|| {
                // The writer holds the lock while it changes the word; if it
                // was preempted there, wait for it on the lock, not spinning.
                let stops = self.stops();
                let until = stops.since.unwrap_or_else(Instant::now);
                let running = until
                    .saturating_duration_since(inner.started)
                    .saturating_sub(stops.total);
                running.as_nanos() as u64
            });
        let elapsed_ms = running_ns as f64 / 1e6;
        inner.base_ms + (elapsed_ms * inner.rate) as u64 + inner.offset_ms.load(Ordering::SeqCst)
    }

    /// Stops the clock until [`LabClock::resume`] (time travel still moves
    /// it): a held run (step or hand) stands still, so a learner who thinks
    /// for a minute does not expire the tokens. Idempotent.
    pub fn pause(&self) {
        let mut stops = self.stops();
        if !stops.paused {
            stops.paused = true;
            self.inner.publish(&mut stops, Stops::start_one);
        }
    }

    /// Lets a paused clock run again from where it stood. Idempotent.
    pub fn resume(&self) {
        let mut stops = self.stops();
        if stops.paused {
            stops.paused = false;
            self.inner.publish(&mut stops, Stops::end_one);
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
    /// guard with it). A run holds its clock while it sets up (login, the
    /// burst's lanes spawned) and while a request waits for one of the
    /// client's connection slots: those waits measure the machine, not the
    /// race, so tokens must not age during them.
    pub fn hold(&self) -> ClockHold {
        self.start_one();
        ClockHold {
            clock: self.clone(),
        }
    }

    /// One more reason to stand still.
    fn start_one(&self) {
        self.inner.publish(&mut self.stops(), Stops::start_one);
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
        let clock = &self.clock;
        clock.inner.publish(&mut clock.stops(), Stops::end_one);
    }
}

impl ClockInner {
    /// Applies `change` to `stops` (whose lock the caller holds) and
    /// publishes the result to lock-free readers. The change samples the
    /// real time while `version` is odd, so a reader whose own sample
    /// could fall on the wrong side of it reads again.
    fn publish(&self, stops: &mut Stops, change: fn(&mut Stops)) {
        self.version.fetch_add(1, Ordering::AcqRel);
        change(stops);
        let view = match stops.since {
            Some(since) => {
                let running = since
                    .saturating_duration_since(self.started)
                    .saturating_sub(stops.total);
                STOOD | (running.as_nanos() as u64 & !STOOD)
            }
            None => stops.total.as_nanos() as u64 & !STOOD,
        };
        self.view.store(view, Ordering::Release);
        self.version.fetch_add(1, Ordering::Release);
    }
}

/// Running (not stood-still) ns since `started`, as of `now`, by `view`.
fn running_ns(started: Instant, now: Instant, view: u64) -> u64 {
    if view & STOOD != 0 {
        view & !STOOD
    } else {
        (now.saturating_duration_since(started).as_nanos() as u64).saturating_sub(view)
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
    fn readers_never_see_the_clock_go_back_while_it_stops_and_runs() {
        let clock = LabClock::new();
        let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let readers: Vec<_> = (0..2)
            .map(|_| {
                let (clock, done) = (clock.clone(), done.clone());
                std::thread::spawn(move || {
                    let mut last = clock.now_ms();
                    while !done.load(Ordering::Relaxed) {
                        let now = clock.now_ms();
                        assert!(now >= last, "{now} < {last}");
                        last = now;
                    }
                })
            })
            .collect();
        let until = Instant::now() + Duration::from_millis(300);
        while Instant::now() < until {
            let hold = clock.hold();
            std::thread::sleep(Duration::from_micros(200));
            drop(hold);
            clock.pause();
            clock.resume();
        }
        done.store(true, Ordering::Relaxed);
        for reader in readers {
            reader.join().unwrap();
        }
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
