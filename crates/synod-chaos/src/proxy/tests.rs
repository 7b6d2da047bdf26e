//! The proxy against an echo server on loopback.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::{LinkMode, Proxy};

/// Bound on every step of these tests.
const STEP: Duration = Duration::from_secs(5);

/// Echoes every connection until it closes.
async fn echo_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else { return };
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                loop {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => {
                            if socket.write_all(&buf[..n]).await.is_err() {
                                return;
                            }
                        }
                    }
                }
            });
        }
    });
    address
}

/// Sends `text` and reads the echo, bounded by `within`.
async fn round_trip(socket: &mut TcpStream, text: &[u8], within: Duration) -> Result<(), String> {
    let attempt = async {
        socket.write_all(text).await.map_err(|e| format!("write: {e}"))?;
        let mut got = vec![0u8; text.len()];
        socket.read_exact(&mut got).await.map_err(|e| format!("read: {e}"))?;
        if got == text {
            Ok(())
        } else {
            Err("echo differs".to_string())
        }
    };
    tokio::time::timeout(within, attempt).await.map_err(|_| "timed out".to_string())?
}

async fn connect(proxy: &Proxy) -> TcpStream {
    tokio::time::timeout(STEP, TcpStream::connect(proxy.address())).await.unwrap().unwrap()
}

#[tokio::test]
async fn forwards_both_ways_and_counts_bytes() {
    let proxy = Proxy::start(echo_server().await, 1).await.unwrap();
    let mut socket = connect(&proxy).await;
    round_trip(&mut socket, b"hello through the proxy", STEP).await.unwrap();
    let stats = proxy.stats();
    assert_eq!(stats.accepted, 1);
    assert_eq!(stats.forwarded_bytes, 2 * 23, "{stats:?}");
}

#[tokio::test]
async fn cut_resets_open_connections_and_refuses_new_ones_until_heal() {
    let proxy = Proxy::start(echo_server().await, 2).await.unwrap();
    let mut before = connect(&proxy).await;
    round_trip(&mut before, b"one", STEP).await.unwrap();

    proxy.cut();
    assert_eq!(proxy.faults().mode, LinkMode::Cut);
    assert!(round_trip(&mut before, b"two", STEP).await.is_err(), "cut connection still echoes");
    let mut during = connect(&proxy).await; // the kernel accepts; the proxy resets
    assert!(round_trip(&mut during, b"three", STEP).await.is_err());
    assert!(proxy.stats().refused >= 1);

    proxy.heal();
    let mut after = connect(&proxy).await;
    round_trip(&mut after, b"four", STEP).await.unwrap();
}

#[tokio::test]
async fn blackhole_swallows_silently_and_heal_closes_the_held_connection() {
    let proxy = Proxy::start(echo_server().await, 3).await.unwrap();
    let mut socket = connect(&proxy).await;
    round_trip(&mut socket, b"before", STEP).await.unwrap();

    proxy.blackhole();
    let silent = round_trip(&mut socket, b"lost", Duration::from_millis(300)).await;
    assert_eq!(silent, Err("timed out".to_string()), "a blackhole answers nothing");

    proxy.heal();
    // The stream lost bytes, so the proxy ends it rather than resume it.
    let mut buf = [0u8; 16];
    let closed = tokio::time::timeout(STEP, socket.read(&mut buf)).await.unwrap();
    assert!(matches!(closed, Ok(0) | Err(_)), "held connection not closed: {closed:?}");
    let mut fresh = connect(&proxy).await;
    round_trip(&mut fresh, b"after", STEP).await.unwrap();
}

#[tokio::test]
async fn delay_adds_latency_to_each_chunk() {
    let proxy = Proxy::start(echo_server().await, 4).await.unwrap();
    let mut socket = connect(&proxy).await;
    round_trip(&mut socket, b"warm", STEP).await.unwrap();
    proxy.set_delay(Duration::from_millis(100));
    let started = std::time::Instant::now();
    round_trip(&mut socket, b"slow", STEP).await.unwrap();
    // One delay on the way in, one on the way back.
    assert!(started.elapsed() >= Duration::from_millis(200), "{:?}", started.elapsed());
    proxy.set_delay(Duration::from_secs(3600));
    assert_eq!(proxy.faults().delay_ms, super::DELAY_MS_MAX, "delay is bounded");
}

#[tokio::test]
async fn drop_probability_one_resets_on_the_first_chunk_and_zero_never() {
    let proxy = Proxy::start(echo_server().await, 5).await.unwrap();
    proxy.set_drop_probability(1.0);
    let mut socket = connect(&proxy).await;
    assert!(round_trip(&mut socket, b"doomed", STEP).await.is_err());
    assert_eq!(proxy.stats().resets_by_drop, 1);

    proxy.set_drop_probability(0.0);
    let mut socket = connect(&proxy).await;
    for i in 0..50u32 {
        round_trip(&mut socket, &i.to_le_bytes(), STEP).await.unwrap();
    }
    assert_eq!(proxy.stats().resets_by_drop, 1);
}

#[tokio::test]
async fn drop_probability_half_resets_some_connections_reproducibly() {
    async fn resets_with_seed(seed: u64) -> u64 {
        let proxy = Proxy::start(echo_server().await, seed).await.unwrap();
        proxy.set_drop_probability(0.5);
        for _ in 0..20 {
            let mut socket = connect(&proxy).await;
            let _ = round_trip(&mut socket, b"x", STEP).await;
        }
        proxy.stats().resets_by_drop
    }
    // Each connection carries two chunks (there and back): a reset chance
    // of 3/4 per connection. Draws are seeded, so a seed replays exactly.
    let first = resets_with_seed(77).await;
    assert!((1..20).contains(&first), "{first} resets of 20 at p=0.5");
    assert_eq!(resets_with_seed(77).await, first, "same seed, same drops");
}

#[tokio::test]
async fn dropping_the_proxy_closes_its_connections() {
    let proxy = Proxy::start(echo_server().await, 6).await.unwrap();
    let mut socket = connect(&proxy).await;
    round_trip(&mut socket, b"alive", STEP).await.unwrap();
    drop(proxy);
    let mut buf = [0u8; 8];
    let closed = tokio::time::timeout(STEP, socket.read(&mut buf)).await.unwrap();
    assert!(matches!(closed, Ok(0) | Err(_)), "{closed:?}");
}
