//! End-to-end scale benchmarks, each the median of several runs:
//! - the stampede: 10,000 parallel secret requests with an expired token,
//!   zero latency, single-flight (target < 1.5 s, exactly 1 refresh, all ok)
//!   and naive + strict (must finish; exactly 1 refresh accepted);
//! - memory over 1,000 consecutive runs in one process (flat within 10%).
//!
//! `cargo bench --bench stampede` (add `-- --quick` for fewer repetitions,
//! `-- --single-flight N` for N single-flight stampedes only, the profiling
//! setup; `-- --samples` prints each stampede's times, for
//! bench/ab-stampede.sh). Each stampede also reports the CPU time the
//! process spent on it (user + system), which the machine's other load
//! moves much less than the wall time.

use std::time::{Duration, Instant};

use refresh_race::scenario;
use refresh_race::settings::{Case, Latency, Policy, RunSettings, Strategy};

fn stampede(strategy: Strategy) -> RunSettings {
    RunSettings {
        case: Case::ExpiredRefreshable,
        strategy,
        policy: Policy::Strict,
        secret: 10_000,
        public: 0,
        latency_ms: Latency::ZERO,
        ..RunSettings::default()
    }
}

/// CPU time (user + system) this process has used so far.
#[cfg(unix)]
fn cpu_time() -> Duration {
    // SAFETY: getrusage only writes the struct it is given.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let time = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    time(usage.ru_utime) + time(usage.ru_stime)
}

#[cfg(not(unix))]
fn cpu_time() -> Duration {
    Duration::ZERO
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// Resident set size of this process, from /proc (Linux).
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|arg| arg == "--quick");
    let print_samples = args.iter().any(|arg| arg == "--samples");
    let only_single_flight = args
        .iter()
        .position(|arg| arg == "--single-flight")
        .map(|at| {
            args.get(at + 1)
                .and_then(|n| n.parse::<usize>().ok())
                .expect("--single-flight N: N stampedes")
        });
    let repetitions = only_single_flight.unwrap_or(if quick { 3 } else { 7 });
    let strategies: &[Strategy] = match only_single_flight {
        Some(_) => &[Strategy::SingleFlight],
        None => &[Strategy::SingleFlight, Strategy::Naive],
    };
    let runtime = tokio::runtime::Runtime::new().expect("runtime");

    for &strategy in strategies {
        let settings = stampede(strategy);
        let mut samples = Vec::new();
        let mut cpu = Vec::new();
        for _ in 0..repetitions {
            let started = Instant::now();
            let cpu_before = cpu_time();
            let report = runtime.block_on(scenario::run(&settings)).expect("run");
            samples.push(started.elapsed());
            cpu.push(cpu_time() - cpu_before);
            if print_samples {
                println!(
                    "sample {strategy} {:.4} {:.4}",
                    samples[samples.len() - 1].as_secs_f64(),
                    cpu[cpu.len() - 1].as_secs_f64()
                );
            }
            let v = &report.verdict;
            match strategy {
                Strategy::SingleFlight => {
                    assert_eq!(v.refresh_calls, 1, "single-flight refreshes once");
                    assert_eq!(v.ok, 10_000, "every request succeeds");
                }
                _ => assert_eq!(v.refresh_accepted_by_server, 1, "strict accepts one"),
            }
            if samples.len() == 1 {
                println!(
                    "stampede {strategy}: {} events, {} refresh calls, {} ok, {} failed",
                    report.events.len(),
                    v.refresh_calls,
                    v.ok,
                    v.failed
                );
            }
        }
        println!(
            "stampede {strategy}: median {:.3} s over {repetitions} runs (min {:.3}, max {:.3}); CPU time median {:.3} s (min {:.3}, max {:.3})",
            median(samples.clone()).as_secs_f64(),
            samples.iter().min().unwrap().as_secs_f64(),
            samples.iter().max().unwrap().as_secs_f64(),
            median(cpu.clone()).as_secs_f64(),
            cpu.iter().min().unwrap().as_secs_f64(),
            cpu.iter().max().unwrap().as_secs_f64()
        );
    }
    if only_single_flight.is_some() {
        return;
    }

    let runs = if quick { 300 } else { 1000 };
    let warm_up = runs / 10;
    // Short latencies keep 1,000 runs quick while the refreshes still race.
    let settings = RunSettings {
        latency_ms: Latency {
            public: 2,
            secret: 5,
            refresh: 10,
            login: 0,
        },
        ..RunSettings::default()
    };
    let mut after_warm_up = 0;
    for n in 1..=runs {
        let report = runtime.block_on(scenario::run(&settings)).expect("run");
        assert_eq!(report.verdict.requests, 6);
        if n == warm_up {
            after_warm_up = rss_kib();
        }
    }
    let end = rss_kib();
    let growth = (end as f64 - after_warm_up as f64) / after_warm_up as f64 * 100.0;
    println!(
        "memory over {runs} consecutive runs: {after_warm_up} KiB after {warm_up} (warm-up), {end} KiB at the end: {growth:+.1}%"
    );
}
