//! Sends `GET PATH` to BASE_URL one request at a time, every INTERVAL_MS,
//! for SECONDS, on one kept-alive connection, and prints one line per
//! request: `<ms since start> <latency µs> <status>` (status 0: no answer).
//! The input of bench/login-flood.sh's worst-latency figure.
//! `latency_probe http://127.0.0.1:3930 /api/public 60 10`

use std::time::{Duration, Instant};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [base, path, seconds, interval_ms] = &args[..] else {
        eprintln!("usage: latency_probe BASE_URL PATH SECONDS INTERVAL_MS");
        std::process::exit(2);
    };
    let seconds: u64 = seconds.parse().expect("SECONDS is a number");
    let interval = Duration::from_millis(interval_ms.parse().expect("INTERVAL_MS is a number"));
    let url = format!("{base}{path}");
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let started = Instant::now();
    let mut out = String::new();
    // Bounded: at most SECONDS / INTERVAL_MS requests.
    let most = (seconds * 1000) / interval.as_millis().max(1) as u64;
    for _ in 0..most {
        if started.elapsed() >= Duration::from_secs(seconds) {
            break;
        }
        let sent = Instant::now();
        let status = match client.get(&url).send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                let _ = response.bytes().await;
                status
            }
            Err(_) => 0,
        };
        let latency = sent.elapsed();
        out.push_str(&format!(
            "{} {} {status}\n",
            (sent - started).as_millis(),
            latency.as_micros()
        ));
        tokio::time::sleep(interval.saturating_sub(latency)).await;
    }
    print!("{out}");
}
