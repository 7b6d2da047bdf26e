//! Seed discovery: the addresses a starting node contacts to join the mesh.
//!
//! A node needs a few *seeds* — any live members — to join; gossip tells it
//! about the rest. Seeds come from one or more [`DiscoverySource`]s, written
//! as text in the config file, in `SYNOD_SEEDS`-style lists or on the
//! command line, and parsed by [`parse_seed`]:
//!
//! | text                           | source                                                      |
//! |--------------------------------|-------------------------------------------------------------|
//! | `127.0.0.1:7946`, `[::1]:7946` | [`DiscoverySource::Static`]: that address, as written       |
//! | `dns+a://seeds.example:7946`   | [`DiscoverySource::DnsA`]: every A and AAAA address of the name, on that port (`dns://` is the same) |
//! | `dns+srv://_swim._udp.example` | [`DiscoverySource::DnsSrv`]: every SRV target's addresses, on the port each record names |
//!
//! DNS sources are re-resolved every [`DiscoveryConfig::interval`] (30 s by
//! default), because the set behind a name changes: a Kubernetes headless
//! service (`clusterIP: None`) answers with one A record per ready pod and
//! one SRV record per pod and named port, so pods that come and go show up
//! without restarting anyone. [`Discovery`] runs the re-resolution and
//! publishes the current, sorted, de-duplicated seed addresses on a
//! [`tokio::sync::watch`] channel.
//!
//! A failed or empty resolution never clears what a source last resolved:
//! seeds are only hints for joining, so a stale address costs one
//! unanswered probe, while an empty list would strand a node that is
//! rejoining during a DNS hiccup.
//!
//! # Static seeds
//!
//! ```
//! use synod_node::discovery::{parse_seeds, Discovery, DiscoveryConfig, DnsResolver};
//!
//! let seeds = parse_seeds("10.0.0.1:7946, 10.0.0.2:7946").unwrap();
//! let config = DiscoveryConfig { seeds, ..DiscoveryConfig::default() };
//! let (_discovery, seeds) = Discovery::new(config, DnsResolver::from_system()).unwrap();
//! // Static addresses are published at once, before any resolution.
//! assert_eq!(seeds.borrow().len(), 2);
//! ```
//!
//! # DNS seeds (a Kubernetes headless service)
//!
//! In the config file (YAML; TOML has the same keys), with the
//! nameserver from `/etc/resolv.conf` unless `nameserver` names one:
//!
//! ```
//! # use synod_node::discovery::{DiscoveryConfig, DiscoverySource};
//! let yaml = r#"
//! seeds:
//!   - dns+srv://_swim._udp.synod.default.svc.cluster.local
//!   - dns+a://synod-headless.default.svc.cluster.local:7946
//! interval: 30s
//! nameserver: 127.0.0.1:5353   # optional; tests point this at a local server
//! "#;
//! let config: DiscoveryConfig = serde_yaml_ng::from_str(yaml).unwrap();
//! config.validate().unwrap();
//! assert!(matches!(config.seeds[0], DiscoverySource::DnsSrv { .. }));
//! ```
//!
//! and in the node, a task that keeps the seed list fresh:
//!
//! ```no_run
//! # async fn run() {
//! use synod_node::discovery::{parse_seeds, Discovery, DiscoveryConfig};
//!
//! let seeds = parse_seeds("dns+srv://_swim._udp.synod.default.svc.cluster.local").unwrap();
//! let config = DiscoveryConfig { seeds, ..DiscoveryConfig::default() };
//! let (discovery, mut seeds) = Discovery::from_config(config).unwrap();
//! let task = discovery.spawn();
//! while seeds.changed().await.is_ok() {
//!     let current = seeds.borrow_and_update().clone();
//!     // ... probe `current` to join ...
//! }
//! # task.abort();
//! # }
//! ```

use std::collections::BTreeSet;
use std::fmt;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use hickory_resolver::config::{
    ConnectionConfig, LookupIpStrategy, NameServerConfig, ResolverConfig, ResolverOpts,
};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::NetError;
use hickory_resolver::proto::rr::RData;
use hickory_resolver::TokioResolver;
use serde::Deserialize;
use tokio::sync::watch;
use tokio::time::MissedTickBehavior;
use tracing::{info, warn};

/// Where seed addresses come from.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Deserialize)]
#[serde(try_from = "String")]
pub enum DiscoverySource {
    /// Fixed addresses.
    Static(Vec<SocketAddr>),
    /// Every A and AAAA address of `name`, each on `port`.
    DnsA {
        /// A DNS name; without a final dot the resolver's search domains apply.
        name: String,
        /// The port the seeds listen on (DNS A records carry none).
        port: u16,
    },
    /// The SRV records of `name` (RFC 2782): each target's addresses on the
    /// record's port. Priority and weight are ignored: every target is a
    /// member, and a joining node may contact any of them.
    DnsSrv {
        /// The SRV owner name, usually `_service._proto.domain`.
        name: String,
    },
}

impl fmt::Display for DiscoverySource {
    /// The text [`parse_seed`] reads back (a static list comma-separated).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DiscoverySource::Static(addrs) => {
                let texts: Vec<String> = addrs.iter().map(SocketAddr::to_string).collect();
                f.write_str(&texts.join(","))
            }
            DiscoverySource::DnsA { name, port } => write!(f, "dns+a://{name}:{port}"),
            DiscoverySource::DnsSrv { name } => write!(f, "dns+srv://{name}"),
        }
    }
}

impl TryFrom<String> for DiscoverySource {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        parse_seed(&text)
    }
}

const FORMS: &str = "expected IP:PORT, dns+a://NAME:PORT (or dns://NAME:PORT) or dns+srv://NAME";

/// Parses one seed: `IP:PORT`, `dns+a://NAME:PORT`, `dns://NAME:PORT` or
/// `dns+srv://NAME`. The error names the input and what is wrong with it.
pub fn parse_seed(text: &str) -> Result<DiscoverySource, String> {
    let text = text.trim();
    let Some((scheme, rest)) = text.split_once("://") else {
        return parse_static(text);
    };
    match scheme.to_ascii_lowercase().as_str() {
        "dns" | "dns+a" => {
            let Some((name, port)) = rest.rsplit_once(':') else {
                return Err(format!("`{text}`: missing port; write {scheme}://NAME:PORT"));
            };
            check_name(text, name)?;
            let port = parse_port(text, port)?;
            Ok(DiscoverySource::DnsA { name: name.to_string(), port })
        }
        "dns+srv" => {
            if rest.contains(':') {
                return Err(format!(
                    "`{text}`: SRV records carry the port; write dns+srv://NAME without `:PORT`"
                ));
            }
            check_name(text, rest)?;
            Ok(DiscoverySource::DnsSrv { name: rest.to_string() })
        }
        _ => Err(format!("`{text}`: unknown scheme `{scheme}://`; {FORMS}")),
    }
}

/// Parses a comma-separated list of seeds; static addresses are gathered
/// into one [`DiscoverySource::Static`], first. Empty items are skipped.
pub fn parse_seeds(text: &str) -> Result<Vec<DiscoverySource>, String> {
    let mut addrs = Vec::new();
    let mut dns = Vec::new();
    for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        match parse_seed(item)? {
            DiscoverySource::Static(a) => addrs.extend(a),
            source => dns.push(source),
        }
    }
    let statics = (!addrs.is_empty()).then_some(DiscoverySource::Static(addrs));
    Ok(statics.into_iter().chain(dns).collect())
}

fn parse_static(text: &str) -> Result<DiscoverySource, String> {
    if text.is_empty() {
        return Err(format!("empty seed; {FORMS}"));
    }
    if let Ok(addr) = text.parse::<SocketAddr>() {
        parse_port(text, &addr.port().to_string())?;
        return Ok(DiscoverySource::Static(vec![addr]));
    }
    // Not IP:PORT; find the most useful thing to say.
    let Some((host, port)) = text.rsplit_once(':') else {
        return Err(format!("`{text}`: not a seed; {FORMS}"));
    };
    let bare_host = host.trim_start_matches('[').trim_end_matches(']');
    if bare_host.parse::<IpAddr>().is_ok() {
        parse_port(text, port)?;
    } else if check_name(text, host).is_ok() {
        parse_port(text, port)?;
        return Err(format!("`{text}` is not IP:PORT; for a DNS name write dns+a://{text}"));
    }
    Err(format!("`{text}`: not a seed; {FORMS}"))
}

fn parse_port(text: &str, port: &str) -> Result<u16, String> {
    match port.parse::<u16>() {
        Ok(0) => Err(format!("`{text}`: port must be 1-65535, got 0")),
        Ok(p) => Ok(p),
        Err(_) if port.is_empty() => Err(format!("`{text}`: missing port after `:`")),
        Err(_) => Err(format!("`{text}`: bad port `{port}` (must be 1-65535)")),
    }
}

/// Checks `name` against RFC 1035 limits (labels of 1-63 letters, digits,
/// `-` or `_` — SRV owners start with `_` — at most 253 bytes). A final
/// dot is allowed: it makes the name absolute.
fn check_name(text: &str, name: &str) -> Result<(), String> {
    let bare = name.strip_suffix('.').unwrap_or(name);
    if bare.is_empty() {
        return Err(format!("`{text}`: missing DNS name"));
    }
    if bare.len() > 253 {
        return Err(format!("`{text}`: DNS name longer than 253 bytes"));
    }
    for label in bare.split('.') {
        if label.is_empty() || label.len() > 63 {
            return Err(format!("`{text}`: DNS labels must be 1-63 bytes, got `{label}`"));
        }
        if let Some(c) =
            label.chars().find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
        {
            return Err(format!("`{text}`: invalid character `{c}` in DNS name"));
        }
    }
    Ok(())
}

/// One SRV record (RFC 2782).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SrvTarget {
    /// Lower is preferred.
    pub priority: u16,
    /// Relative share among targets of equal priority.
    pub weight: u16,
    /// The port the service listens on at `target`.
    pub port: u16,
    /// The host name to resolve; `.` means "no service here".
    pub target: String,
}

/// Why a lookup gave no answer. Neither variant changes any state.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    /// The name does not exist, or has no record of the asked type.
    #[error("{name}: no records")]
    NoRecords {
        /// The name looked up.
        name: String,
    },
    /// The lookup itself failed: timeout, refused, unreachable nameserver…
    #[error("{name}: {reason}")]
    Failed {
        /// The name looked up.
        name: String,
        /// The resolver's message.
        reason: String,
    },
}

/// DNS lookups as discovery needs them. A trait so that tests can answer
/// without a nameserver; [`DnsResolver`] is the real one.
pub trait Resolver: Send + Sync + 'static {
    /// The A and AAAA addresses of `name`.
    fn lookup_ip(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<Vec<IpAddr>, ResolveError>> + Send;
    /// The SRV records of `name`.
    fn lookup_srv(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<Vec<SrvTarget>, ResolveError>> + Send;
}

/// The real resolver, on `hickory-resolver` and the tokio runtime.
///
/// Its response cache is disabled: [`Discovery`] asks only once per
/// interval and wants the current answer, not one cached for a TTL that can
/// be longer than the interval.
#[derive(Clone, Debug)]
pub struct DnsResolver {
    inner: TokioResolver,
}

impl DnsResolver {
    /// Uses the nameservers and search domains of `/etc/resolv.conf`; if it
    /// cannot be read or names no nameserver, falls back to one on this
    /// host (`127.0.0.1:53` and `[::1]:53`, the resolv.conf(5) default).
    pub fn from_system() -> Self {
        let (config, options) = match hickory_resolver::system_conf::read_system_conf() {
            Ok((config, options)) if !config.name_servers().is_empty() => (config, options),
            Ok(_) => {
                warn!("discovery: the system DNS config names no nameserver; using a local one");
                (local_nameservers(), ResolverOpts::default())
            }
            Err(e) => {
                warn!(error = %e, "discovery: cannot read the system DNS config; using a local nameserver");
                (local_nameservers(), ResolverOpts::default())
            }
        };
        Self::build(config, options)
    }

    /// Sends every query to `nameserver` (UDP, and TCP for truncated
    /// answers), e.g. a cluster DNS or a test server on `127.0.0.1:5353`.
    pub fn with_nameserver(nameserver: SocketAddr) -> Self {
        let connections = [ConnectionConfig::udp(), ConnectionConfig::tcp()].map(|mut c| {
            c.port = nameserver.port();
            c
        });
        let server = NameServerConfig::new(nameserver.ip(), true, connections.into());
        Self::build(ResolverConfig::from_name_servers(vec![server]), ResolverOpts::default())
    }

    /// [`with_nameserver`](Self::with_nameserver) if one is given, else
    /// [`from_system`](Self::from_system).
    pub fn new(nameserver: Option<SocketAddr>) -> Self {
        nameserver.map_or_else(Self::from_system, Self::with_nameserver)
    }

    fn build(config: ResolverConfig, mut options: ResolverOpts) -> Self {
        options.cache_size = 0;
        options.positive_max_ttl = Some(Duration::ZERO);
        options.negative_max_ttl = Some(Duration::ZERO);
        options.ip_strategy = LookupIpStrategy::Ipv4AndIpv6;
        let builder = TokioResolver::builder_with_config(config, TokioRuntimeProvider::default());
        let inner =
            builder.with_options(options).build().expect("resolver config from parts is valid");
        DnsResolver { inner }
    }
}

/// The resolv.conf(5) default when no nameserver is configured.
fn local_nameservers() -> ResolverConfig {
    let local = [IpAddr::V4(Ipv4Addr::LOCALHOST), IpAddr::V6(Ipv6Addr::LOCALHOST)];
    ResolverConfig::from_name_servers(
        local.into_iter().map(NameServerConfig::udp_and_tcp).collect(),
    )
}

fn resolve_error(name: &str, e: NetError) -> ResolveError {
    if e.is_no_records_found() {
        ResolveError::NoRecords { name: name.to_string() }
    } else {
        ResolveError::Failed { name: name.to_string(), reason: e.to_string() }
    }
}

impl Resolver for DnsResolver {
    async fn lookup_ip(&self, name: &str) -> Result<Vec<IpAddr>, ResolveError> {
        let found = self.inner.lookup_ip(name).await.map_err(|e| resolve_error(name, e))?;
        Ok(found.iter().collect())
    }

    async fn lookup_srv(&self, name: &str) -> Result<Vec<SrvTarget>, ResolveError> {
        let found = self.inner.srv_lookup(name).await.map_err(|e| resolve_error(name, e))?;
        let targets = found.answers().iter().filter_map(|record| match &record.data {
            RData::SRV(srv) => Some(SrvTarget {
                priority: srv.priority,
                weight: srv.weight,
                port: srv.port,
                target: srv.target.to_string(),
            }),
            _ => None,
        });
        Ok(targets.collect())
    }
}

/// What to discover and how often.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DiscoveryConfig {
    /// The sources; their addresses are merged.
    pub seeds: Vec<DiscoverySource>,
    /// How often DNS sources are resolved again.
    #[serde(with = "humantime_serde")]
    pub interval: Duration,
    /// Limit on resolving one source (an SRV name and all its targets).
    #[serde(with = "humantime_serde")]
    pub resolve_timeout: Duration,
    /// Nameserver to ask instead of those in `/etc/resolv.conf`.
    pub nameserver: Option<SocketAddr>,
}

impl Default for DiscoveryConfig {
    fn default() -> Self {
        DiscoveryConfig {
            seeds: Vec::new(),
            interval: Duration::from_secs(30),
            resolve_timeout: Duration::from_secs(10),
            nameserver: None,
        }
    }
}

impl DiscoveryConfig {
    /// Rejects intervals that would spin (zero).
    pub fn validate(&self) -> Result<(), String> {
        if self.interval.is_zero() {
            return Err("discovery.interval must be positive".to_string());
        }
        if self.resolve_timeout.is_zero() {
            return Err("discovery.resolve_timeout must be positive".to_string());
        }
        Ok(())
    }
}

/// The receiving side of the seed set: sorted, without duplicates.
pub type SeedReceiver = watch::Receiver<Vec<SocketAddr>>;

/// The re-resolution task: owns the sources, the resolver and the sending
/// side of the seed channel.
#[derive(Debug)]
pub struct Discovery<R> {
    config: DiscoveryConfig,
    resolver: R,
    /// Per source, the addresses it last resolved to; `None` until the
    /// first success. Kept through failures.
    last_good: Vec<Option<BTreeSet<SocketAddr>>>,
    seeds: watch::Sender<Vec<SocketAddr>>,
}

impl Discovery<DnsResolver> {
    /// A task on the real resolver, asking `config.nameserver` if set.
    pub fn from_config(config: DiscoveryConfig) -> Result<(Self, SeedReceiver), String> {
        let resolver = DnsResolver::new(config.nameserver);
        Discovery::new(config, resolver)
    }
}

impl<R: Resolver> Discovery<R> {
    /// The task and a receiver of the seed set, which holds the static
    /// addresses from the start; DNS addresses join at the first resolution.
    /// Fails if the config does not [validate](DiscoveryConfig::validate).
    pub fn new(config: DiscoveryConfig, resolver: R) -> Result<(Self, SeedReceiver), String> {
        config.validate()?;
        let last_good: Vec<_> = config
            .seeds
            .iter()
            .map(|source| match source {
                DiscoverySource::Static(addrs) => Some(addrs.iter().copied().collect()),
                _ => None,
            })
            .collect();
        let (seeds, receiver) = watch::channel(union(&last_good));
        Ok((Discovery { config, resolver, last_good, seeds }, receiver))
    }

    /// Another receiver of the seed set.
    pub fn subscribe(&self) -> SeedReceiver {
        self.seeds.subscribe()
    }

    /// Resolves every DNS source once and publishes the new set if it
    /// changed; returns whether it did. A source that fails or comes back
    /// empty keeps its previous addresses.
    pub async fn resolve_once(&mut self) -> bool {
        for i in 0..self.config.seeds.len() {
            let source = &self.config.seeds[i];
            if matches!(source, DiscoverySource::Static(_)) {
                continue;
            }
            let lookup = tokio::time::timeout(self.config.resolve_timeout, self.resolve(source));
            let outcome = match lookup.await {
                Ok(Ok(addrs)) if addrs.is_empty() => Err("no addresses".to_string()),
                Ok(Ok(addrs)) => Ok(addrs),
                Ok(Err(e)) => Err(e.to_string()),
                Err(_) => Err(format!("timed out after {:?}", self.config.resolve_timeout)),
            };
            match outcome {
                Ok(addrs) => self.last_good[i] = Some(addrs),
                Err(error) => {
                    let kept = self.last_good[i].as_ref().map_or(0, BTreeSet::len);
                    warn!(%source, %error, kept, "discovery: resolution failed; keeping the previous addresses");
                }
            }
        }
        self.publish()
    }

    async fn resolve(
        &self,
        source: &DiscoverySource,
    ) -> Result<BTreeSet<SocketAddr>, ResolveError> {
        match source {
            DiscoverySource::Static(addrs) => Ok(addrs.iter().copied().collect()),
            DiscoverySource::DnsA { name, port } => {
                let ips = self.resolver.lookup_ip(name).await?;
                Ok(ips.into_iter().map(|ip| SocketAddr::new(ip, *port)).collect())
            }
            DiscoverySource::DnsSrv { name } => self.resolve_srv(name).await,
        }
    }

    /// All targets' addresses; a target that fails to resolve is skipped
    /// (logged) as long as another one answers.
    async fn resolve_srv(&self, name: &str) -> Result<BTreeSet<SocketAddr>, ResolveError> {
        let mut addrs = BTreeSet::new();
        let mut last_error = None;
        for srv in self.resolver.lookup_srv(name).await? {
            if srv.target == "." || srv.target.is_empty() {
                continue;
            }
            match self.resolver.lookup_ip(&srv.target).await {
                Ok(ips) => addrs.extend(ips.into_iter().map(|ip| SocketAddr::new(ip, srv.port))),
                Err(e) => {
                    warn!(srv = name, error = %e, "discovery: SRV target did not resolve");
                    last_error = Some(e);
                }
            }
        }
        match last_error {
            Some(e) if addrs.is_empty() => Err(e),
            _ => Ok(addrs),
        }
    }

    fn publish(&self) -> bool {
        let next = union(&self.last_good);
        let changed = self.seeds.send_if_modified(|current| {
            if *current == next {
                return false;
            }
            let added: Vec<_> = next.iter().filter(|a| !current.contains(a)).collect();
            let removed: Vec<_> = current.iter().filter(|a| !next.contains(a)).collect();
            info!(?added, ?removed, total = next.len(), "discovery: seed set changed");
            *current = next.clone();
            true
        });
        changed
    }

    /// Resolves now and then every interval, until every receiver is gone.
    pub async fn run(mut self) {
        let mut ticks = tokio::time::interval(self.config.interval);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                biased;
                _ = self.seeds.closed() => return,
                _ = ticks.tick() => {
                    self.resolve_once().await;
                }
            }
        }
    }

    /// [`run`](Self::run) on a tokio task.
    pub fn spawn(self) -> tokio::task::JoinHandle<()> {
        tokio::spawn(self.run())
    }
}

fn union(sets: &[Option<BTreeSet<SocketAddr>>]) -> Vec<SocketAddr> {
    let all: BTreeSet<SocketAddr> = sets.iter().flatten().flatten().copied().collect();
    all.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        parse_seed(text).unwrap_err()
    }

    #[test]
    fn parses_each_form() {
        let v4: SocketAddr = "127.0.0.1:7946".parse().unwrap();
        assert_eq!(parse_seed("127.0.0.1:7946"), Ok(DiscoverySource::Static(vec![v4])));
        let v6: SocketAddr = "[::1]:7946".parse().unwrap();
        assert_eq!(parse_seed(" [::1]:7946 "), Ok(DiscoverySource::Static(vec![v6])));
        let a = DiscoverySource::DnsA { name: "seeds.example".into(), port: 7946 };
        assert_eq!(parse_seed("dns+a://seeds.example:7946"), Ok(a.clone()));
        assert_eq!(parse_seed("dns://seeds.example:7946"), Ok(a.clone()));
        assert_eq!(parse_seed("DNS://seeds.example:7946"), Ok(a));
        let srv =
            DiscoverySource::DnsSrv { name: "_swim._udp.synod.default.svc.cluster.local.".into() };
        assert_eq!(parse_seed("dns+srv://_swim._udp.synod.default.svc.cluster.local."), Ok(srv));
    }

    #[test]
    fn display_round_trips() {
        for text in ["10.0.0.1:1", "[::1]:7946", "dns+a://a.b:9", "dns+srv://_x._tcp.b"] {
            assert_eq!(parse_seed(text).unwrap().to_string(), text);
        }
    }

    #[test]
    fn bad_input_says_what_is_wrong() {
        assert!(err("dns+srv://").contains("missing DNS name"), "{}", err("dns+srv://"));
        assert!(err("dns+srv://_swim._udp.x:7946").contains("SRV records carry the port"));
        assert!(err("dns+a://seeds.example").contains("missing port"));
        assert!(err("dns+a://:7946").contains("missing DNS name"));
        assert!(err("dns+a://seeds.example:0").contains("port must be 1-65535"));
        assert!(err("dns+a://seeds.example:70000").contains("bad port `70000`"));
        assert!(err("dns+a://seeds.example:http").contains("bad port `http`"));
        assert!(err("dns+a://seeds.example:").contains("missing port after"));
        assert!(err("dns+a://bad..name:1").contains("labels must be 1-63"));
        assert!(err("dns+a://bad name:1").contains("invalid character ` `"));
        assert!(err("127.0.0.1:0").contains("port must be 1-65535"));
        assert!(err("127.0.0.1:99999").contains("bad port `99999`"));
        assert!(err("seeds.example:7946").contains("write dns+a://seeds.example:7946"));
        assert!(err("http://x:1").contains("unknown scheme `http://`"));
        assert!(err("").contains("empty seed"));
        assert!(err("nonsense").contains("not a seed"));
        let long = format!("dns+srv://{}", vec!["a".repeat(63); 5].join("."));
        assert!(err(&long).contains("longer than 253"));
    }

    #[test]
    fn lists_gather_static_addresses() {
        let seeds = parse_seeds("10.0.0.1:1, dns+srv://_s._udp.x, 10.0.0.2:2,").unwrap();
        let statics = vec!["10.0.0.1:1".parse().unwrap(), "10.0.0.2:2".parse().unwrap()];
        assert_eq!(
            seeds,
            vec![
                DiscoverySource::Static(statics),
                DiscoverySource::DnsSrv { name: "_s._udp.x".into() }
            ]
        );
        assert!(parse_seeds("10.0.0.1:1, dns+srv://").is_err());
        assert_eq!(parse_seeds(""), Ok(vec![]));
    }

    #[test]
    fn config_reads_from_yaml_and_validates() {
        let yaml = "seeds: [\"127.0.0.1:7946\", \"dns://s.x:1\"]\ninterval: 5s\nnameserver: 127.0.0.1:5353\n";
        let config: DiscoveryConfig = serde_yaml_ng::from_str(yaml).unwrap();
        assert_eq!(config.seeds.len(), 2);
        assert_eq!(config.interval, Duration::from_secs(5));
        assert_eq!(config.resolve_timeout, Duration::from_secs(10));
        assert_eq!(config.nameserver, Some("127.0.0.1:5353".parse().unwrap()));
        assert_eq!(config.validate(), Ok(()));

        let bad =
            serde_yaml_ng::from_str::<DiscoveryConfig>("seeds: [\"dns+srv://\"]").unwrap_err();
        assert!(bad.to_string().contains("missing DNS name"), "{bad}");
        let zero = DiscoveryConfig { interval: Duration::ZERO, ..DiscoveryConfig::default() };
        assert!(zero.validate().unwrap_err().contains("interval"));
    }
}
