//! The machine's ceiling for the throughput benchmark: an axum route that
//! does no work. `cargo run --release --example bare_axum -- 3901`

use axum::routing::get;
use axum::Router;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let port: u16 = std::env::args()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(3901);
    let app = Router::new().route("/api/secret", get(|| async { r#"{"data":"nothing"}"# }));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await
}
