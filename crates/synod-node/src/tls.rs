//! Mutual TLS for every link: the cluster CA, node and client
//! certificates, and the rustls settings tonic uses on both ends.
//!
//! A cluster has one certificate authority. `synod certs init` calls
//! [`init_ca`]; `synod certs issue --node n1` calls [`issue_node`], whose
//! certificate names the node (`CN=n1`, DNS `n1`) and serves both ends of a
//! link; `synod certs issue --client NAME` calls [`issue_client`], whose
//! certificate can only dial. With TLS configured, a node serves with
//! [`server_tls`] (client certificates are required and must chain to the
//! CA) and dials with [`client_tls`] (the server must present a certificate
//! from the CA naming the expected node). A handler that receives a message
//! claiming to come from a node calls [`check_peer_node_id`], which refuses
//! (and logs) a peer whose certificate names someone else.
//!
//! ```
//! use synod_core::NodeId;
//! use synod_node::tls;
//!
//! let dir = tempfile::tempdir().unwrap();
//! tls::init_ca(dir.path()).unwrap();
//! let (cert, key) = tls::issue_node(dir.path(), NodeId(1)).unwrap();
//! assert!(cert.ends_with("n1.crt") && key.ends_with("n1.key"));
//! let files = tls::files_for(dir.path(), "n1");
//! let _server = tls::server_tls(&files).unwrap();
//! let _client = tls::client_tls(&files, "n2").unwrap();
//! ```

use std::fs::OpenOptions;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use synod_core::NodeId;
use tonic::transport::{Certificate, ClientTlsConfig, Identity, ServerTlsConfig};
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::GeneralName;

use crate::config::{parse_node_id, TlsFiles};

/// File name of the cluster CA certificate inside a certificate directory.
pub const CA_CERT_FILE: &str = "ca.crt";
/// File name of the cluster CA private key inside a certificate directory.
pub const CA_KEY_FILE: &str = "ca.key";
/// Longest allowed client name, in characters.
pub const CLIENT_NAME_LEN_MAX: usize = 64;
/// How long a TLS handshake may take before the connection is dropped.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

const CA_VALIDITY_DAYS: i64 = 10 * 365;
const LEAF_VALIDITY_DAYS: i64 = 5 * 365;
/// Certificates start to be valid this long before they are made, so that
/// a peer whose clock is slightly behind accepts them.
const CLOCK_SKEW_HOURS: i64 = 1;

/// Why certificate material could not be made or used. Each message names
/// the file and the reason.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TlsError {
    /// A file could not be read. Nothing changed.
    #[error("cannot read {}: {reason}", .path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why (e.g. `file not found`).
        reason: String,
    },
    /// A file or directory could not be written. Files written before it
    /// (e.g. the key of a certificate) may exist.
    #[error("cannot write {}: {reason}", .path.display())]
    Write {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The file holds no PEM block of the expected kind. Nothing changed.
    #[error("{} holds no PEM {expected}", .path.display())]
    NotPem {
        /// The file.
        path: PathBuf,
        /// `certificate` or `private key`.
        expected: &'static str,
    },
    /// The file holds PEM, but its content cannot be used. Nothing changed.
    #[error("{}: {reason}", .path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The private key does not belong to the certificate. Nothing changed.
    #[error("{} is not the private key of the certificate in {}", .key.display(), .cert.display())]
    KeyMismatch {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
    },
    /// `init_ca` found a CA already there and left it untouched.
    #[error("a cluster CA already exists in {}: refusing to overwrite it (remove {CA_CERT_FILE} and {CA_KEY_FILE} to start a new cluster)", .dir.display())]
    CaExists {
        /// The certificate directory.
        dir: PathBuf,
    },
    /// Issuing needs a CA and there is none. Nothing changed.
    #[error("no cluster CA in {}: run `synod certs init --dir {}` first", .dir.display(), .dir.display())]
    CaMissing {
        /// The certificate directory.
        dir: PathBuf,
    },
    /// A client or server name is not acceptable. Nothing changed.
    #[error("name '{name}': {reason}")]
    InvalidName {
        /// The rejected name.
        name: String,
        /// Why.
        reason: String,
    },
    /// rcgen could not make a key or certificate. Nothing changed.
    #[error("certificate generation failed: {0}")]
    Generate(String),
}

/// Installs ring as the process-wide rustls crypto provider, unless a
/// provider is already installed. Safe to call any number of times;
/// [`server_tls`] and [`client_tls`] call it.
pub fn install_crypto_provider() {
    // An `Err` only means some provider is installed already, which is fine.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The TLS files of `name` (`n1`, or a client name) in a certificate
/// directory made by [`init_ca`] and [`issue_node`] / [`issue_client`].
pub fn files_for(dir: &Path, name: &str) -> TlsFiles {
    TlsFiles {
        cert: dir.join(format!("{name}.crt")),
        key: dir.join(format!("{name}.key")),
        ca: dir.join(CA_CERT_FILE),
    }
}

/// Creates the cluster CA: `ca.crt` and `ca.key` (mode 0600) in `dir`,
/// creating `dir` if needed. Refuses with [`TlsError::CaExists`] if either
/// file is already there.
pub fn init_ca(dir: &Path) -> Result<(), TlsError> {
    let cert_path = dir.join(CA_CERT_FILE);
    let key_path = dir.join(CA_KEY_FILE);
    if cert_path.exists() || key_path.exists() {
        return Err(TlsError::CaExists { dir: dir.into() });
    }
    std::fs::create_dir_all(dir).map_err(|e| write_error(dir, &e))?;
    let key = KeyPair::generate().map_err(generate_error)?;
    let mut params = CertificateParams::default();
    params.distinguished_name = rcgen::DistinguishedName::new();
    // A name of its own per cluster, so that a certificate of another
    // cluster is reported as from an unknown issuer.
    let tag: String =
        key.public_key_raw().iter().skip(1).take(6).map(|b| format!("{b:02x}")).collect();
    params.distinguished_name.push(DnType::CommonName, format!("synod cluster CA {tag}"));
    params.distinguished_name.push(DnType::OrganizationName, "synod");
    // Leaves are signed directly by this CA: no intermediates.
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    set_validity(&mut params, CA_VALIDITY_DAYS);
    let cert = params.self_signed(&key).map_err(generate_error)?;
    let exists = |e| match e {
        WriteFailure::Exists => TlsError::CaExists { dir: dir.into() },
        WriteFailure::Other(e) => e,
    };
    write_new_file(&key_path, &key.serialize_pem(), true).map_err(exists)?;
    write_new_file(&cert_path, &cert.pem(), false).map_err(exists)
}

/// Issues the certificate of node `node_id`, signed by the CA in `dir`:
/// subject `CN=n<id>`, names DNS `n<id>`, DNS `localhost`, IP `127.0.0.1`
/// and `::1`, usable as TLS server and client. Writes `n<id>.crt` and
/// `n<id>.key` (mode 0600), replacing an earlier certificate of that node,
/// and returns their paths.
pub fn issue_node(dir: &Path, node_id: NodeId) -> Result<(PathBuf, PathBuf), TlsError> {
    let name = node_id.to_string();
    if node_id.0 == 0 {
        return Err(invalid_name(&name, "node id 0 is reserved"));
    }
    let sans = vec![name.clone(), "localhost".into(), "127.0.0.1".into(), "::1".into()];
    let mut params = CertificateParams::new(sans).map_err(generate_error)?;
    params.extended_key_usages =
        vec![ExtendedKeyUsagePurpose::ServerAuth, ExtendedKeyUsagePurpose::ClientAuth];
    issue_leaf(dir, &name, params)
}

/// Issues a client certificate for `name` (`CN=name`, client use only),
/// signed by the CA in `dir`. Writes `<name>.crt` and `<name>.key` (mode
/// 0600), replacing an earlier certificate of that name, and returns their
/// paths. See [`validate_client_name`] for the names accepted.
pub fn issue_client(dir: &Path, name: &str) -> Result<(PathBuf, PathBuf), TlsError> {
    validate_client_name(name)?;
    let mut params = CertificateParams::new(Vec::<String>::new()).map_err(generate_error)?;
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    issue_leaf(dir, name, params)
}

/// Checks a client name: 1 to 64 characters from `A-Z a-z 0-9 _ . -`, not
/// starting with `.` or `-`, not `ca` (the CA's files) and not a node id
/// such as `n1` (a client must not pass for a node).
pub fn validate_client_name(name: &str) -> Result<(), TlsError> {
    if name.is_empty() {
        return Err(invalid_name(name, "must not be empty"));
    }
    let len = name.chars().count();
    if len > CLIENT_NAME_LEN_MAX {
        return Err(invalid_name(
            name,
            format!("is {len} characters long; at most {CLIENT_NAME_LEN_MAX} are allowed"),
        ));
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-');
    if let Some((i, c)) = name.chars().enumerate().find(|&(_, c)| !allowed(c)) {
        return Err(invalid_name(
            name,
            format!("character {c:?} at position {} is not allowed (use A-Z a-z 0-9 _ . -)", i + 1),
        ));
    }
    if name.starts_with(['.', '-']) {
        return Err(invalid_name(name, "must not start with '.' or '-'"));
    }
    if name == "ca" {
        return Err(invalid_name(name, "is reserved for the cluster CA's files"));
    }
    if parse_node_id(name).is_ok() {
        return Err(invalid_name(
            name,
            "looks like a node id; node certificates are issued with --node",
        ));
    }
    Ok(())
}

/// Server settings for tonic: this node's identity from `files`, and
/// mutual TLS: every client must present a certificate signed by the CA.
pub fn server_tls(files: &TlsFiles) -> Result<ServerTlsConfig, TlsError> {
    install_crypto_provider();
    let m = Material::load(files)?;
    Ok(ServerTlsConfig::new()
        .identity(Identity::from_pem(&m.cert_pem, &m.key_pem))
        .client_ca_root(Certificate::from_pem(&m.ca_pem))
        .client_auth_optional(false)
        .timeout(HANDSHAKE_TIMEOUT))
}

/// Client settings for tonic: trust only the CA, present this node's (or
/// client's) identity, and require the server's certificate to name
/// `server_name`: the peer's node id (`n2`), or `localhost` for a client
/// that does not know which node it dials.
pub fn client_tls(files: &TlsFiles, server_name: &str) -> Result<ClientTlsConfig, TlsError> {
    install_crypto_provider();
    if ServerName::try_from(server_name).is_err() {
        return Err(invalid_name(server_name, "is not a valid server name (DNS name or IP)"));
    }
    let m = Material::load(files)?;
    Ok(ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(&m.ca_pem))
        .identity(Identity::from_pem(&m.cert_pem, &m.key_pem))
        .domain_name(server_name)
        .timeout(HANDSHAKE_TIMEOUT))
}

/// The common name of a DER certificate, or its first DNS name; `None` if
/// it is not a certificate or names no one.
pub fn peer_identity_from_der(der: &[u8]) -> Option<String> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    cert_name(&cert)
}

/// What a verified peer certificate says about its holder, read once per
/// connection and checked against every message that claims a node id.
#[derive(Clone, Debug)]
pub struct PeerCert {
    /// The certificate's node or client name (CN or first DNS SAN), if any.
    name: Option<String>,
    /// Whether it may act as a node (serverAuth usage).
    is_node: bool,
    /// Where the connection comes from, for the log.
    remote: Option<std::net::SocketAddr>,
}

impl PeerCert {
    /// The name the certificate gives (CN or first DNS SAN), if any.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
}

/// The verified client certificate of `request`, or `None` when TLS is off.
pub fn peer_cert<T>(request: &tonic::Request<T>) -> Option<PeerCert> {
    let certs = request.peer_certs()?;
    let parsed = certs.first().and_then(|der| {
        let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
        Some((cert_name(&cert), is_server_cert(&cert)))
    });
    let (name, is_node) = parsed.unwrap_or((None, false));
    Some(PeerCert { name, is_node, remote: request.remote_addr() })
}

/// Refuses (PERMISSION_DENIED, logged as a warning) a message claiming to
/// come from `claimed` unless the peer's certificate names that node and
/// may act as a node; without TLS (`None`) every claim passes.
pub fn check_claim(peer: Option<&PeerCert>, claimed: NodeId) -> Result<(), tonic::Status> {
    let Some(peer) = peer else {
        return Ok(());
    };
    let reason = match &peer.name {
        None => format!("peer certificate names no one but the message claims {claimed}"),
        Some(name) if *name != claimed.to_string() => {
            format!("peer certificate names {name} but the message claims {claimed}")
        }
        Some(name) if !peer.is_node => format!(
            "peer certificate {name} is a client certificate and cannot speak for node {claimed}"
        ),
        Some(_) => return Ok(()),
    };
    tracing::warn!(peer = ?peer.remote, %claimed, "refused peer: {reason}");
    Err(tonic::Status::permission_denied(reason))
}

/// [`check_claim`] for the certificate of `request`.
pub fn check_peer_node_id<T>(
    request: &tonic::Request<T>,
    claimed: NodeId,
) -> Result<(), tonic::Status> {
    check_claim(peer_cert(request).as_ref(), claimed)
}

fn cert_name(cert: &X509Certificate<'_>) -> Option<String> {
    if let Some(cn) = cert.subject().iter_common_name().next() {
        return cn.as_str().ok().map(str::to_string);
    }
    let sans = cert.subject_alternative_name().ok()??;
    sans.value.general_names.iter().find_map(|n| match n {
        GeneralName::DNSName(dns) => Some(dns.to_string()),
        _ => None,
    })
}

fn is_server_cert(cert: &X509Certificate<'_>) -> bool {
    matches!(cert.extended_key_usage(), Ok(Some(eku)) if eku.value.server_auth || eku.value.any)
}

/// PEM text of a certificate, its key and the CA, checked to fit together.
struct Material {
    cert_pem: Vec<u8>,
    key_pem: Vec<u8>,
    ca_pem: Vec<u8>,
}

impl Material {
    fn load(files: &TlsFiles) -> Result<Material, TlsError> {
        let cert_pem = read_file(&files.cert)?;
        let chain = parse_certs(&files.cert, &cert_pem)?;
        let key_pem = read_file(&files.key)?;
        let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| match e {
            rustls::pki_types::pem::Error::NoItemsFound => {
                TlsError::NotPem { path: files.key.clone(), expected: "private key" }
            }
            e => invalid(&files.key, format!("malformed PEM: {e}")),
        })?;
        let ca_pem = read_file(&files.ca)?;
        let cas = parse_certs(&files.ca, &ca_pem)?;
        check_signed_by_ca(files, &chain[0], &cas)?;
        check_key_matches(files, chain, key)?;
        Ok(Material { cert_pem, key_pem, ca_pem })
    }
}

/// All certificates in a PEM file, each checked to be X.509; at least one.
fn parse_certs(path: &Path, pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid(path, format!("malformed PEM: {e}")))?;
    if certs.is_empty() {
        return Err(TlsError::NotPem { path: path.into(), expected: "certificate" });
    }
    for der in &certs {
        x509_parser::parse_x509_certificate(der)
            .map_err(|e| invalid(path, format!("not an X.509 certificate: {e}")))?;
    }
    Ok(certs)
}

fn check_key_matches(
    files: &TlsFiles,
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<(), TlsError> {
    let provider = rustls::crypto::ring::default_provider();
    match rustls::sign::CertifiedKey::from_der(chain, key, &provider) {
        Ok(_) => Ok(()),
        Err(rustls::Error::InconsistentKeys(_)) => {
            Err(TlsError::KeyMismatch { cert: files.cert.clone(), key: files.key.clone() })
        }
        Err(e) => Err(invalid(&files.key, format!("unusable private key: {e}"))),
    }
}

fn check_signed_by_ca(
    files: &TlsFiles,
    leaf: &CertificateDer<'_>,
    cas: &[CertificateDer<'_>],
) -> Result<(), TlsError> {
    fn parse<'a>(der: &'a [u8]) -> Option<X509Certificate<'a>> {
        x509_parser::parse_x509_certificate(der).map(|(_, c)| c).ok()
    }
    let Some(leaf) = parse(leaf) else {
        return Err(invalid(&files.cert, "not an X.509 certificate"));
    };
    let signed = cas
        .iter()
        .filter_map(|der| parse(der))
        .any(|ca| leaf.verify_signature(Some(ca.public_key())).is_ok());
    if signed {
        Ok(())
    } else {
        Err(invalid(&files.cert, format!("not signed by the CA in {}", files.ca.display())))
    }
}

/// Signs `params` (with `CN=name`) by the CA in `dir` and writes the pair.
fn issue_leaf(
    dir: &Path,
    name: &str,
    mut params: CertificateParams,
) -> Result<(PathBuf, PathBuf), TlsError> {
    let ca = load_ca(dir)?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.use_authority_key_identifier_extension = true;
    set_validity(&mut params, LEAF_VALIDITY_DAYS);
    let key = KeyPair::generate().map_err(generate_error)?;
    let cert = params.signed_by(&key, &ca).map_err(generate_error)?;
    let files = files_for(dir, name);
    write_file(&files.key, &key.serialize_pem(), true)?;
    write_file(&files.cert, &cert.pem(), false)?;
    Ok((files.cert, files.key))
}

fn load_ca(dir: &Path) -> Result<Issuer<'static, KeyPair>, TlsError> {
    let cert_path = dir.join(CA_CERT_FILE);
    let key_path = dir.join(CA_KEY_FILE);
    if !cert_path.exists() && !key_path.exists() {
        return Err(TlsError::CaMissing { dir: dir.into() });
    }
    let cert_pem = read_file(&cert_path)?;
    let key_pem = String::from_utf8(read_file(&key_path)?)
        .map_err(|_| TlsError::NotPem { path: key_path.clone(), expected: "private key" })?;
    let key = KeyPair::from_pem(&key_pem)
        .map_err(|e| invalid(&key_path, format!("unusable CA private key: {e}")))?;
    let ca_der = parse_certs(&cert_path, &cert_pem)?.swap_remove(0);
    let (_, ca_cert) = x509_parser::parse_x509_certificate(&ca_der)
        .map_err(|e| invalid(&cert_path, format!("not an X.509 certificate: {e}")))?;
    if ca_cert.public_key().subject_public_key.data.as_ref() != key.public_key_raw() {
        return Err(TlsError::KeyMismatch { cert: cert_path, key: key_path });
    }
    Issuer::from_ca_cert_der(&ca_der, key)
        .map_err(|e| invalid(&cert_path, format!("unusable CA certificate: {e}")))
}

fn set_validity(params: &mut CertificateParams, days: i64) {
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::hours(CLOCK_SKEW_HOURS);
    params.not_after = now + time::Duration::days(days);
}

fn read_file(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|e| TlsError::Read {
        path: path.into(),
        reason: match e.kind() {
            ErrorKind::NotFound => "file not found".into(),
            _ => e.to_string(),
        },
    })
}

enum WriteFailure {
    Exists,
    Other(TlsError),
}

/// Writes a file that must not exist yet.
fn write_new_file(path: &Path, text: &str, private: bool) -> Result<(), WriteFailure> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    write_with(options, path, text, private).map_err(|e| match e.kind() {
        ErrorKind::AlreadyExists => WriteFailure::Exists,
        _ => WriteFailure::Other(write_error(path, &e)),
    })
}

/// Writes a file, replacing one that exists.
fn write_file(path: &Path, text: &str, private: bool) -> Result<(), TlsError> {
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    write_with(options, path, text, private).map_err(|e| write_error(path, &e))
}

/// A private file is created with mode 0600, and an existing one is
/// narrowed to 0600 before the secret is written into it.
fn write_with(
    mut options: OpenOptions,
    path: &Path,
    text: &str,
    private: bool,
) -> std::io::Result<()> {
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        let file = options.open(path)?;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        return write_all_synced(file, text);
    }
    let _ = private;
    write_all_synced(options.open(path)?, text)
}

fn write_all_synced(mut file: std::fs::File, text: &str) -> std::io::Result<()> {
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

fn write_error(path: &Path, e: &std::io::Error) -> TlsError {
    TlsError::Write { path: path.into(), reason: e.to_string() }
}

fn invalid(path: &Path, reason: impl Into<String>) -> TlsError {
    TlsError::Invalid { path: path.into(), reason: reason.into() }
}

fn invalid_name(name: &str, reason: impl Into<String>) -> TlsError {
    TlsError::InvalidName { name: name.into(), reason: reason.into() }
}

fn generate_error(e: rcgen::Error) -> TlsError {
    TlsError::Generate(e.to_string())
}
