//! Seed discovery: the real DNS path against a tiny authoritative server on
//! 127.0.0.1 (A, AAAA and SRV), and re-resolution and failure handling
//! against a fake resolver on tokio's paused clock.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hickory_resolver::proto::op::{Message, ResponseCode};
use hickory_resolver::proto::rr::rdata::{A, AAAA, SRV};
use hickory_resolver::proto::rr::{Name, RData, Record, RecordType};
use synod_node::discovery::{
    parse_seeds, Discovery, DiscoveryConfig, DnsResolver, ResolveError, Resolver, SrvTarget,
};
use tokio::net::UdpSocket;

// ---------------------------------------------------------------------------
// A tiny DNS server: answers from a zone the test can change; names not in
// the zone get NXDOMAIN, and `fail` makes every answer SERVFAIL.

#[derive(Default)]
struct Zone {
    records: HashMap<(String, RecordType), Vec<RData>>,
    fail: bool,
}

impl Zone {
    fn set(&mut self, name: &str, kind: RecordType, data: Vec<RData>) {
        self.records.insert((fqdn(name), kind), data);
    }
}

fn fqdn(name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    if lower.ends_with('.') {
        lower
    } else {
        lower + "."
    }
}

struct DnsServer {
    addr: SocketAddr,
    zone: Arc<Mutex<Zone>>,
    queries: Arc<AtomicUsize>,
}

async fn start_dns_server() -> DnsServer {
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = socket.local_addr().unwrap();
    let zone = Arc::new(Mutex::new(Zone::default()));
    let queries = Arc::new(AtomicUsize::new(0));
    let (z, q) = (zone.clone(), queries.clone());
    // Lives as long as the test's runtime.
    tokio::spawn(async move {
        let mut buf = vec![0u8; 4096];
        loop {
            let Ok((len, from)) = socket.recv_from(&mut buf).await else { return };
            let Ok(request) = Message::from_vec(&buf[..len]) else { continue };
            q.fetch_add(1, Ordering::SeqCst);
            let response = answer(&request, &z.lock().unwrap());
            let _ = socket.send_to(&response.to_vec().unwrap(), from).await;
        }
    });
    DnsServer { addr, zone, queries }
}

fn answer(request: &Message, zone: &Zone) -> Message {
    let mut response = Message::response(request.metadata.id, request.metadata.op_code);
    response.metadata.recursion_desired = request.metadata.recursion_desired;
    response.metadata.recursion_available = true;
    response.metadata.authoritative = true;
    response.add_queries(request.queries.iter().cloned());
    if zone.fail {
        response.metadata.response_code = ResponseCode::ServFail;
        return response;
    }
    for query in &request.queries {
        let name = fqdn(&query.name.to_string());
        if !zone.records.keys().any(|(n, _)| *n == name) {
            response.metadata.response_code = ResponseCode::NXDomain;
            continue;
        }
        for data in zone.records.get(&(name, query.query_type)).into_iter().flatten() {
            response.add_answer(Record::from_rdata(query.name.clone(), 30, data.clone()));
        }
    }
    response
}

fn a(ip: [u8; 4]) -> RData {
    RData::A(A(Ipv4Addr::from(ip)))
}

fn aaaa(ip: Ipv6Addr) -> RData {
    RData::AAAA(AAAA(ip))
}

fn srv(port: u16, target: &str) -> RData {
    RData::SRV(SRV::new(0, 10, port, Name::from_ascii(target).unwrap()))
}

fn addrs(texts: &[&str]) -> Vec<SocketAddr> {
    texts.iter().map(|t| t.parse().unwrap()).collect()
}

fn config(seeds: &str) -> DiscoveryConfig {
    DiscoveryConfig { seeds: parse_seeds(seeds).unwrap(), ..DiscoveryConfig::default() }
}

#[tokio::test]
async fn dns_a_and_aaaa_records_become_seeds() {
    let server = start_dns_server().await;
    server.zone.lock().unwrap().set(
        "seeds.synod.test",
        RecordType::A,
        vec![a([127, 0, 0, 11]), a([127, 0, 0, 10])],
    );
    server.zone.lock().unwrap().set(
        "seeds.synod.test",
        RecordType::AAAA,
        vec![aaaa(Ipv6Addr::LOCALHOST)],
    );

    let config = DiscoveryConfig {
        nameserver: Some(server.addr),
        ..config("dns+a://seeds.synod.test:7946")
    };
    let (mut discovery, seeds) = Discovery::from_config(config).unwrap();
    assert!(seeds.borrow().is_empty());
    assert!(discovery.resolve_once().await);
    assert_eq!(*seeds.borrow(), addrs(&["127.0.0.10:7946", "127.0.0.11:7946", "[::1]:7946"]));
}

#[tokio::test]
async fn dns_srv_records_name_targets_and_ports() {
    let server = start_dns_server().await;
    {
        let mut zone = server.zone.lock().unwrap();
        let targets = vec![srv(7001, "node1.synod.test."), srv(7002, "node2.synod.test.")];
        zone.set("_swim._udp.synod.test", RecordType::SRV, targets);
        zone.set("node1.synod.test", RecordType::A, vec![a([127, 0, 0, 21])]);
        zone.set("node2.synod.test", RecordType::A, vec![a([127, 0, 0, 22])]);
        zone.set("node2.synod.test", RecordType::AAAA, vec![aaaa(Ipv6Addr::LOCALHOST)]);
    }
    let resolver = DnsResolver::with_nameserver(server.addr);
    let found = resolver.lookup_srv("_swim._udp.synod.test").await.unwrap();
    assert_eq!(found.len(), 2);
    assert!(found.contains(&SrvTarget {
        priority: 0,
        weight: 10,
        port: 7001,
        target: "node1.synod.test.".into()
    }));

    let (mut discovery, seeds) =
        Discovery::new(config("dns+srv://_swim._udp.synod.test"), resolver).unwrap();
    discovery.resolve_once().await;
    assert_eq!(*seeds.borrow(), addrs(&["127.0.0.21:7001", "127.0.0.22:7002", "[::1]:7002"]));
}

// The resolver's cache is off: a change in the zone shows at the next
// round, and a failing server leaves the last good set in place.
#[tokio::test]
async fn dns_changes_show_and_dns_failures_keep_the_last_good_set() {
    let server = start_dns_server().await;
    let name = "pods.synod.test";
    server.zone.lock().unwrap().set(name, RecordType::A, vec![a([127, 0, 0, 31])]);
    let resolver = DnsResolver::with_nameserver(server.addr);
    let (mut discovery, seeds) =
        Discovery::new(config("dns+a://pods.synod.test:7946"), resolver).unwrap();
    assert!(discovery.resolve_once().await);
    assert_eq!(*seeds.borrow(), addrs(&["127.0.0.31:7946"]));

    // --- a pod joins
    server.zone.lock().unwrap().set(
        name,
        RecordType::A,
        vec![a([127, 0, 0, 31]), a([127, 0, 0, 32])],
    );
    assert!(discovery.resolve_once().await);
    assert_eq!(*seeds.borrow(), addrs(&["127.0.0.31:7946", "127.0.0.32:7946"]));

    // --- the server fails, then forgets the name: the set stays
    server.zone.lock().unwrap().fail = true;
    let before = server.queries.load(Ordering::SeqCst);
    assert!(!discovery.resolve_once().await);
    assert!(server.queries.load(Ordering::SeqCst) > before, "the failure came from the server");
    server.zone.lock().unwrap().fail = false;
    server.zone.lock().unwrap().records.clear();
    assert!(!discovery.resolve_once().await);
    assert_eq!(*seeds.borrow(), addrs(&["127.0.0.31:7946", "127.0.0.32:7946"]));

    let err = DnsResolver::with_nameserver(server.addr).lookup_ip(name).await.unwrap_err();
    assert_eq!(err, ResolveError::NoRecords { name: name.into() });
}

// ---------------------------------------------------------------------------
// A fake resolver: answers from maps the test changes, counts lookups.

#[derive(Clone, Debug)]
enum Answer<T> {
    Found(T),
    Fails,
    Hangs,
}

#[derive(Clone, Debug, Default)]
struct FakeDns {
    ips: Arc<Mutex<HashMap<String, Answer<Vec<IpAddr>>>>>,
    srvs: Arc<Mutex<HashMap<String, Answer<Vec<SrvTarget>>>>>,
    lookups: Arc<AtomicUsize>,
}

impl FakeDns {
    fn set_ips(&self, name: &str, answer: Answer<&[[u8; 4]]>) {
        let answer = match answer {
            Answer::Found(ips) => Answer::Found(ips.iter().map(|ip| IpAddr::from(*ip)).collect()),
            Answer::Fails => Answer::Fails,
            Answer::Hangs => Answer::Hangs,
        };
        self.ips.lock().unwrap().insert(name.into(), answer);
    }
}

async fn reply<T: Clone>(name: &str, answer: Option<Answer<T>>) -> Result<T, ResolveError> {
    match answer {
        Some(Answer::Found(v)) => Ok(v),
        Some(Answer::Fails) => {
            Err(ResolveError::Failed { name: name.into(), reason: "refused".into() })
        }
        Some(Answer::Hangs) => std::future::pending().await,
        None => Err(ResolveError::NoRecords { name: name.into() }),
    }
}

impl Resolver for FakeDns {
    async fn lookup_ip(&self, name: &str) -> Result<Vec<IpAddr>, ResolveError> {
        self.lookups.fetch_add(1, Ordering::SeqCst);
        let answer = self.ips.lock().unwrap().get(name).cloned();
        reply(name, answer).await
    }

    async fn lookup_srv(&self, name: &str) -> Result<Vec<SrvTarget>, ResolveError> {
        self.lookups.fetch_add(1, Ordering::SeqCst);
        let answer = self.srvs.lock().unwrap().get(name).cloned();
        reply(name, answer).await
    }
}

#[tokio::test(start_paused = true)]
async fn dns_sources_are_resolved_again_every_interval() {
    let dns = FakeDns::default();
    dns.set_ips("seeds", Answer::Found(&[[10, 0, 0, 1]]));
    let config =
        DiscoveryConfig { interval: Duration::from_secs(30), ..config("dns+a://seeds:7946") };
    let (discovery, mut seeds) = Discovery::new(config, dns.clone()).unwrap();
    let start = tokio::time::Instant::now();
    let task = discovery.spawn();

    // --- the first round runs at once
    seeds.changed().await.unwrap();
    assert_eq!(*seeds.borrow_and_update(), addrs(&["10.0.0.1:7946"]));
    assert_eq!(start.elapsed(), Duration::ZERO);

    // --- the answer changes; the next round, 30 s later, publishes it
    dns.set_ips("seeds", Answer::Found(&[[10, 0, 0, 2], [10, 0, 0, 1]]));
    seeds.changed().await.unwrap();
    assert_eq!(*seeds.borrow_and_update(), addrs(&["10.0.0.1:7946", "10.0.0.2:7946"]));
    assert_eq!(start.elapsed(), Duration::from_secs(30));

    // --- unchanged answers publish nothing; rounds go on every 30 s
    tokio::time::sleep(Duration::from_secs(95)).await;
    assert!(!seeds.has_changed().unwrap());
    assert_eq!(dns.lookups.load(Ordering::SeqCst), 5);

    // --- the task ends once nobody listens
    drop(seeds);
    tokio::time::timeout(Duration::from_secs(1), task).await.unwrap().unwrap();
}

#[tokio::test(start_paused = true)]
async fn failures_and_empty_answers_never_clear_a_good_set() {
    let dns = FakeDns::default();
    let (mut discovery, seeds) = Discovery::new(config("dns+a://seeds:7946"), dns.clone()).unwrap();

    // --- no answer yet: nothing to publish
    assert!(!discovery.resolve_once().await);
    assert!(seeds.borrow().is_empty());

    dns.set_ips("seeds", Answer::Found(&[[10, 0, 0, 1], [10, 0, 0, 2]]));
    assert!(discovery.resolve_once().await);
    let good = addrs(&["10.0.0.1:7946", "10.0.0.2:7946"]);

    // --- a failing server, an empty answer, a vanished name, a hung lookup
    let empty: &[[u8; 4]] = &[];
    for answer in [Answer::Fails, Answer::Found(empty), Answer::Hangs] {
        dns.set_ips("seeds", answer);
        assert!(!discovery.resolve_once().await);
        assert_eq!(*seeds.borrow(), good);
    }
    dns.ips.lock().unwrap().clear();
    assert!(!discovery.resolve_once().await);
    assert_eq!(*seeds.borrow(), good);

    // --- recovery replaces the set, dropping addresses that went away
    dns.set_ips("seeds", Answer::Found(&[[10, 0, 0, 3]]));
    assert!(discovery.resolve_once().await);
    assert_eq!(*seeds.borrow(), addrs(&["10.0.0.3:7946"]));
}

// A lookup that never answers is cut off by `resolve_timeout`, and the
// other sources still publish.
#[tokio::test(start_paused = true)]
async fn a_hung_source_times_out_without_blocking_the_others() {
    let dns = FakeDns::default();
    dns.set_ips("slow", Answer::Hangs);
    dns.set_ips("fast", Answer::Found(&[[10, 0, 0, 9]]));
    let config = DiscoveryConfig {
        resolve_timeout: Duration::from_secs(2),
        ..config("dns+a://slow:1, dns+a://fast:2, 10.0.0.8:3")
    };
    let (mut discovery, seeds) = Discovery::new(config, dns).unwrap();
    assert_eq!(*seeds.borrow(), addrs(&["10.0.0.8:3"]), "static seeds are there from the start");
    let start = tokio::time::Instant::now();
    assert!(discovery.resolve_once().await);
    assert_eq!(start.elapsed(), Duration::from_secs(2));
    assert_eq!(*seeds.borrow(), addrs(&["10.0.0.8:3", "10.0.0.9:2"]));
}

#[tokio::test(start_paused = true)]
async fn srv_targets_that_fail_are_skipped() {
    let dns = FakeDns::default();
    let target = |port, name: &str| SrvTarget { priority: 0, weight: 0, port, target: name.into() };
    let targets = vec![target(7001, "n1."), target(7002, "n2."), target(7003, ".")];
    dns.srvs.lock().unwrap().insert("_swim._udp.x".into(), Answer::Found(targets));
    dns.set_ips("n1.", Answer::Found(&[[10, 0, 0, 1]]));
    dns.set_ips("n2.", Answer::Fails);
    let (mut discovery, seeds) =
        Discovery::new(config("dns+srv://_swim._udp.x"), dns.clone()).unwrap();

    // --- one target answers: it is used; "." means no service and is skipped
    assert!(discovery.resolve_once().await);
    assert_eq!(*seeds.borrow(), addrs(&["10.0.0.1:7001"]));

    // --- no target answers: the previous set stays
    dns.set_ips("n1.", Answer::Fails);
    assert!(!discovery.resolve_once().await);
    assert_eq!(*seeds.borrow(), addrs(&["10.0.0.1:7001"]));

    // --- the SRV lookup itself fails: the set stays too
    dns.srvs.lock().unwrap().insert("_swim._udp.x".into(), Answer::Fails);
    assert!(!discovery.resolve_once().await);
    assert_eq!(*seeds.borrow(), addrs(&["10.0.0.1:7001"]));
}

#[tokio::test(start_paused = true)]
async fn sources_are_merged_sorted_and_deduplicated() {
    let dns = FakeDns::default();
    dns.set_ips("a", Answer::Found(&[[10, 0, 0, 2], [10, 0, 0, 1]]));
    dns.set_ips("b", Answer::Found(&[[10, 0, 0, 1]]));
    let config = config("10.0.0.1:7946, dns+a://a:7946, dns+a://b:7946, 10.0.0.0:7946");
    let (mut discovery, seeds) = Discovery::new(config, dns).unwrap();
    assert!(discovery.resolve_once().await);
    assert_eq!(*seeds.borrow(), addrs(&["10.0.0.0:7946", "10.0.0.1:7946", "10.0.0.2:7946"]));
    assert!(!discovery.resolve_once().await, "same answers publish nothing");
}

#[test]
fn a_zero_interval_is_rejected() {
    let config = DiscoveryConfig { interval: Duration::ZERO, ..config("dns+a://seeds:7946") };
    let err = Discovery::new(config, FakeDns::default()).unwrap_err();
    assert!(err.contains("interval must be positive"), "{err}");
}
