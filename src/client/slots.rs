//! The tab's exchange slots: at most [`super::MAX_IN_FLIGHT`] HTTP
//! exchanges in flight. A semaphore, except that a lane waiting for a slot
//! *parks* in the run's [`Motion`] and is woken by the lane that frees one:
//! a held run then knows that nobody is about to run. With one slot it is
//! the lock of the `mutex` strategy and of `cross_tab` `lock`.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

use crate::clock::LabClock;
use crate::motion::Motion;

pub struct Slots {
    motion: Arc<Motion>,
    state: Mutex<SlotState>,
}

struct SlotState {
    free: usize,
    waiting: VecDeque<oneshot::Sender<()>>,
}

/// One slot, freed (handed to the next waiter) when dropped.
pub struct Slot<'a> {
    slots: &'a Slots,
}

impl Slots {
    pub fn new(count: usize, motion: Arc<Motion>) -> Self {
        Slots {
            motion,
            state: Mutex::new(SlotState {
                free: count,
                waiting: VecDeque::new(),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SlotState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A slot if one is free now, without waiting.
    pub fn try_acquire(&self) -> Option<Slot<'_>> {
        let mut state = self.lock();
        if state.free == 0 {
            return None;
        }
        state.free -= 1;
        Some(Slot { slots: self })
    }

    /// Slots free now, and lanes waiting for one (for the hidden-state view).
    pub fn counts(&self) -> (usize, usize) {
        let state = self.lock();
        (state.free, state.waiting.len())
    }

    /// A slot; while waiting for one, `clock` (the run's lab clock) stands
    /// still.
    pub async fn acquire(&self, clock: Option<&LabClock>) -> Slot<'_> {
        let handed = {
            let mut state = self.lock();
            if state.free > 0 {
                state.free -= 1;
                return Slot { slots: self };
            }
            let (tx, rx) = oneshot::channel();
            state.waiting.push_back(tx);
            self.motion.park();
            rx
        };
        let _held = clock.map(LabClock::hold);
        // The lane that freed the slot handed it over (and woke us).
        let _ = handed.await;
        Slot { slots: self }
    }

    fn release(&self) {
        let mut state = self.lock();
        while let Some(next) = state.waiting.pop_front() {
            if !next.is_closed() {
                self.motion.wake(move || {
                    let _ = next.send(());
                });
                return;
            }
        }
        state.free += 1;
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.slots.release();
    }
}
