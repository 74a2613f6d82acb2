//! The lab clock: wall-clock time that a run can move forward.
//!
//! Token expiry is checked against this clock, never the system's, so a case
//! can start "6 seconds later" at once and no test ever sleeps for expiry.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

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
    /// Real µs (since `started`) spent paused before the current pause.
    paused_total_us: AtomicU64,
    /// Real µs (since `started`) when the current pause began; `RUNNING`
    /// when the clock runs. A held run (step or hand) stands still, so a
    /// learner who thinks for a minute does not expire the tokens.
    paused_at_us: AtomicU64,
}

const RUNNING: u64 = u64::MAX;

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
                paused_total_us: AtomicU64::new(0),
                paused_at_us: AtomicU64::new(RUNNING),
            }),
        }
    }

    /// Lab time in ms.
    pub fn now_ms(&self) -> u64 {
        let inner = &self.inner;
        let paused_at = inner.paused_at_us.load(Ordering::SeqCst);
        let real_us = match paused_at {
            RUNNING => inner.started.elapsed().as_micros() as u64,
            at => at,
        };
        let running_us = real_us.saturating_sub(inner.paused_total_us.load(Ordering::SeqCst));
        inner.base_ms
            + (running_us as f64 / 1000.0 * inner.rate) as u64
            + inner.offset_ms.load(Ordering::SeqCst)
    }

    /// Stops the clock (time travel still moves it). Idempotent.
    pub fn pause(&self) {
        let now_us = self.inner.started.elapsed().as_micros() as u64;
        let _ = self.inner.paused_at_us.compare_exchange(
            RUNNING,
            now_us,
            Ordering::SeqCst,
            Ordering::SeqCst,
        );
    }

    /// Lets the clock run again from where it stood. Idempotent.
    pub fn resume(&self) {
        let at = self.inner.paused_at_us.swap(RUNNING, Ordering::SeqCst);
        if at != RUNNING {
            let now_us = self.inner.started.elapsed().as_micros() as u64;
            self.inner
                .paused_total_us
                .fetch_add(now_us.saturating_sub(at), Ordering::SeqCst);
        }
    }

    /// Lab ms per real ms (the run's speed).
    pub fn rate(&self) -> f64 {
        self.inner.rate
    }

    /// Lab time in whole seconds, as JWT claims count it.
    pub fn now_s(&self) -> u64 {
        self.now_ms() / 1000
    }

    /// Time travel: moves the lab forward by `ms`; returns the new lab time.
    pub fn advance_ms(&self, ms: u64) -> u64 {
        self.inner.offset_ms.fetch_add(ms, Ordering::SeqCst);
        self.now_ms()
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
    fn a_slowed_clock_ages_slower() {
        let real = LabClock::new();
        let slow = LabClock::with_rate(0.001);
        let (real_start, slow_start) = (real.now_ms(), slow.now_ms());
        std::thread::sleep(std::time::Duration::from_millis(50));
        assert!(real.now_ms() - real_start >= 50);
        assert!(slow.now_ms() - slow_start <= 1);
    }
}
