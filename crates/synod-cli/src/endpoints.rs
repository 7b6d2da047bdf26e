//! Which cluster a command talks to: `--endpoints`/`SYNOD_ENDPOINTS`, or
//! the local dev cluster recorded by `synod dev cluster`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use serde::{Deserialize, Serialize};
use synod_client::{Client, ClientOptions};
use tonic::transport::{Certificate, ClientTlsConfig, Identity};

/// What `synod dev cluster` records so that other commands find it.
#[derive(Debug, Serialize, Deserialize)]
pub struct DevClusterInfo {
    /// gRPC endpoints of the nodes.
    pub endpoints: Vec<String>,
    /// Client TLS material, when the cluster uses TLS.
    pub tls: Option<TlsPaths>,
}

/// Client certificate files.
#[derive(Debug, Serialize, Deserialize)]
pub struct TlsPaths {
    /// Cluster CA.
    pub ca: PathBuf,
    /// Client certificate.
    pub cert: PathBuf,
    /// Client key.
    pub key: PathBuf,
}

/// The default directory of the dev cluster.
pub fn dev_dir() -> PathBuf {
    std::env::var_os("SYNOD_DEV_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("synod-dev"))
}

/// The file in which the dev cluster records itself.
pub fn dev_info_file(dir: &Path) -> PathBuf {
    dir.join("cluster.toml")
}

/// Connection flags shared by every client command.
#[derive(Args, Debug, Clone)]
pub struct ConnectArgs {
    /// Cluster endpoints, comma-separated host:port (default: the local dev cluster).
    #[arg(long, env = "SYNOD_ENDPOINTS", global = true)]
    pub endpoints: Option<String>,
    /// Cluster CA certificate (PEM), for a TLS cluster.
    #[arg(long, env = "SYNOD_CLIENT_TLS_CA", global = true)]
    pub tls_ca: Option<PathBuf>,
    /// Client certificate (PEM).
    #[arg(long, env = "SYNOD_CLIENT_TLS_CERT", global = true)]
    pub tls_cert: Option<PathBuf>,
    /// Client key (PEM).
    #[arg(long, env = "SYNOD_CLIENT_TLS_KEY", global = true)]
    pub tls_key: Option<PathBuf>,
    /// Deadline of each request.
    #[arg(long, default_value = "5s", value_parser = parse_duration, global = true)]
    pub timeout: Duration,
}

pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text)
        .map_err(|e| format!("'{text}' is not a duration like 500ms or 5s: {e}"))
}

impl ConnectArgs {
    /// A client for the chosen cluster.
    pub fn client(&self) -> anyhow::Result<Client> {
        self.client_as(None)
    }

    /// A client acting as `name`: with the local dev cluster's TLS (no
    /// `--tls-*` flags) and a certificate `<name>.crt` beside its client
    /// certificate — the nodes' `n1.crt`…, or one made with `synod certs
    /// client` — that certificate is used, since under mTLS a client acts
    /// only as the name its certificate gives.
    pub fn client_as(&self, name: Option<&str>) -> anyhow::Result<Client> {
        let (endpoints, mut files) = self.resolve()?;
        let explicit = self.tls_cert.is_some();
        let name = name.filter(|n| !n.is_empty() && !n.contains(['/', '\\']));
        if let (Some(name), Some(paths), false) = (name, files.as_mut(), explicit) {
            let dir = paths.cert.parent().map(Path::to_path_buf).unwrap_or_default();
            let (cert, key) = (dir.join(format!("{name}.crt")), dir.join(format!("{name}.key")));
            if cert.exists() && key.exists() {
                (paths.cert, paths.key) = (cert, key);
            }
        }
        let tls = match files {
            Some(paths) => Some(load_tls(&paths)?),
            None => None,
        };
        let options = ClientOptions { timeout: self.timeout, tls, ..ClientOptions::default() };
        Ok(Client::new(endpoints, options))
    }

    /// The endpoints and client TLS files chosen by the flags or the dev cluster.
    pub(crate) fn resolve(&self) -> anyhow::Result<(Vec<String>, Option<TlsPaths>)> {
        let flag_tls = match (&self.tls_ca, &self.tls_cert, &self.tls_key) {
            (Some(ca), Some(cert), Some(key)) => {
                Some(TlsPaths { ca: ca.clone(), cert: cert.clone(), key: key.clone() })
            }
            (None, None, None) => None,
            _ => anyhow::bail!("--tls-ca, --tls-cert and --tls-key go together"),
        };
        if let Some(list) = &self.endpoints {
            let endpoints: Vec<String> =
                list.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
            anyhow::ensure!(!endpoints.is_empty(), "--endpoints: no endpoint given");
            // Nodes of the local dev cluster, picked one by one: use its
            // client certificate unless others were given.
            let tls = flag_tls.or_else(|| {
                let info = read_dev_info().ok()?;
                endpoints.iter().all(|e| info.endpoints.contains(e)).then_some(info.tls).flatten()
            });
            return Ok((endpoints, tls));
        }
        let info = read_dev_info()?;
        Ok((info.endpoints, flag_tls.or(info.tls)))
    }
}

/// What `synod dev cluster` recorded.
fn read_dev_info() -> anyhow::Result<DevClusterInfo> {
    let file = dev_info_file(&dev_dir());
    let text = std::fs::read_to_string(&file).with_context(|| {
        format!("no --endpoints given and no local dev cluster found ({} is missing; start one with `synod dev cluster`)", file.display())
    })?;
    toml::from_str(&text).with_context(|| format!("reading {}", file.display()))
}

/// Client TLS from certificate files.
pub(crate) fn load_tls(paths: &TlsPaths) -> anyhow::Result<ClientTlsConfig> {
    let read = |p: &PathBuf| std::fs::read(p).with_context(|| format!("reading {}", p.display()));
    synod_node::tls::install_crypto_provider();
    Ok(ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(read(&paths.ca)?))
        .identity(Identity::from_pem(read(&paths.cert)?, read(&paths.key)?))
        .domain_name("localhost"))
}
