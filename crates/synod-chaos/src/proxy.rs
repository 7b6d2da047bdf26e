//! [`Proxy`]: a TCP proxy on 127.0.0.1 that forwards to one target and
//! injects faults on command: cut, blackhole, delay and random resets.
//!
//! One proxy carries one directed link (node i dialing node j). Faults
//! change at run time and act at once on open connections:
//!
//! | call | existing connections | new connections |
//! |---|---|---|
//! | [`Proxy::cut`] | reset (RST) | accepted and reset at once |
//! | [`Proxy::blackhole`] | kept open, bytes vanish; closed at heal | accepted and held, nothing reaches the target |
//! | [`Proxy::set_delay`] | each later chunk waits this long | same |
//! | [`Proxy::set_drop_probability`] | each chunk resets its connection with this probability | same |
//! | [`Proxy::heal`] | blackholed ones are closed (bytes were lost), others go on | forwarded |
//!
//! A byte stream cannot lose a chunk in the middle and stay a valid stream,
//! so "dropping" resets the connection; the dialer then reconnects, as it
//! would after a real loss. The random draws come from a seeded generator.
//! Every resource is bounded: connections ([`CONNECTIONS_MAX`]), queued
//! chunks per direction, delay ([`DELAY_MS_MAX`]).
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use std::time::Duration;
//! let target: std::net::SocketAddr = "127.0.0.1:7001".parse().unwrap();
//! let proxy = synod_chaos::proxy::Proxy::start(target, 42).await?;
//! println!("dial {} to reach {target}", proxy.address());
//! proxy.set_delay(Duration::from_millis(20));
//! proxy.cut();
//! proxy.heal();
//! # Ok(()) }
//! ```

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// Connections a proxy carries at once; more are refused.
pub const CONNECTIONS_MAX: usize = 256;
/// Largest delay [`Proxy::set_delay`] accepts, in milliseconds.
pub const DELAY_MS_MAX: u64 = 10_000;
/// Bytes read per chunk.
const CHUNK_BYTES_MAX: usize = 16 * 1024;
/// Chunks queued per direction while they wait out the delay.
const QUEUE_CHUNKS_MAX: usize = 64;
/// Deadline to reach the target.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// What a link does with traffic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkMode {
    /// Forward.
    Open,
    /// Reset connections, refuse new ones.
    Cut,
    /// Accept, hold, and discard: the peer sees silence, not an error.
    Blackhole,
}

/// The faults in force on a proxy.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Faults {
    /// What happens to traffic.
    pub mode: LinkMode,
    /// Added to every chunk, in milliseconds.
    pub delay_ms: u64,
    /// Chance, per chunk, that its connection is reset.
    pub drop_probability: f64,
}

impl Faults {
    const HEALTHY: Faults = Faults { mode: LinkMode::Open, delay_ms: 0, drop_probability: 0.0 };
}

/// Counters of one proxy since it started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProxyStats {
    /// Connections accepted and forwarded (or held by a blackhole).
    pub accepted: u64,
    /// Connections refused (cut, or over [`CONNECTIONS_MAX`]).
    pub refused: u64,
    /// Bytes written to either side.
    pub forwarded_bytes: u64,
    /// Connections reset by a cut or a heal after a blackhole.
    pub resets_by_fault: u64,
    /// Connections reset by a random drop.
    pub resets_by_drop: u64,
}

#[derive(Debug, Default)]
struct Counters {
    accepted: AtomicU64,
    refused: AtomicU64,
    forwarded_bytes: AtomicU64,
    resets_by_fault: AtomicU64,
    resets_by_drop: AtomicU64,
}

#[derive(Debug)]
struct Shared {
    target: SocketAddr,
    faults: watch::Sender<Faults>,
    /// splitmix64 state.
    rng: Mutex<u64>,
    active: AtomicUsize,
    counters: Counters,
}

impl Shared {
    fn faults(&self) -> Faults {
        *self.faults.borrow()
    }

    /// True with probability `p`.
    fn roll(&self, p: f64) -> bool {
        if p <= 0.0 {
            return false;
        }
        let mut state = self.rng.lock().expect("proxy rng lock");
        *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = *state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        ((z >> 11) as f64 / (1u64 << 53) as f64) < p
    }
}

/// A running proxy; dropping it closes every connection it carries.
#[derive(Debug)]
pub struct Proxy {
    address: SocketAddr,
    shared: Arc<Shared>,
    accept: JoinHandle<()>,
}

/// Why a connection ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum End {
    /// Both sides closed, or one failed.
    Closed,
    /// A fault (cut, heal after blackhole, proxy dropped) ended it.
    Fault,
    /// A random drop ended it.
    Drop,
}

impl Proxy {
    /// Listens on 127.0.0.1 (a free port) and forwards to `target`;
    /// `seed` drives the random drops. Call inside a tokio runtime.
    pub async fn start(target: SocketAddr, seed: u64) -> std::io::Result<Proxy> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let (faults, _) = watch::channel(Faults::HEALTHY);
        let shared = Arc::new(Shared {
            target,
            faults,
            rng: Mutex::new(seed),
            active: AtomicUsize::new(0),
            counters: Counters::default(),
        });
        let accept = tokio::spawn(accept_loop(listener, shared.clone()));
        Ok(Proxy { address, shared, accept })
    }

    /// Where to dial.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Where it forwards.
    pub fn target(&self) -> SocketAddr {
        self.shared.target
    }

    /// The faults in force.
    pub fn faults(&self) -> Faults {
        self.shared.faults()
    }

    /// Resets every connection and refuses new ones until [`Proxy::heal`].
    pub fn cut(&self) {
        self.shared.faults.send_modify(|f| f.mode = LinkMode::Cut);
    }

    /// Swallows traffic silently until [`Proxy::heal`].
    pub fn blackhole(&self) {
        self.shared.faults.send_modify(|f| f.mode = LinkMode::Blackhole);
    }

    /// Adds `delay` (at most [`DELAY_MS_MAX`]) to every chunk.
    pub fn set_delay(&self, delay: Duration) {
        let ms = (delay.as_millis() as u64).min(DELAY_MS_MAX);
        self.shared.faults.send_modify(|f| f.delay_ms = ms);
    }

    /// Resets a connection on each chunk with probability `p` (clamped to 0..=1).
    pub fn set_drop_probability(&self, p: f64) {
        let p = if p.is_finite() { p.clamp(0.0, 1.0) } else { 0.0 };
        self.shared.faults.send_modify(|f| f.drop_probability = p);
    }

    /// Removes every fault.
    pub fn heal(&self) {
        self.shared.faults.send_replace(Faults::HEALTHY);
    }

    /// Connections open now.
    pub fn connections(&self) -> usize {
        self.shared.active.load(Ordering::Relaxed)
    }

    /// Counters since start.
    pub fn stats(&self) -> ProxyStats {
        let c = &self.shared.counters;
        ProxyStats {
            accepted: c.accepted.load(Ordering::Relaxed),
            refused: c.refused.load(Ordering::Relaxed),
            forwarded_bytes: c.forwarded_bytes.load(Ordering::Relaxed),
            resets_by_fault: c.resets_by_fault.load(Ordering::Relaxed),
            resets_by_drop: c.resets_by_drop.load(Ordering::Relaxed),
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
        // Every connection task watches the faults and ends on a cut.
        self.shared.faults.send_modify(|f| f.mode = LinkMode::Cut);
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let socket = match listener.accept().await {
            Ok((socket, _)) => socket,
            Err(err) => {
                // Out of descriptors and the like: pause rather than spin.
                log_rare(&format!("proxy accept failed: {err}"));
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        let cut = shared.faults().mode == LinkMode::Cut;
        if cut || shared.active.load(Ordering::Relaxed) >= CONNECTIONS_MAX {
            shared.counters.refused.fetch_add(1, Ordering::Relaxed);
            let _ = socket.set_zero_linger();
            continue;
        }
        shared.active.fetch_add(1, Ordering::Relaxed);
        shared.counters.accepted.fetch_add(1, Ordering::Relaxed);
        let task_shared = shared.clone();
        tokio::spawn(async move {
            serve(&task_shared, socket).await;
            task_shared.active.fetch_sub(1, Ordering::Relaxed);
        });
    }
}

/// The proxy has no logger of its own; rare conditions go to stderr.
fn log_rare(text: &str) {
    eprintln!("[proxy] {text}");
}

/// Carries one accepted connection until it closes or a fault ends it.
async fn serve(shared: &Shared, mut inbound: TcpStream) {
    let mut faults = shared.faults.subscribe();
    if faults.borrow_and_update().mode == LinkMode::Blackhole {
        hold(&mut inbound, &mut faults).await;
        shared.counters.resets_by_fault.fetch_add(1, Ordering::Relaxed);
        let _ = inbound.set_zero_linger();
        return;
    }
    let Ok(Ok(mut outbound)) =
        tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(shared.target)).await
    else {
        let _ = inbound.set_zero_linger();
        return;
    };
    let _ = inbound.set_nodelay(true);
    let _ = outbound.set_nodelay(true);
    let end = {
        let (in_read, in_write) = inbound.split();
        let (out_read, out_write) = outbound.split();
        let both = async {
            tokio::try_join!(pump(shared, in_read, out_write), pump(shared, out_read, in_write))
                .err()
                .unwrap_or(End::Closed)
        };
        tokio::select! {
            end = both => end,
            end = watch_for_end(&mut faults) => end,
        }
    };
    match end {
        End::Closed => return,
        End::Fault => shared.counters.resets_by_fault.fetch_add(1, Ordering::Relaxed),
        End::Drop => shared.counters.resets_by_drop.fetch_add(1, Ordering::Relaxed),
    };
    let _ = inbound.set_zero_linger();
    let _ = outbound.set_zero_linger();
}

/// Reads and discards until the blackhole lifts or the peer closes.
async fn hold(socket: &mut TcpStream, faults: &mut watch::Receiver<Faults>) {
    let mut buf = vec![0u8; CHUNK_BYTES_MAX];
    loop {
        tokio::select! {
            read = socket.read(&mut buf) => match read {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            },
            changed = faults.changed() => {
                if changed.is_err() || faults.borrow_and_update().mode != LinkMode::Blackhole {
                    return;
                }
            }
        }
    }
}

/// Resolves when a fault must end the connection: a cut, the proxy's
/// end, or a heal after a blackhole (the stream lost bytes).
async fn watch_for_end(faults: &mut watch::Receiver<Faults>) -> End {
    let mut blackholed = false;
    loop {
        if faults.changed().await.is_err() {
            return End::Fault;
        }
        match faults.borrow_and_update().mode {
            LinkMode::Cut => return End::Fault,
            LinkMode::Blackhole => blackholed = true,
            LinkMode::Open if blackholed => return End::Fault,
            LinkMode::Open => {}
        }
    }
}

/// Copies one direction: chunks are stamped when read and written once
/// their delay has passed, so a delay adds latency without serializing.
async fn pump<R, W>(shared: &Shared, mut from: R, mut to: W) -> Result<(), End>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let (tx, mut rx) = mpsc::channel::<(Instant, Bytes)>(QUEUE_CHUNKS_MAX);
    let read = async move {
        let mut buf = vec![0u8; CHUNK_BYTES_MAX];
        loop {
            let n = from.read(&mut buf).await.map_err(|_| End::Closed)?;
            if n == 0 {
                return Ok(()); // Dropping `tx` lets the writer finish.
            }
            let f = shared.faults();
            match f.mode {
                LinkMode::Blackhole => continue,
                LinkMode::Cut => return Err(End::Fault),
                LinkMode::Open => {}
            }
            if shared.roll(f.drop_probability) {
                return Err(End::Drop);
            }
            let due = Instant::now() + Duration::from_millis(f.delay_ms);
            if tx.send((due, Bytes::copy_from_slice(&buf[..n]))).await.is_err() {
                return Err(End::Closed);
            }
        }
    };
    let write = async {
        while let Some((due, chunk)) = rx.recv().await {
            tokio::time::sleep_until(due).await;
            if shared.faults().mode != LinkMode::Open {
                continue;
            }
            to.write_all(&chunk).await.map_err(|_| End::Closed)?;
            shared.counters.forwarded_bytes.fetch_add(chunk.len() as u64, Ordering::Relaxed);
        }
        let _ = to.shutdown().await;
        Ok(())
    };
    tokio::try_join!(read, write).map(|_| ())
}

#[cfg(test)]
mod tests;
