//! Node configuration: defaults < YAML or TOML file < environment < flags.
//!
//! The file has this shape (YAML shown; TOML has the same keys):
//!
//! ```yaml
//! consensus:
//!   node_id: n1                      # or 1
//!   bind_address: 127.0.0.1:7001     # gRPC: peers and clients
//!   http_address: 127.0.0.1:8001     # /metrics and /health
//!   data_dir: ./data/n1
//!   peers:
//!     - { id: n2, address: 127.0.0.1:7002, weight: 1 }
//!     - { id: n3, address: 127.0.0.1:7003, weight: 1 }
//!   protocol: { type: raft, timeout: 5s, retries: 3, election_timeout: 1s, heartbeat_interval: 100ms }
//!   security: { tls_enabled: true, cert_file: n1.crt, key_file: n1.key, ca_file: ca.crt }
//!   fault_tolerance: { failure_detector: phi_accrual, suspect_threshold: 8, heartbeat_interval: 1s }
//!   crdt: { gossip_interval: 1s, gossip_fanout: 1, checkpoint_every: 1000 }
//!   membership:                      # SWIM with Lifeguard over UDP
//!     bind_address: 127.0.0.1:7001   # UDP; default: the gRPC bind address
//!     seeds: [127.0.0.1:7002, "dns+srv://_synod._udp.synod.default.svc.cluster.local"]
//!     discovery: { interval: 30s }   # how often DNS seeds are resolved again
//!     cluster_key_file: cluster.key  # 64 hex digits; seals every datagram
//!     probe_interval: 1s
//!     lifeguard: true
//!   votes:
//!     quarantine_kinds: [commit]     # a rejected commit proposal quarantines its id
//!     quarantine_fields: [commit, version, id]   # payload fields holding the id
//!     hooks:                         # run on this node when a decision matches
//!       - name: pull-agents
//!         kind: commit
//!         outcome: approved          # approved | rejected | timeout | any
//!         command: [git, -C, /srv/agents, pull, --ff-only]
//!         timeout: 60s
//! ```
//!
//! Membership seeds default to the peers' addresses (SWIM speaks UDP on the
//! same host and port number as gRPC unless `membership.bind_address`
//! says otherwise).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use synod_core::NodeId;

/// A configuration problem, naming the field and the reason.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {reason}")]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The file is not valid YAML/TOML of the expected shape.
    #[error("config file {path}: {reason}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// The parser's message, with the location.
        reason: String,
    },
    /// A field has a bad value.
    #[error("{field}: {reason}")]
    Invalid {
        /// Dotted path of the field, e.g. `consensus.peers[1].address`.
        field: String,
        /// Why it is rejected.
        reason: String,
    },
}

fn invalid(field: impl Into<String>, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid { field: field.into(), reason: reason.into() }
}

/// The file's top level.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// Everything lives under `consensus`.
    #[serde(default)]
    pub consensus: ConsensusSection,
}

/// The `consensus` section, every field optional in the file.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ConsensusSection {
    /// `n1` or `1`.
    pub node_id: Option<IdValue>,
    /// gRPC listen address.
    pub bind_address: Option<String>,
    /// HTTP listen address for /metrics and /health.
    pub http_address: Option<String>,
    /// Where durable state lives.
    pub data_dir: Option<PathBuf>,
    /// The other members.
    #[serde(default)]
    pub peers: Vec<PeerSection>,
    /// Replication protocol settings.
    #[serde(default)]
    pub protocol: ProtocolSection,
    /// TLS settings.
    #[serde(default)]
    pub security: SecuritySection,
    /// Failure detection settings.
    #[serde(default)]
    pub fault_tolerance: FaultToleranceSection,
    /// AP state (CRDT) settings.
    #[serde(default)]
    pub crdt: CrdtSection,
    /// SWIM membership settings.
    #[serde(default)]
    pub membership: MembershipSection,
    /// Votes: quarantine rules and decision hooks.
    #[serde(default)]
    pub votes: VotesSection,
}

/// `consensus.votes`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct VotesSection {
    /// Kinds whose rejected proposals quarantine their identifier
    /// (default `[commit]`; `[]` turns it off).
    pub quarantine_kinds: Option<Vec<String>>,
    /// Payload fields holding the identifier, first present wins.
    pub quarantine_fields: Option<Vec<String>>,
    /// Decision hooks of this node.
    #[serde(default)]
    pub hooks: Vec<crate::hooks::HookConfig>,
}

/// `consensus.membership`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MembershipSection {
    /// UDP listen address of SWIM.
    pub bind_address: Option<String>,
    /// Seeds: `IP:PORT`, `dns+a://NAME:PORT` or `dns+srv://NAME`.
    pub seeds: Option<Vec<String>>,
    /// DNS re-resolution settings (interval, nameserver).
    pub discovery: Option<DiscoverySection>,
    /// File holding the cluster key (64 hex digits).
    pub cluster_key_file: Option<PathBuf>,
    /// SWIM protocol period.
    #[serde(default, with = "humantime_serde")]
    pub probe_interval: Option<Duration>,
    /// Lifeguard on (default) or plain SWIM.
    pub lifeguard: Option<bool>,
}

/// `consensus.membership.discovery`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DiscoverySection {
    /// How often DNS seeds are resolved again.
    #[serde(default, with = "humantime_serde")]
    pub interval: Option<Duration>,
    /// Nameserver to ask instead of those in /etc/resolv.conf.
    pub nameserver: Option<String>,
}

/// `consensus.crdt`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CrdtSection {
    /// How often the node starts anti-entropy gossip.
    #[serde(default, with = "humantime_serde")]
    pub gossip_interval: Option<Duration>,
    /// How many peers each gossip round talks to.
    pub gossip_fanout: Option<u32>,
    /// Commit the CRDT Merkle root through the replicated log every this
    /// many local updates (0: never).
    pub checkpoint_every: Option<u64>,
}

/// A node id written as a number or as `n<number>`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum IdValue {
    /// `1`
    Number(u64),
    /// `n1` or `"1"`
    Text(String),
}

/// One peer.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PeerSection {
    /// The peer's id; learned from the peer when absent.
    pub id: Option<IdValue>,
    /// Its gRPC address.
    pub address: String,
    /// Its voting weight (used by weighted votes; Raft counts every voter once).
    pub weight: Option<u32>,
}

/// `consensus.protocol`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ProtocolSection {
    /// Only `raft` today.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Deadline of a client request.
    #[serde(default, with = "humantime_serde")]
    pub timeout: Option<Duration>,
    /// How often a client retries a request that can be retried.
    pub retries: Option<u32>,
    /// Minimum election timeout (the maximum is twice it).
    #[serde(default, with = "humantime_serde")]
    pub election_timeout: Option<Duration>,
    /// Leader heartbeat interval.
    #[serde(default, with = "humantime_serde")]
    pub heartbeat_interval: Option<Duration>,
    /// Compact the log into a snapshot every this many applied entries.
    pub snapshot_every: Option<u64>,
}

/// `consensus.security`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SecuritySection {
    /// Whether links use mutual TLS.
    pub tls_enabled: Option<bool>,
    /// This node's certificate (PEM).
    pub cert_file: Option<PathBuf>,
    /// This node's private key (PEM).
    pub key_file: Option<PathBuf>,
    /// The cluster CA (PEM).
    pub ca_file: Option<PathBuf>,
}

/// `consensus.fault_tolerance`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FaultToleranceSection {
    /// `phi_accrual` (the only detector).
    pub failure_detector: Option<String>,
    /// Phi threshold above which a peer is suspected.
    pub suspect_threshold: Option<f64>,
    /// Failure-detector heartbeat interval.
    #[serde(default, with = "humantime_serde")]
    pub heartbeat_interval: Option<Duration>,
}

/// Values given on the command line or in the environment (flags win over
/// environment; clap resolves that before this point).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Overrides {
    /// `--node-id` / `SYNOD_NODE_ID`.
    pub node_id: Option<String>,
    /// `--bind-address` / `SYNOD_BIND_ADDRESS`.
    pub bind_address: Option<String>,
    /// `--http-address` / `SYNOD_HTTP_ADDRESS`.
    pub http_address: Option<String>,
    /// `--peers` / `SYNOD_PEERS`: comma-separated `[id=]address`.
    pub peers: Option<String>,
    /// `--data-dir` / `SYNOD_DATA_DIR`.
    pub data_dir: Option<PathBuf>,
    /// `--tls-cert` / `SYNOD_TLS_CERT`.
    pub tls_cert: Option<PathBuf>,
    /// `--tls-key` / `SYNOD_TLS_KEY`.
    pub tls_key: Option<PathBuf>,
    /// `--tls-ca` / `SYNOD_TLS_CA`.
    pub tls_ca: Option<PathBuf>,
    /// `--snapshot-every` / `SYNOD_SNAPSHOT_EVERY`.
    pub snapshot_every: Option<u64>,
    /// `--gossip-interval` / `SYNOD_GOSSIP_INTERVAL`.
    pub gossip_interval: Option<Duration>,
    /// `--checkpoint-every` / `SYNOD_CHECKPOINT_EVERY`.
    pub checkpoint_every: Option<u64>,
    /// `--swim-address` / `SYNOD_SWIM_ADDRESS`.
    pub swim_address: Option<String>,
    /// `--swim-seeds` / `SYNOD_SWIM_SEEDS`: comma-separated seeds.
    pub swim_seeds: Option<String>,
    /// `--cluster-key-file` / `SYNOD_CLUSTER_KEY_FILE`.
    pub cluster_key_file: Option<PathBuf>,
    /// `--probe-interval` / `SYNOD_PROBE_INTERVAL`.
    pub probe_interval: Option<Duration>,
}

/// Membership settings after validation.
#[derive(Clone, Debug, PartialEq)]
pub struct MembershipSettings {
    /// UDP listen address.
    pub bind_address: SocketAddr,
    /// Where to find other members.
    pub discovery: crate::discovery::DiscoveryConfig,
    /// The cluster key sealing datagrams, if configured.
    pub cluster_key: Option<[u8; 32]>,
    /// SWIM protocol period.
    pub probe_interval: Duration,
    /// Lifeguard on.
    pub lifeguard: bool,
}

/// AP state settings after validation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CrdtSettings {
    /// Time between gossip rounds.
    pub gossip_interval: Duration,
    /// Peers per gossip round.
    pub gossip_fanout: u32,
    /// Local updates between checkpoints through the log (0: none).
    pub checkpoint_every: u64,
}

impl Default for CrdtSettings {
    fn default() -> Self {
        CrdtSettings {
            gossip_interval: Duration::from_secs(1),
            gossip_fanout: 1,
            checkpoint_every: 1000,
        }
    }
}

/// A peer after validation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Peer {
    /// Its id, if configured.
    pub id: Option<NodeId>,
    /// Its gRPC address.
    pub address: SocketAddr,
    /// Its weight.
    pub weight: u32,
}

/// Paths of the node's TLS material.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsFiles {
    /// Certificate.
    pub cert: PathBuf,
    /// Private key.
    pub key: PathBuf,
    /// Cluster CA.
    pub ca: PathBuf,
}

/// A complete, validated node configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeConfig {
    /// This node.
    pub node_id: NodeId,
    /// gRPC listen address.
    pub bind_address: SocketAddr,
    /// HTTP listen address.
    pub http_address: Option<SocketAddr>,
    /// Durable state directory.
    pub data_dir: PathBuf,
    /// The other members.
    pub peers: Vec<Peer>,
    /// Client request deadline.
    pub request_timeout: Duration,
    /// Client retries.
    pub retries: u32,
    /// Minimum election timeout.
    pub election_timeout: Duration,
    /// Leader heartbeat interval.
    pub heartbeat_interval: Duration,
    /// Applied entries between snapshots.
    pub snapshot_every: u64,
    /// TLS material; `None` when TLS is off.
    pub tls: Option<TlsFiles>,
    /// Phi threshold of the failure detector.
    pub suspect_threshold: f64,
    /// Failure-detector heartbeat interval.
    pub detector_heartbeat_interval: Duration,
    /// AP state settings.
    pub crdt: CrdtSettings,
    /// SWIM membership settings.
    pub membership: MembershipSettings,
    /// Quarantine rules.
    pub votes: crate::vote::VoteSettings,
    /// Decision hooks.
    pub hooks: Vec<crate::hooks::HookConfig>,
}

/// Parses `n1` or `1` into a node id.
pub fn parse_node_id(text: &str) -> Result<NodeId, String> {
    let digits = text.trim().strip_prefix('n').unwrap_or(text.trim());
    match digits.parse::<u64>() {
        Ok(0) => Err("node id 0 is reserved".into()),
        Ok(id) => Ok(NodeId(id)),
        Err(_) => Err(format!("'{text}' is not a node id (expected n<number> or <number>)")),
    }
}

fn parse_id_value(field: &str, value: &IdValue) -> Result<NodeId, ConfigError> {
    match value {
        IdValue::Number(0) => Err(invalid(field, "node id 0 is reserved")),
        IdValue::Number(n) => Ok(NodeId(*n)),
        IdValue::Text(t) => parse_node_id(t).map_err(|r| invalid(field, r)),
    }
}

fn parse_addr(field: &str, text: &str) -> Result<SocketAddr, ConfigError> {
    text.trim()
        .parse()
        .map_err(|_| invalid(field, format!("'{text}' is not an address of the form IP:PORT")))
}

/// Parses `SYNOD_PEERS`-style text: comma-separated `[id=]address`.
pub fn parse_peer_list(field: &str, text: &str) -> Result<Vec<PeerSection>, ConfigError> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|item| match item.split_once('=') {
            Some((id, address)) => Ok(PeerSection {
                id: Some(IdValue::Text(id.to_string())),
                address: address.to_string(),
                weight: None,
            }),
            None => Ok(PeerSection { id: None, address: item.to_string(), weight: None }),
        })
        .collect::<Result<Vec<_>, ConfigError>>()
        .and_then(
            |peers| {
                if peers.is_empty() {
                    Err(invalid(field, "no peers listed"))
                } else {
                    Ok(peers)
                }
            },
        )
}

impl FileConfig {
    /// Reads a YAML (`.yaml`/`.yml`) or TOML (`.toml`) file.
    pub fn read(path: &Path) -> Result<FileConfig, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::Unreadable { path: path.into(), reason: e.to_string() })?;
        let malformed = |reason: String| ConfigError::Malformed { path: path.into(), reason };
        match path.extension().and_then(|e| e.to_str()) {
            Some("toml") => toml::from_str(&text).map_err(|e| malformed(e.to_string())),
            Some("yaml" | "yml") => {
                serde_yaml_ng::from_str(&text).map_err(|e| malformed(e.to_string()))
            }
            _ => Err(malformed("unknown format: name the file *.yaml, *.yml or *.toml".into())),
        }
    }
}

impl NodeConfig {
    /// Merges file and overrides over the defaults and validates the result.
    pub fn resolve(file: FileConfig, overrides: Overrides) -> Result<NodeConfig, ConfigError> {
        let c = file.consensus;
        let node_id = match (&overrides.node_id, &c.node_id) {
            (Some(text), _) => parse_node_id(text).map_err(|r| invalid("node_id", r))?,
            (None, Some(value)) => parse_id_value("consensus.node_id", value)?,
            (None, None) => {
                return Err(invalid(
                    "consensus.node_id",
                    "required (flag --node-id, SYNOD_NODE_ID or the config file)",
                ))
            }
        };
        let bind_text = overrides
            .bind_address
            .clone()
            .or(c.bind_address)
            .unwrap_or_else(|| "127.0.0.1:7001".into());
        let bind_address = parse_addr("consensus.bind_address", &bind_text)?;
        let http_address = match overrides.http_address.clone().or(c.http_address) {
            Some(text) => Some(parse_addr("consensus.http_address", &text)?),
            None => None,
        };
        let peer_sections = match &overrides.peers {
            Some(text) => parse_peer_list("peers", text)?,
            None => c.peers,
        };
        let peers = validate_peers(node_id, bind_address, &peer_sections)?;
        let data_dir = overrides
            .data_dir
            .clone()
            .or(c.data_dir)
            .unwrap_or_else(|| PathBuf::from(format!("./synod-data/{node_id}")));
        let p = c.protocol;
        if let Some(kind) = &p.kind {
            if kind != "raft" {
                return Err(invalid(
                    "consensus.protocol.type",
                    format!("'{kind}' is not supported (only raft)"),
                ));
            }
        }
        let election_timeout = p.election_timeout.unwrap_or(Duration::from_millis(1000));
        let heartbeat_interval = p.heartbeat_interval.unwrap_or(election_timeout / 10);
        if heartbeat_interval.is_zero() || heartbeat_interval * 3 > election_timeout {
            return Err(invalid(
                "consensus.protocol.heartbeat_interval",
                format!("{heartbeat_interval:?} must be positive and at most a third of the election timeout ({election_timeout:?})"),
            ));
        }
        let snapshot_every = overrides.snapshot_every.or(p.snapshot_every).unwrap_or(10_000);
        if snapshot_every == 0 {
            return Err(invalid("consensus.protocol.snapshot_every", "must be at least 1"));
        }
        let tls = resolve_tls(&c.security, &overrides)?;
        let ft = c.fault_tolerance;
        if let Some(detector) = &ft.failure_detector {
            if detector != "phi_accrual" {
                return Err(invalid(
                    "consensus.fault_tolerance.failure_detector",
                    format!("'{detector}' is not supported (only phi_accrual)"),
                ));
            }
        }
        let suspect_threshold = ft.suspect_threshold.unwrap_or(8.0);
        if !(suspect_threshold.is_finite() && suspect_threshold > 0.0) {
            return Err(invalid(
                "consensus.fault_tolerance.suspect_threshold",
                "must be a positive number",
            ));
        }
        let crdt = resolve_crdt(&c.crdt, &overrides)?;
        let membership = resolve_membership(&c.membership, &overrides, bind_address, &peers)?;
        let request_timeout = p.timeout.unwrap_or(Duration::from_secs(5));
        let (votes, hooks) = resolve_votes(&c.votes, request_timeout)?;
        Ok(NodeConfig {
            node_id,
            bind_address,
            http_address,
            data_dir,
            peers,
            request_timeout,
            retries: p.retries.unwrap_or(3),
            election_timeout,
            heartbeat_interval,
            snapshot_every,
            tls,
            suspect_threshold,
            detector_heartbeat_interval: ft.heartbeat_interval.unwrap_or(Duration::from_secs(1)),
            crdt,
            membership,
            votes,
            hooks,
        })
    }
}

fn validate_peers(
    me: NodeId,
    bind: SocketAddr,
    sections: &[PeerSection],
) -> Result<Vec<Peer>, ConfigError> {
    let mut peers: Vec<Peer> = Vec::new();
    for (i, section) in sections.iter().enumerate() {
        let field = format!("consensus.peers[{i}]");
        let id = match &section.id {
            Some(value) => Some(parse_id_value(&format!("{field}.id"), value)?),
            None => None,
        };
        let address = parse_addr(&format!("{field}.address"), &section.address)?;
        if address == bind || id == Some(me) {
            continue; // A shared peer list may name this node too.
        }
        if peers.iter().any(|p| p.address == address || (id.is_some() && p.id == id)) {
            return Err(invalid(&field, format!("duplicate peer {}", section.address)));
        }
        let weight = section.weight.unwrap_or(1);
        if weight == 0 {
            return Err(invalid(format!("{field}.weight"), "must be at least 1"));
        }
        peers.push(Peer { id, address, weight });
    }
    Ok(peers)
}

fn resolve_membership(
    s: &MembershipSection,
    o: &Overrides,
    grpc_bind: SocketAddr,
    peers: &[Peer],
) -> Result<MembershipSettings, ConfigError> {
    use crate::discovery::{parse_seed, parse_seeds, DiscoveryConfig, DiscoverySource};
    let bind_address = match o.swim_address.clone().or(s.bind_address.clone()) {
        Some(text) => parse_addr("consensus.membership.bind_address", &text)?,
        None => grpc_bind,
    };
    let seeds = match (&o.swim_seeds, &s.seeds) {
        (Some(text), _) => parse_seeds(text).map_err(|r| invalid("swim_seeds", r))?,
        (None, Some(list)) => list
            .iter()
            .enumerate()
            .map(|(i, t)| {
                parse_seed(t).map_err(|r| invalid(format!("consensus.membership.seeds[{i}]"), r))
            })
            .collect::<Result<Vec<_>, _>>()?,
        (None, None) => {
            vec![DiscoverySource::Static(peers.iter().map(|p| p.address).collect())]
        }
    };
    let mut discovery = DiscoveryConfig { seeds, ..DiscoveryConfig::default() };
    if let Some(d) = &s.discovery {
        if let Some(interval) = d.interval {
            discovery.interval = interval;
        }
        if let Some(ns) = &d.nameserver {
            discovery.nameserver =
                Some(parse_addr("consensus.membership.discovery.nameserver", ns)?);
        }
    }
    discovery.validate().map_err(|r| invalid("consensus.membership.discovery", r))?;
    let cluster_key = match o.cluster_key_file.clone().or(s.cluster_key_file.clone()) {
        Some(path) => {
            let field = "consensus.membership.cluster_key_file";
            let text = std::fs::read_to_string(&path)
                .map_err(|e| invalid(field, format!("cannot read {}: {e}", path.display())))?;
            let key = crate::membership::seal::parse_key(&text)
                .map_err(|r| invalid(field, format!("{}: {r}", path.display())))?;
            Some(key)
        }
        None => None,
    };
    let probe_interval = o.probe_interval.or(s.probe_interval).unwrap_or(Duration::from_secs(1));
    if probe_interval < Duration::from_millis(50) {
        return Err(invalid(
            "consensus.membership.probe_interval",
            format!("{probe_interval:?} is below the minimum of 50ms"),
        ));
    }
    Ok(MembershipSettings {
        bind_address,
        discovery,
        cluster_key,
        probe_interval,
        lifeguard: s.lifeguard.unwrap_or(true),
    })
}

fn resolve_votes(
    s: &VotesSection,
    request_timeout: Duration,
) -> Result<(crate::vote::VoteSettings, Vec<crate::hooks::HookConfig>), ConfigError> {
    let mut votes = crate::vote::VoteSettings { request_timeout, ..Default::default() };
    if let Some(kinds) = &s.quarantine_kinds {
        if let Some(i) = kinds.iter().position(|kind| kind.trim().is_empty()) {
            return Err(invalid(format!("consensus.votes.quarantine_kinds[{i}]"), "is empty"));
        }
        votes.quarantine_kinds = kinds.clone();
    }
    if let Some(fields) = &s.quarantine_fields {
        if fields.is_empty() || fields.iter().any(|f| f.is_empty()) {
            return Err(invalid(
                "consensus.votes.quarantine_fields",
                "must list non-empty field names",
            ));
        }
        votes.quarantine_fields = fields.clone();
    }
    crate::hooks::validate_hooks(&s.hooks)
        .map_err(|e| invalid("consensus.votes.hooks", e.to_string()))?;
    Ok((votes, s.hooks.clone()))
}

fn resolve_crdt(s: &CrdtSection, o: &Overrides) -> Result<CrdtSettings, ConfigError> {
    let defaults = CrdtSettings::default();
    let gossip_interval =
        o.gossip_interval.or(s.gossip_interval).unwrap_or(defaults.gossip_interval);
    if gossip_interval < Duration::from_millis(10) {
        return Err(invalid(
            "consensus.crdt.gossip_interval",
            format!("{gossip_interval:?} is below the minimum of 10ms"),
        ));
    }
    let gossip_fanout = s.gossip_fanout.unwrap_or(defaults.gossip_fanout);
    if !(1..=16).contains(&gossip_fanout) {
        return Err(invalid("consensus.crdt.gossip_fanout", "must be between 1 and 16"));
    }
    let checkpoint_every =
        o.checkpoint_every.or(s.checkpoint_every).unwrap_or(defaults.checkpoint_every);
    Ok(CrdtSettings { gossip_interval, gossip_fanout, checkpoint_every })
}

fn resolve_tls(s: &SecuritySection, o: &Overrides) -> Result<Option<TlsFiles>, ConfigError> {
    let cert = o.tls_cert.clone().or(s.cert_file.clone());
    let key = o.tls_key.clone().or(s.key_file.clone());
    let ca = o.tls_ca.clone().or(s.ca_file.clone());
    let enabled = s.tls_enabled.unwrap_or(cert.is_some() || key.is_some() || ca.is_some());
    if !enabled {
        return Ok(None);
    }
    let need = |value: Option<PathBuf>, field: &str| {
        value.ok_or_else(|| {
            invalid(format!("consensus.security.{field}"), "required when TLS is enabled")
        })
    };
    Ok(Some(TlsFiles {
        cert: need(cert, "cert_file")?,
        key: need(key, "key_file")?,
        ca: need(ca, "ca_file")?,
    }))
}
