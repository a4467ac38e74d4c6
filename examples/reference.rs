//! The benchmark's ceiling: the smallest axum server that answers every
//! request with the same fixed JSON bytes. `bench/run.sh` runs it beside
//! Broadsheet, with a body the size of a Broadsheet article response.
//!
//! `cargo run --release --example reference -- SIZE_BYTES [ADDR]`

use axum::{Router, body::Bytes, http::header};

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let size: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(6 * 1024);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:0".into());
    // A JSON object of exactly `size` bytes.
    let filler = size.saturating_sub(r#"{"data":""}"#.len());
    let body = Bytes::from(format!(r#"{{"data":"{}"}}"#, "x".repeat(filler)));
    let app = Router::new().fallback(move || {
        let body = body.clone();
        async move { ([(header::CONTENT_TYPE, "application/json")], body) }
    });
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .expect("bind the reference server");
    println!("listening on {}", listener.local_addr().expect("bound"));
    axum::serve(listener, app).await.expect("serve");
}
