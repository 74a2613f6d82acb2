//! The tab's exchange slots: at most [`super::MAX_IN_FLIGHT`] HTTP
//! exchanges in flight. A semaphore, except that a lane waiting for a slot
//! *parks* in the run's [`Motion`] and is woken by the lane that frees one:
//! a held run then knows that nobody is about to run. With one slot it is
//! the lock of the `mutex` strategy and of `cross_tab` `lock`, and then it
//! knows which lanes hold and wait for it (a hang names them).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

use crate::clock::LabClock;
use crate::motion::Motion;
use crate::protocol::Lane;

pub struct Slots {
    motion: Arc<Motion>,
    state: Mutex<SlotState>,
}

struct SlotState {
    free: usize,
    waiting: VecDeque<(oneshot::Sender<()>, Option<Lane>)>,
    /// Lanes holding a slot (those that said who they are).
    holders: Vec<Lane>,
    /// Holders whose slot is never given back (a lock in localStorage,
    /// held by a tab that was closed).
    stranded: Vec<Lane>,
}

/// One slot, freed (handed to the next waiter) when dropped.
pub struct Slot<'a> {
    slots: &'a Slots,
    lane: Option<Lane>,
}

impl Slots {
    pub fn new(count: usize, motion: Arc<Motion>) -> Self {
        Slots {
            motion,
            state: Mutex::new(SlotState {
                free: count,
                waiting: VecDeque::new(),
                holders: Vec::new(),
                stranded: Vec::new(),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SlotState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A slot for `lane` if one is free now, without waiting.
    pub fn try_acquire(&self, lane: Option<Lane>) -> Option<Slot<'_>> {
        let mut state = self.lock();
        if state.free == 0 {
            return None;
        }
        state.free -= 1;
        state.holders.extend(lane);
        Some(Slot { slots: self, lane })
    }

    /// Slots free now, and lanes waiting for one (for the hidden-state view).
    pub fn counts(&self) -> (usize, usize) {
        let state = self.lock();
        (state.free, state.waiting.len())
    }

    /// Who holds a slot and who waits for one (lanes that said who they
    /// are), waiters in queue order.
    pub fn holders_and_waiters(&self) -> (Vec<Lane>, Vec<Lane>) {
        let state = self.lock();
        let waiters = state
            .waiting
            .iter()
            .filter(|(tx, _)| !tx.is_closed())
            .filter_map(|(_, lane)| *lane)
            .collect();
        (state.holders.clone(), waiters)
    }

    /// A slot for `lane`; while waiting for one, `clock` (the run's lab
    /// clock) stands still.
    pub async fn acquire(&self, clock: Option<&LabClock>, lane: Option<Lane>) -> Slot<'_> {
        let handed = {
            let mut state = self.lock();
            if state.free > 0 {
                state.free -= 1;
                state.holders.extend(lane);
                return Slot { slots: self, lane };
            }
            let (tx, rx) = oneshot::channel();
            state.waiting.push_back((tx, lane));
            self.motion.park();
            rx
        };
        let _held = clock.map(LabClock::hold);
        // The lane that freed the slot handed it over (and woke us).
        let _ = handed.await;
        Slot { slots: self, lane }
    }

    /// Forgets the waiters of tab `tab` (it is being closed): a slot freed
    /// meanwhile must not be handed to a lane that is going away.
    pub fn forget_waiters(&self, tab: crate::protocol::TabNo) {
        self.lock()
            .waiting
            .retain(|(_, lane)| !lane.is_some_and(|lane| lane.tab() == Some(tab)));
    }

    /// The slots tab `tab` holds are never given back.
    pub fn strand(&self, tab: crate::protocol::TabNo) {
        let mut state = self.lock();
        let lanes: Vec<Lane> = state
            .holders
            .iter()
            .filter(|lane| lane.tab() == Some(tab))
            .copied()
            .collect();
        state.stranded.extend(lanes);
    }

    fn release(&self, lane: Option<Lane>) {
        let mut state = self.lock();
        if lane.is_some_and(|lane| state.stranded.contains(&lane)) {
            return;
        }
        if let Some(lane) = lane {
            if let Some(at) = state.holders.iter().position(|held| *held == lane) {
                state.holders.remove(at);
            }
        }
        while let Some((next, lane)) = state.waiting.pop_front() {
            if !next.is_closed() {
                state.holders.extend(lane);
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
        self.slots.release(self.lane);
    }
}
