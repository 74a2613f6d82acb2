//! Logs in N times and prints one fresh token per line: the input of the
//! refresh throughput benchmark (each refresh needs a token never used).
//! `mint_tokens http://127.0.0.1:3910 lab 100000 > tokens.txt`
//! The style is `lab` (POST JSON) or `seed-node` (GET ?login=).

use futures::stream::{self, StreamExt};
use std::io::Write;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(base), Some(style), Some(count)) = (args.next(), args.next(), args.next()) else {
        eprintln!("usage: mint_tokens BASE_URL lab|seed-node COUNT");
        std::process::exit(2);
    };
    let count: usize = count.parse().expect("COUNT is a number");
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let tokens = stream::iter(0..count)
        .map(|_| {
            let client = client.clone();
            let (base, style) = (base.clone(), style.clone());
            async move {
                let body: serde_json::Value = if style == "lab" {
                    client
                        .post(format!("{base}/api/login"))
                        .json(&serde_json::json!({"login": "bench", "password": "x"}))
                        .send()
                        .await?
                        .json()
                        .await?
                } else {
                    client
                        .get(format!("{base}/api/login?login=bench"))
                        .send()
                        .await?
                        .json()
                        .await?
                };
                let token = body["token"]
                    .as_str()
                    .or_else(|| body["content"]["token"].as_str())
                    .unwrap_or_default()
                    .to_owned();
                Ok::<_, reqwest::Error>(token)
            }
        })
        .buffer_unordered(64)
        .collect::<Vec<_>>()
        .await;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for token in tokens.into_iter().flatten() {
        writeln!(out, "{token}").unwrap();
    }
}
