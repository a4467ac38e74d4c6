//! Hostile cases: network. Webhook URLs that lead to the server's own
//! network in any disguise (issue 24, finding 4), and connections that try
//! to hold the server: silent, trickled, idle, slow uploads, slow readers,
//! past the connection cap (finding 8).
//!
//! Every address below is judged at the guard; no test sends anything
//! beyond loopback (most of these IPv6 forms would route off the machine).

use std::time::Duration;

use serde_json::{Value, json};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use super::{As, Body, Case};
use crate::{both_backends, both_backends_with, helpers::TestApp};

/// Webhook URLs that must be refused at registration (422 on REST), each a
/// non-public address in some spelling. The first eight are the review's.
const NON_PUBLIC_URLS: [&str; 60] = [
    // IPv4 in IPv6 disguises: IPv4-compatible, IPv4-translated, NAT64, 6to4.
    "http://[::127.0.0.1]/hook",
    "http://[::ffff:0:127.0.0.1]/hook",
    "http://[64:ff9b::7f00:1]/hook",
    "http://[2002:7f00:1::]/hook",
    // Site-local, benchmarking, reserved, IETF protocol assignments.
    "http://[fec0::1]/hook",
    "http://198.18.0.1/hook",
    "http://240.0.0.1/hook",
    "http://192.0.0.1/hook",
    // Loopback in every spelling the URL parser accepts.
    "http://127.1/hook",
    "http://127.0.1/hook",
    "http://2130706433/hook",
    "http://0x7f000001/hook",
    "http://0x7f.1/hook",
    "http://0177.0.0.1/hook",
    "http://017700000001/hook",
    "http://127.0.0.1./hook",
    "http://%31%32%37.0.0.1/hook",
    "http://\u{ff11}\u{ff12}\u{ff17}.0.0.1/hook",
    "http://[::ffff:7f00:1]/hook",
    "http://[0:0:0:0:0:ffff:127.0.0.1]/hook",
    "http://[::1]:8080/hook",
    "https://127.0.0.1:443/hook",
    "http://localhost./hook",
    "http://LocalHost/hook",
    "http://a.b.localhost/hook",
    // Unspecified.
    "http://0/hook",
    "http://0.0.0.0:8080/hook",
    "http://[::]/hook",
    // Private, shared, link-local (metadata), documentation, multicast, broadcast.
    "http://10.0.0.1/hook",
    "http://172.16.0.1/hook",
    "http://192.168.0.1/hook",
    "http://100.64.0.1/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://192.0.2.1/hook",
    "http://198.51.100.1/hook",
    "http://203.0.113.1/hook",
    "http://224.0.0.1/hook",
    "http://255.255.255.255/hook",
    "http://192.88.99.1/hook",
    "http://192.31.196.1/hook",
    // IPv6: link-local, unique-local, multicast, documentation, Teredo,
    // benchmarking, ORCHID, discard, local-use NAT64.
    "http://[fe80::1]/hook",
    "http://[fd00::1]/hook",
    "http://[fc00::1]/hook",
    "http://[ff02::1]/hook",
    "http://[2001:db8::1]/hook",
    "http://[3fff::1]/hook",
    "http://[2001::1]/hook",
    "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/hook",
    "http://[2001:2::1]/hook",
    "http://[2001:10::1]/hook",
    "http://[2001:20::1]/hook",
    "http://[100::1]/hook",
    "http://[64:ff9b:1::a00:1]/hook",
    // The metadata service and private networks through every IPv6 form.
    "http://[::ffff:169.254.169.254]/hook",
    "http://[::ffff:a9fe:a9fe]/hook",
    "http://[64:ff9b::a9fe:a9fe]/hook",
    "http://[2002:a9fe:a9fe::]/hook",
    "http://[2002:c0a8:101::1]/hook",
    "https://[::ffff:10.0.0.1]:443/hook",
    "http://[::169.254.169.254]/hook",
];

pub fn cases() -> Vec<Case> {
    let mut cases: Vec<Case> = NON_PUBLIC_URLS
        .iter()
        .map(|url| {
            Case::send(
                Box::leak(format!("a webhook at {url} is refused").into_boxed_str()),
                "POST",
                "/api/v1/webhooks",
                As::Admin,
                Body::Json(json!({"url": url, "events": ["article.published"]})),
                422,
                "validation_failed",
            )
        })
        .collect();
    for url in [
        "http://[::127.0.0.1]/hook",
        "http://[64:ff9b::7f00:1]/hook",
        "http://0x7f.1/hook",
    ] {
        cases.push(Case {
            who: As::Admin,
            ..Case::gql(
                Box::leak(format!("createWebhook at {url} is refused").into_boxed_str()),
                "mutation($url: String!) { \
                 createWebhook(input: {url: $url, events: [ARTICLE_PUBLISHED]}) { id } }",
                json!({"url": url}),
                200,
                "BAD_USER_INPUT",
            )
        });
    }
    cases
}

// ---------------------------------------------------------------- helpers

/// One-second deadlines, so that the tests see them pass.
fn short_deadlines(config: &mut broadsheet::config::Config) {
    config.header_read_timeout_secs = 1;
    config.keep_alive_timeout_secs = 2;
    config.body_read_timeout_secs = 1;
    config.send_timeout_secs = 1;
}

/// Waits that only end a test that would otherwise hang: never a bound on
/// how fast anything must be.
const HANG_GUARD: Duration = Duration::from_secs(60);

/// A client without a connection pool: each request on its own connection,
/// so no request races the server closing an idle pooled one.
fn unpooled() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap()
}

fn addr(app: &TestApp) -> String {
    app.base_url.trim_start_matches("http://").to_string()
}

/// Read until the server closes the connection; what arrived before.
async fn read_until_closed(stream: &mut TcpStream) -> Vec<u8> {
    let mut received = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match tokio::time::timeout(HANG_GUARD, stream.read(&mut buf)).await {
            Err(_) => panic!("the server still holds the connection"),
            Ok(Ok(0)) | Ok(Err(_)) => return received,
            Ok(Ok(n)) => received.extend_from_slice(&buf[..n]),
        }
    }
}

/// A value of this instance's `/metrics`.
async fn metric(client: &reqwest::Client, app: &TestApp, name: &str) -> f64 {
    let text = client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in /metrics"))
}

/// Poll `/metrics` until `name` satisfies `ok`.
async fn wait_for_metric(
    client: &reqwest::Client,
    app: &TestApp,
    name: &str,
    ok: impl Fn(f64) -> bool,
) -> f64 {
    tokio::time::timeout(HANG_GUARD, async {
        loop {
            let v = metric(client, app, name).await;
            if ok(v) {
                return v;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("{name} never reached the expected value"))
}

// ---------------------------------------------------------------- SSRF at connect time

/// A webhook row as if its name had been public when it was registered.
pub(super) async fn stored_webhook(app: &TestApp, url: &str) -> String {
    use broadsheet::entities::webhook;
    use sea_orm::EntityTrait;
    let id = broadsheet::services::new_id();
    let at = chrono::Utc::now();
    webhook::Entity::insert(webhook::ActiveModel::from(webhook::Model {
        id: id.clone(),
        url: url.to_string(),
        secret: "a-secret-of-sixteen-or-more".into(),
        events: json!(["article.published"]).to_string(),
        active: true,
        description: None,
        created_by: None,
        created_at: at,
        updated_at: at,
    }))
    .exec_without_returning(&app.state.db)
    .await
    .unwrap();
    id
}

both_backends!(a_webhook_that_leads_to_a_private_address_is_refused_when_connecting);

// A stored webhook URL is judged again at each delivery (an admin may
// have turned BROADSHEET_WEBHOOK_ALLOW_PRIVATE off since): loopback by
// name, mapped or literal, no connection reaches the receiver. (Names
// whose records change after the check are judged by the client's
// resolver: `outbound`'s unit tests, with a name that turns to loopback.)
async fn a_webhook_that_leads_to_a_private_address_is_refused_when_connecting(app: TestApp) {
    let admin = app.admin_token().await;
    let receiver = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = receiver.local_addr().unwrap().port();
    let by_name = stored_webhook(&app, &format!("http://localhost:{port}/hook")).await;
    let mapped = stored_webhook(&app, &format!("http://[::ffff:127.0.0.1]:{port}/hook")).await;
    let literal = stored_webhook(&app, &format!("http://127.0.0.1:{port}/hook")).await;
    let resp = app
        .post(
            Some(&admin),
            "/api/v1/articles",
            json!({
            "title": "Rebound", "body": "Text.", "status": "published"}),
        )
        .await;
    assert_eq!(resp.status(), 201);
    for (hook, expected) in [
        (&by_name, "non-public address"),
        (&mapped, "non-public address"),
        (&literal, "non-public address"),
    ] {
        let delivery: Value = tokio::time::timeout(HANG_GUARD, async {
            loop {
                let list: Value = app
                    .get_json_as(&admin, &format!("/api/v1/webhooks/{hook}/deliveries"), 200)
                    .await;
                if let Some(d) = list["data"].as_array().and_then(|d| d.first())
                    && d["attempts"].as_i64() >= Some(1)
                {
                    return d.clone();
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
        .await
        .expect("the delivery was attempted");
        let error = delivery["last_error"].as_str().unwrap_or_default();
        assert!(error.contains(expected), "{hook}: {delivery}");
    }
    // Nothing ever connected to the receiver.
    let accepted = tokio::time::timeout(Duration::from_millis(200), receiver.accept()).await;
    assert!(accepted.is_err(), "a delivery connected to loopback");
}

// ---------------------------------------------------------------- connections

both_backends_with!(
    short_deadlines,
    slow_loris_connections_are_closed_and_healthz_keeps_answering,
    a_client_that_stops_reading_its_answer_is_cut_off
);

// A slow-loris: connections that send nothing, a request head byte by
// byte, a body byte by byte, or sit idle after a response. `/healthz`
// keeps answering meanwhile, and the server closes every one of them.
async fn slow_loris_connections_are_closed_and_healthz_keeps_answering(app: TestApp) {
    let target = addr(&app);
    let mut silent = Vec::new();
    let mut idle = Vec::new();
    for _ in 0..20 {
        silent.push(TcpStream::connect(&target).await.unwrap());
        let mut s = TcpStream::connect(&target).await.unwrap();
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
            .await
            .unwrap();
        let mut buf = [0u8; 4096];
        let n = s.read(&mut buf).await.unwrap();
        assert!(
            buf[..n].starts_with(b"HTTP/1.1 200"),
            "{}",
            String::from_utf8_lossy(&buf[..n])
        );
        idle.push(s);
    }
    // Trickled heads and bodies: one byte every 100 ms until the server hangs up.
    let trickle = |start: &'static [u8], drip: u8| {
        let target = target.clone();
        tokio::spawn(async move {
            let mut s = TcpStream::connect(&target).await.unwrap();
            s.write_all(start).await.unwrap();
            let (mut read, mut write) = s.into_split();
            let writer = tokio::spawn(async move {
                while write.write_all(&[drip]).await.is_ok() {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            });
            let mut received = Vec::new();
            let mut buf = [0u8; 4096];
            let closed = tokio::time::timeout(HANG_GUARD, async {
                loop {
                    match read.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => received.extend_from_slice(&buf[..n]),
                    }
                }
            })
            .await;
            writer.abort();
            assert!(
                closed.is_ok(),
                "the server still holds a trickling connection"
            );
            received
        })
    };
    let mut heads = Vec::new();
    let mut bodies = Vec::new();
    for _ in 0..10 {
        heads.push(trickle(
            b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-Slow: ",
            b'a',
        ));
        bodies.push(trickle(
            b"POST /api/v1/auth/login HTTP/1.1\r\nHost: t\r\n\
                  Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{\"email\": \"",
            b'a',
        ));
        // (The response cache reads a GraphQL body before any handler does.)
        bodies.push(trickle(
            b"POST /graphql HTTP/1.1\r\nHost: t\r\n\
                  Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{\"query\": \"",
            b'a',
        ));
    }
    // Meanwhile the server answers, on new connections.
    let client = unpooled();
    for _ in 0..5 {
        let resp = client
            .get(app.url("/healthz"))
            .send()
            .await
            .expect("/healthz answers during the slow-loris");
        assert_eq!(resp.status(), 200);
    }
    // The server hangs up on every one: silent and idle ones without a word.
    for mut s in silent.into_iter().chain(idle) {
        assert!(
            read_until_closed(&mut s).await.is_empty(),
            "a silent or idle connection got bytes"
        );
    }
    for head in heads {
        assert!(
            head.await.unwrap().is_empty(),
            "a trickled head got an answer"
        );
    }
    // A body that never arrives gets 408 `request_timeout`, then the connection closes.
    for body in bodies {
        let received = String::from_utf8_lossy(&body.await.unwrap()).into_owned();
        assert!(received.starts_with("HTTP/1.1 408"), "{received}");
        assert!(
            received.contains("\"code\":\"request_timeout\""),
            "{received}"
        );
        assert!(
            received.to_ascii_lowercase().contains("connection: close"),
            "{received}"
        );
    }
    // And no longer holds them (the one left is the one asking).
    wait_for_metric(&client, &app, "broadsheet_http_connections", |v| v <= 1.0).await;
    assert_eq!(
        client
            .get(app.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

// A client that stops reading its answer is cut off after
// BROADSHEET_SEND_TIMEOUT, instead of holding the connection and the
// rest of the response forever.
async fn a_client_that_stops_reading_its_answer_is_cut_off(app: TestApp) {
    let admin = app.admin_token().await;
    // About 10 MB of answer: far more than the socket buffers hold (in
    // bodies under BROADSHEET_BODY_MAX_BYTES, 512 KiB).
    let body = "A line of text that will be long enough to matter.\n".repeat(9_000);
    for i in 0..11 {
        let resp = app
            .post(
                Some(&admin),
                "/api/v1/articles",
                json!({
                "title": format!("Long read {i}"), "body": body, "status": "published"}),
            )
            .await;
        assert_eq!(resp.status(), 201);
    }
    let path = "/api/v1/articles?per_page=100";
    let client = unpooled();
    let full = client
        .get(app.url(path))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap()
        .len();
    assert!(full > 8_000_000, "the answer is only {full} bytes");
    let before = metric(&client, &app, "broadsheet_http_connections").await;
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stream = socket.connect(addr(&app).parse().unwrap()).await.unwrap();
    stream
        .write_all(format!("GET {path} HTTP/1.1\r\nHost: t\r\n\r\n").as_bytes())
        .await
        .unwrap();
    // Held while the server writes, then dropped though we never read.
    wait_for_metric(&client, &app, "broadsheet_http_connections", |v| v > before).await;
    wait_for_metric(&client, &app, "broadsheet_http_connections", |v| {
        v <= before
    })
    .await;
    let received = read_until_closed(&mut stream).await;
    assert!(
        received.len() < full,
        "the whole answer ({full} bytes) arrived after all"
    );
}

/// Eight connections at most, and time to hold them without a request.
fn capped_connections(config: &mut broadsheet::config::Config) {
    config.max_connections = 8;
    config.header_read_timeout_secs = 600;
}

both_backends_with!(
    capped_connections,
    connections_past_the_cap_are_closed_at_once_and_served_again_after
);

// Past BROADSHEET_MAX_CONNECTIONS a connection is accepted and closed
// at once, without an answer (a load balancer retries elsewhere); once
// connections close, new ones are served again.
async fn connections_past_the_cap_are_closed_at_once_and_served_again_after(app: TestApp) {
    let target = addr(&app);
    let mut held = Vec::new();
    for _ in 0..8 {
        held.push(TcpStream::connect(&target).await.unwrap());
    }
    // The ninth is accepted after the eight (the backlog is first come,
    // first served) and closed without a byte.
    let mut ninth = TcpStream::connect(&target).await.unwrap();
    let _ = ninth
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        .await;
    assert!(
        read_until_closed(&mut ninth).await.is_empty(),
        "the ninth connection was served"
    );
    drop(held);
    let client = unpooled();
    let served = tokio::time::timeout(HANG_GUARD, async {
        loop {
            if let Ok(resp) = client.get(app.url("/healthz")).send().await {
                return resp.status();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("served again once the held connections closed");
    assert_eq!(served, 200);
    assert!(metric(&client, &app, "broadsheet_http_connections_refused_total").await >= 1.0);
}
