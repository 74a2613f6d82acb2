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
            }),
        }
    }

    /// Lab time in ms.
    pub fn now_ms(&self) -> u64 {
        let elapsed_ms = self.inner.started.elapsed().as_secs_f64() * 1000.0;
        self.inner.base_ms
            + (elapsed_ms * self.inner.rate) as u64
            + self.inner.offset_ms.load(Ordering::SeqCst)
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
    fn a_slowed_clock_ages_slower() {
        let real = LabClock::new();
        let slow = LabClock::with_rate(0.001);
        let (real_start, slow_start) = (real.now_ms(), slow.now_ms());
        std::thread::sleep(std::time::Duration::from_millis(50));
        assert!(real.now_ms() - real_start >= 50);
        assert!(slow.now_ms() - slow_start <= 1);
    }
}
