//! A minimal OTLP/HTTP receiver for the telemetry tests: accepts any `POST`
//! (`/v1/traces`, `/v1/metrics`) with a protobuf body, answers 200 and
//! keeps `(path, body)`; the tests decode the bodies with
//! `opentelemetry-proto`.
//!
//! The exporter under test is the real one, speaking OTLP/HTTP over a real
//! socket; only the receiving end is this small server.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The requests a receiver got: `(path, body)`, in arrival order.
pub type Received = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

/// Starts a receiver on a free local port; returns its base URL
/// (`http://127.0.0.1:PORT`) and what it receives.
pub async fn otlp_receiver() -> (String, Received) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind the OTLP receiver");
    let url = format!("http://{}", listener.local_addr().expect("its address"));
    let got: Received = Arc::new(Mutex::new(Vec::new()));
    let store = got.clone();
    tokio::spawn(async move {
        loop {
            let Ok((sock, _)) = listener.accept().await else { return };
            tokio::spawn(serve(sock, store.clone()));
        }
    });
    (url, got)
}

/// Serves one keep-alive connection: request after request.
async fn serve(mut sock: tokio::net::TcpStream, store: Received) {
    let mut buf = Vec::new();
    loop {
        let end = loop {
            if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break p + 4;
            }
            if !read_more(&mut sock, &mut buf).await {
                return;
            }
        };
        let head = String::from_utf8_lossy(&buf[..end]).to_string();
        let path = head.split_whitespace().nth(1).unwrap_or("").to_string();
        let len = head
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("content-length").then(|| v.trim().parse::<usize>().ok())?
            })
            .unwrap_or(0);
        while buf.len() < end + len {
            if !read_more(&mut sock, &mut buf).await {
                return;
            }
        }
        let body = buf[end..end + len].to_vec();
        buf.drain(..end + len);
        store.lock().expect("receiver store").push((path, body));
        let reply = b"HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: 0\r\n\r\n";
        if sock.write_all(reply).await.is_err() {
            return;
        }
    }
}

async fn read_more(sock: &mut tokio::net::TcpStream, buf: &mut Vec<u8>) -> bool {
    let mut chunk = [0u8; 8192];
    match sock.read(&mut chunk).await {
        Ok(0) | Err(_) => false,
        Ok(n) => {
            buf.extend_from_slice(&chunk[..n]);
            true
        }
    }
}
