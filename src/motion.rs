//! Who is running: the count of a run's threads of control that are not
//! waiting for the network, and, in a held run, the order they take turns.
//!
//! A "thread" here is logical: a lane's code, or its HTTP exchange while the
//! request travels to the server and the handler runs. Each one *parks* when
//! it starts waiting for something only another party can give it (a leg
//! delivery, a connection slot, a peer's refresh) and is *woken* by that
//! party. When nobody runs and nobody is about to, the run has **settled**:
//! every lane waits on a leg, a slot or a peer, and the next delivery is the
//! user's (or the timer's) to make.
//!
//! In a held run (step, hand, paused) wakes are **serial**: woken threads
//! take turns in the order they were woken, each running until it parks.
//! That order depends only on the deliveries, never on how the OS schedules
//! tasks, so one delivery order always gives the same events, ids and
//! tokens — which is what undo and saved hand runs rely on. A timer run
//! wakes everyone at once, as a real network would.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;

use tokio::sync::watch;

use crate::protocol::TabNo;

type Wake = Box<dyn FnOnce() + Send>;

pub struct Motion {
    state: Mutex<MotionState>,
    /// Running threads plus queued wakes; 0 means settled.
    busy: watch::Sender<usize>,
}

struct MotionState {
    running: usize,
    serial: bool,
    queue: VecDeque<Wake>,
    /// Set when the run's client is the lab's page (the browser runtime).
    page: Option<PageCount>,
    /// The run is being torn down: threads whose legs were dropped unwoken
    /// run on to their end, and their parks no longer balance.
    closed: bool,
    /// The run is over: whatever its ended lanes leave behind, it counts
    /// as settled.
    over: bool,
}

/// What the lab knows of a client that runs in the page. Its code runs out
/// of our sight, so it reports how many exchanges it started and how many
/// answers it took in, each time it has caught up (nothing left to run but
/// waiting). It has settled when every exchange it started has reached the
/// lab and every answer the lab sent has been taken in and acted on — in
/// every tab, and when no message the page relays between its tabs (a
/// storage event, a lock grant, a broadcast) is still on its way.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct PageCount {
    /// Per tab: requests that reached the lab, answers the lab handed back.
    lab: BTreeMap<TabNo, (u64, u64)>,
    /// The page's latest report.
    report: Option<PageProgress>,
}

impl PageCount {
    fn busy(&self) -> bool {
        match &self.report {
            None => true,
            Some(report) => {
                report.relaying > 0
                    || report.tabs.keys().chain(self.lab.keys()).any(|tab| {
                        report.tabs.get(tab).copied().unwrap_or_default()
                            != self.lab.get(tab).copied().unwrap_or_default()
                    })
            }
        }
    }
}

/// One page report's progress: per tab (started, received), and the
/// messages between tabs the page still relays.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PageProgress {
    pub seq: u64,
    pub tabs: BTreeMap<TabNo, (u64, u64)>,
    pub relaying: u64,
}

impl Motion {
    pub fn new(serial: bool) -> Self {
        Motion {
            state: Mutex::new(MotionState {
                running: 0,
                serial,
                queue: VecDeque::new(),
                page: None,
                closed: false,
                over: false,
            }),
            busy: watch::Sender::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, MotionState> {
        // Every update below is a few field writes: a panic cannot leave
        // the state half-changed, so a poisoned lock is still consistent.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn publish(&self, state: &MotionState) {
        let page = state.page.as_ref().is_some_and(PageCount::busy);
        let busy = match state.over {
            true => 0,
            false => state.running + state.queue.len() + usize::from(page),
        };
        self.busy.send_replace(busy);
    }

    /// The run is over (its last lanes are being ended): from now on it is
    /// settled, so no command waits for lanes that are gone.
    pub fn finish(&self) {
        let mut state = self.lock();
        state.over = true;
        self.publish(&state);
    }

    /// The run's client is the lab's page: it is busy until its first report.
    pub fn expect_page(&self) {
        let mut state = self.lock();
        state.page = Some(PageCount::default());
        self.publish(&state);
    }

    /// A request of the page reached the lab: its exchange runs now.
    pub fn page_arrived(&self, tab: TabNo) {
        let mut state = self.lock();
        state.running += 1;
        if let Some(page) = &mut state.page {
            page.lab.entry(tab).or_default().0 += 1;
        }
        self.publish(&state);
    }

    /// The lab handed an answer back to the page: the exchange stops
    /// running here, and the page is busy until it reports taking it in.
    pub fn page_answered(&self, tab: TabNo) {
        let mut state = self.lock();
        if let Some(page) = &mut state.page {
            page.lab.entry(tab).or_default().1 += 1;
        }
        // Not `park`'s check: when a run is torn down its legs are dropped
        // unwoken, and the page's exchanges still finish here, on the lab's
        // own connections. The count of a run that is gone no longer matters.
        self.stop_running(state);
    }

    /// The page caught up: each tab started and took in so many
    /// exchanges so far. Reports travel on their own connections, so an
    /// older one (lower `seq`) arriving late is ignored.
    pub fn page_report(&self, progress: PageProgress) {
        let mut state = self.lock();
        if let Some(page) = &mut state.page {
            if page
                .report
                .as_ref()
                .is_none_or(|last| progress.seq > last.seq)
            {
                page.report = Some(progress);
            }
        }
        self.publish(&state);
    }

    /// A new thread starts running now (the run's own setup), whatever the mode.
    pub fn enter(&self) {
        let mut state = self.lock();
        state.running += 1;
        self.publish(&state);
    }

    /// Hands a parked thread its turn: `resume` is what wakes it (sending
    /// on its channel). Serial: it runs once everyone before it has parked.
    pub fn wake(&self, resume: impl FnOnce() + Send + 'static) {
        let mut state = self.lock();
        if state.serial && state.running > 0 {
            state.queue.push_back(Box::new(resume));
        } else {
            state.running += 1;
            resume();
        }
        self.publish(&state);
    }

    /// The calling thread stops running until someone wakes it (or ends).
    pub fn park(&self) {
        let state = self.lock();
        // A page's exchange whose run was torn down while its leg was parked
        // still ends (`page_answered`) and takes one off the count; another
        // exchange parking after that finds it at 0. Only a run without a
        // page must never get there.
        debug_assert!(
            state.running > 0 || state.closed || state.page.is_some(),
            "park without a running thread"
        );
        self.stop_running(state);
    }

    /// One thread stops running; in a held run the next queued one takes its turn.
    fn stop_running(&self, mut state: std::sync::MutexGuard<'_, MotionState>) {
        state.running = state.running.saturating_sub(1);
        if state.running == 0 {
            if let Some(next) = state.queue.pop_front() {
                state.running = 1;
                next();
            }
        }
        self.publish(&state);
    }

    /// Switches between taking turns (held runs) and running together
    /// (timer runs). Leaving serial mode starts every queued thread.
    pub fn set_serial(&self, serial: bool) {
        let mut state = self.lock();
        state.serial = serial;
        if !serial {
            while let Some(next) = state.queue.pop_front() {
                state.running += 1;
                next();
            }
        }
        self.publish(&state);
    }

    /// The run is being torn down (see `closed`).
    pub fn close(&self) {
        self.lock().closed = true;
    }

    /// Waits until nobody runs and nobody is queued to run.
    pub async fn settled(&self) {
        let mut busy = self.busy.subscribe();
        // The sender lives as long as `self`, so this cannot fail.
        let _ = busy.wait_for(|n| *n == 0).await;
    }

    /// Watches how busy the run is (0: settled); every park and wake sends.
    pub fn watch(&self) -> watch::Receiver<usize> {
        self.busy.subscribe()
    }

    /// What the lab believes of its page, for an error that a page run
    /// met an unexpected state: per tab, what the page last reported
    /// (started, taken in) against what the lab counted (arrived,
    /// answered), and what the page still relays. None without a page.
    pub fn page_view(&self) -> Option<String> {
        let state = self.lock();
        let page = state.page.as_ref()?;
        let Some(report) = &page.report else {
            return Some("the page has not reported yet".into());
        };
        let tabs: Vec<String> = report
            .tabs
            .keys()
            .chain(page.lab.keys())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .map(|tab| {
                let (started, received) = report.tabs.get(tab).copied().unwrap_or_default();
                let (arrived, answered) = page.lab.get(tab).copied().unwrap_or_default();
                format!(
                    "tab {tab}: page {started} started, {received} taken in; lab {arrived} arrived, {answered} answered"
                )
            })
            .collect();
        Some(format!(
            "report {}: {}; {} relayed; {} running here",
            report.seq,
            tabs.join("; "),
            report.relaying,
            state.running
        ))
    }

    /// True when nobody runs and nobody is queued.
    pub fn is_settled(&self) -> bool {
        *self.busy.borrow() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn serial_wakes_take_turns_in_wake_order() {
        let motion = Arc::new(Motion::new(true));
        let order = Arc::new(Mutex::new(Vec::new()));
        motion.enter();
        for n in 0..3 {
            let order = order.clone();
            motion.wake(move || order.lock().unwrap().push(n));
        }
        assert!(
            order.lock().unwrap().is_empty(),
            "nobody runs before the waker parks"
        );
        motion.park(); // the waker parks: thread 0 runs
        assert_eq!(*order.lock().unwrap(), vec![0]);
        motion.park(); // 0 parks: 1 runs
        motion.park(); // 1 parks: 2 runs
        assert_eq!(*order.lock().unwrap(), vec![0, 1, 2]);
        assert!(!motion.is_settled());
        motion.park();
        assert!(motion.is_settled());
    }

    #[test]
    fn a_page_settles_when_its_report_matches_the_lab() {
        let motion = Motion::new(true);
        motion.expect_page();
        assert!(!motion.is_settled(), "busy until the page's first report");
        motion.page_report(one_tab(1, 2, 0));
        assert!(!motion.is_settled(), "two requests started, none arrived");
        motion.page_arrived(1);
        motion.page_arrived(1);
        motion.park(); // each request parks on its leg
        motion.park();
        assert!(motion.is_settled());
        motion.wake(|| {}); // an answer is delivered...
        motion.page_answered(1); // ...and handed to the page
        assert!(!motion.is_settled(), "the page has not taken it in");
        motion.page_report(one_tab(3, 2, 1));
        assert!(motion.is_settled());
        motion.page_report(one_tab(2, 2, 0)); // a stale report changes nothing
        assert!(motion.is_settled());
    }

    fn one_tab(seq: u64, started: u64, received: u64) -> PageProgress {
        PageProgress {
            seq,
            tabs: BTreeMap::from([(1, (started, received))]),
            relaying: 0,
        }
    }

    #[test]
    fn several_tabs_settle_when_each_tab_and_the_relay_caught_up() {
        let motion = Motion::new(true);
        motion.expect_page();
        let report = |seq, tab2: (u64, u64), relaying| PageProgress {
            seq,
            tabs: BTreeMap::from([(1, (1, 0)), (2, tab2)]),
            relaying,
        };
        motion.page_arrived(1);
        motion.page_arrived(2);
        motion.park();
        motion.park();
        // Tab 1 is even, tab 2 reports one exchange short: the sums agree, the tabs do not.
        motion.page_report(PageProgress {
            seq: 1,
            tabs: BTreeMap::from([(1, (2, 0)), (2, (0, 0))]),
            relaying: 0,
        });
        assert!(!motion.is_settled(), "per tab, not in sum");
        motion.page_report(report(2, (1, 0), 1));
        assert!(
            !motion.is_settled(),
            "a storage event is still on its way to a tab"
        );
        motion.page_report(report(3, (1, 0), 0));
        assert!(motion.is_settled());
    }

    #[test]
    fn the_page_view_names_each_tabs_counts_on_both_sides() {
        let motion = Motion::new(true);
        assert_eq!(motion.page_view(), None, "no page, nothing to say");
        motion.expect_page();
        assert_eq!(
            motion.page_view().as_deref(),
            Some("the page has not reported yet")
        );
        motion.page_arrived(2);
        motion.park();
        motion.page_report(PageProgress {
            seq: 4,
            tabs: BTreeMap::from([(1, (1, 0))]),
            relaying: 2,
        });
        assert_eq!(
            motion.page_view().as_deref(),
            Some("report 4: tab 1: page 1 started, 0 taken in; lab 0 arrived, 0 answered; tab 2: page 0 started, 0 taken in; lab 1 arrived, 0 answered; 2 relayed; 0 running here")
        );
    }

    #[test]
    fn a_page_torn_down_with_exchanges_in_flight_does_not_panic() {
        let motion = Motion::new(true);
        motion.expect_page();
        motion.page_arrived(1); // exchange A
        motion.park(); // A's leg waits
        motion.page_arrived(1); // exchange B
        motion.page_answered(1); // the run is torn down: A ends unwoken
        motion.park(); // B's leg waits
        motion.page_answered(1);
        motion.page_report(one_tab(1, 2, 2));
        assert!(motion.is_settled());
    }

    #[test]
    fn parallel_wakes_run_at_once() {
        let motion = Motion::new(false);
        motion.enter();
        motion.wake(|| {});
        motion.wake(|| {});
        motion.park();
        motion.park();
        assert!(!motion.is_settled());
        motion.park();
        assert!(motion.is_settled());
    }
}
