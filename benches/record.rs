//! What recording one timeline event costs (target: < 1 µs median).
//! `cargo bench --bench record`

use refresh_race::timeline::{EventKind, Lane, Reason, Recorder, Route};

fn main() {
    divan::main();
}

fn response() -> EventKind {
    EventKind::Response {
        attempt: 42,
        route: Route::Secret,
        status: 401,
        reason: Some(Reason::Expired),
        jti: Some("t1".into()),
    }
}

/// A run's recorder: keeps every event.
#[divan::bench]
fn record_into_run_recorder(bencher: divan::Bencher) {
    let recorder = Recorder::new();
    bencher.bench_local(|| recorder.record(Lane::secret(1), divan::black_box(response())));
}

/// The long-lived server's recorder: a full ring that drops the oldest.
#[divan::bench]
fn record_into_full_bounded_recorder(bencher: divan::Bencher) {
    let recorder = Recorder::bounded(10_000);
    for _ in 0..10_000 {
        recorder.record(Lane::secret(1), response());
    }
    bencher.bench_local(|| recorder.record(Lane::secret(1), divan::black_box(response())));
}

/// With a live subscriber, as when the UI streams a run.
#[divan::bench]
fn record_with_live_subscriber(bencher: divan::Bencher) {
    let recorder = Recorder::new();
    let mut live = recorder.subscribe();
    bencher.bench_local(|| {
        recorder.record(Lane::secret(1), divan::black_box(response()));
        let _ = live.try_recv();
    });
}

/// Recording switched off: the floor (building the event still costs).
#[divan::bench]
fn record_disabled(bencher: divan::Bencher) {
    let recorder = Recorder::disabled();
    bencher.bench_local(|| recorder.record(Lane::secret(1), divan::black_box(response())));
}
