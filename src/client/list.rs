//! Every 401 strategy, in the picker's order: one line each.
//!
//! A line names the strategy's type in the settings, its name on the wire
//! and the command line, its file in src/client/ (which has `make` and an
//! `impl Interceptor`) and whether ui/strategies/ has it too (the browser
//! runtime). The settings' `Strategy` enum and the client's table are both
//! made from this list, so adding a strategy is a file, its test and one
//! line here (docs/adding-a-strategy.md).

/// Hands the list to `$then`, a macro in scope where this is called.
macro_rules! strategies {
    ($then:ident) => {
        $then! {
            /// Every 401 refreshes on its own.
            Naive => "naive", naive, page: true;
            /// The article's flag-and-queue interceptor.
            Queue => "queue", queue, page: true;
            /// One shared refresh per failed token.
            SingleFlight => "single-flight", single_flight, page: true;
            /// A timer refreshes shortly before `exp`; 401s share one refresh
            /// among themselves, but not with the timer.
            Proactive => "proactive", proactive, page: false;
            /// A lock, and a re-read of the stored token after taking it.
            Mutex => "mutex", mutex, page: false;
            /// The queue, but a 401 whose token was already replaced retries with the new one.
            LateCheck => "late-check", late_check, page: false;
        }
    };
}

pub(crate) use strategies;
