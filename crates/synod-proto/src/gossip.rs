//! The anti-entropy wire format (`synod.gossip.v1`): synod-core's
//! [`antientropy::Message`](Message) in a [`GossipFrame`], with `Deltas`
//! batches zstd-compressed.
//!
//! The session core leaves batches uncompressed on purpose (compression is
//! a wire concern); this codec lays a batch out by column (all keys, then
//! all payloads, which compresses better than interleaved pairs), and
//! compresses it when it is at least [`GossipCodec::compress_bytes_min`]
//! long and compression actually shrinks it, flagging it raw otherwise.
//! `Children`, `Keys` and `Want` bodies of that size travel as a
//! `Compressed` body when that is smaller (lists of keys shrink by a third
//! to a half; windows of hashes do not, and stay plain).
//!
//! Decoding faces peers, so it is bounded: the declared uncompressed length
//! of a batch or compressed body is checked against
//! [`GossipCodec::decoded_bytes_max`] before anything is allocated,
//! decompression stops at that declared length, a compressed body may not
//! hold another, and every field the core relies on (digest, digest-window
//! and signature lengths, node ids, 8-bit depths and levels) is checked.
//! Any failure is a [`GossipDecodeError`], never a panic.
//!
//! ```
//! use synod_core::antientropy::{Body, Message};
//! use synod_core::NodeId;
//! use synod_proto::gossip::{v1::Compression, GossipCodec};
//!
//! let codec = GossipCodec::default();
//! let entries = (0..200).map(|i| (format!("user/{i}").into_bytes(), vec![7; 40])).collect();
//! let msg = Message { session: 9, seq: 4, body: Body::Deltas { entries } };
//!
//! let frame = codec.encode(NodeId(1), &msg);
//! let Some(synod_proto::gossip::v1::gossip_frame::Body::Deltas(d)) = &frame.body else { panic!() };
//! assert_eq!(d.compression(), Compression::Zstd);
//! assert!(d.data.len() < d.raw_len as usize / 3);
//!
//! assert_eq!(codec.decode(frame).unwrap(), (NodeId(1), msg));
//! ```

use bytes::Bytes;
use prost::Message as _;
use synod_core::antientropy::{Body, Message, SubtreeEntries};
use synod_core::merkle::{Digest, SignedRoot, Window, WINDOW_BYTES};
use synod_core::NodeId;

pub use crate::error::GossipDecodeError;

/// The entries of a `Deltas` body: `(key, payload)`.
type DeltaEntries = Vec<(Vec<u8>, Vec<u8>)>;
use v1::gossip_frame::Body as PbBody;
use v1::{Compression, GossipFrame};

/// Version 1 of the gossip wire format.
pub mod v1 {
    #![allow(missing_docs)]
    tonic::include_proto!("synod.gossip.v1");
}

/// Default [`GossipCodec::compress_bytes_min`]: below this, zstd's frame
/// header and the CPU cost outweigh what it saves.
pub const COMPRESS_BYTES_MIN_DEFAULT: usize = 512;
/// Default [`GossipCodec::zstd_level`]: zstd's own default, fast and
/// within a few percent of the higher levels on small batches.
pub const ZSTD_LEVEL_DEFAULT: i32 = 3;
/// Default [`GossipCodec::decoded_bytes_max`]: 16 MiB, well above the
/// session's default 256 KiB batches, so that a batch carrying one large
/// value still passes.
pub const DECODED_BYTES_MAX_DEFAULT: usize = 16 << 20;

/// Encodes and decodes anti-entropy messages as [`GossipFrame`]s.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GossipCodec {
    /// Encoded `Deltas` entries, and `Children`, `Keys` and `Want` bodies,
    /// shorter than this travel uncompressed.
    pub compress_bytes_min: usize,
    /// zstd compression level (zstd clamps it to its supported range).
    pub zstd_level: i32,
    /// The largest `Deltas` batch or compressed body accepted,
    /// uncompressed. Must be at least the sender's `batch_bytes_max` plus
    /// its largest single value.
    pub decoded_bytes_max: usize,
}

impl Default for GossipCodec {
    fn default() -> Self {
        GossipCodec {
            compress_bytes_min: COMPRESS_BYTES_MIN_DEFAULT,
            zstd_level: ZSTD_LEVEL_DEFAULT,
            decoded_bytes_max: DECODED_BYTES_MAX_DEFAULT,
        }
    }
}

/// [`GossipCodec::encode`] with the default codec.
pub fn encode_frame(from: NodeId, msg: &Message) -> GossipFrame {
    GossipCodec::default().encode(from, msg)
}

/// [`GossipCodec::decode`] with the default codec.
pub fn decode_frame(frame: GossipFrame) -> Result<(NodeId, Message), GossipDecodeError> {
    GossipCodec::default().decode(frame)
}

impl GossipCodec {
    /// The frame for `msg`, sent by `from`. Cannot fail: should zstd fail,
    /// the batch travels raw.
    pub fn encode(&self, from: NodeId, msg: &Message) -> GossipFrame {
        let body = match self.body_to_proto(&msg.body) {
            plain @ (PbBody::Children(_) | PbBody::Keys(_) | PbBody::Want(_)) => self.pack(plain),
            plain => plain,
        };
        GossipFrame { from: from.0, session: msg.session, seq: msg.seq, body: Some(body) }
    }

    /// The sender and message of `frame`, after checking every field.
    pub fn decode(&self, frame: GossipFrame) -> Result<(NodeId, Message), GossipDecodeError> {
        let from = node_id(frame.from, "GossipFrame.from")?;
        let body = self.body_from_proto(frame.body.ok_or(GossipDecodeError::MissingBody)?)?;
        Ok((from, Message { session: frame.session, seq: frame.seq, body }))
    }

    /// `plain` zstd-compressed as a `Compressed` body, when it is long
    /// enough to try and comes out smaller; else `plain` itself. Keys and
    /// wants are mostly keys, which share prefixes; only the digests and
    /// windows among them are incompressible.
    fn pack(&self, plain: PbBody) -> PbBody {
        let mut frame = GossipFrame { body: Some(plain), ..GossipFrame::default() };
        let raw = frame.encode_to_vec();
        if let Some(data) = self.compress(&raw) {
            // The wrapper costs a few bytes of tags and lengths.
            if data.len() + 16 < raw.len() {
                return PbBody::Compressed(v1::Compressed { raw_len: raw.len() as u64, data });
            }
        }
        frame.body.take().expect("set above")
    }

    /// `raw` compressed, if it is long enough to try and zstd shrinks it.
    fn compress(&self, raw: &[u8]) -> Option<Bytes> {
        if raw.len() < self.compress_bytes_min {
            return None;
        }
        let packed = zstd::bulk::compress(raw, self.zstd_level).ok()?;
        (packed.len() < raw.len()).then(|| packed.into())
    }

    /// The uncompressed bytes of `data`, which the sender declared (in
    /// `field`) to be `declared` bytes long.
    /// `(field, data_field)` name the length and data fields in errors.
    fn unpack(
        &self,
        (field, data_field): (&'static str, &'static str),
        zstd: bool,
        declared: u64,
        data: Bytes,
    ) -> Result<Bytes, GossipDecodeError> {
        // The limit comes first: a hostile peer must not make this node
        // allocate, or even start decompressing, more than it allows.
        let max = self.decoded_bytes_max;
        let declared_len = usize::try_from(declared).ok().filter(|&len| len <= max);
        let declared_len =
            declared_len.ok_or(GossipDecodeError::TooLarge { field, declared, max })?;
        let raw = if zstd {
            zstd::bulk::decompress(&data, declared_len).map(Bytes::from).map_err(|e| {
                GossipDecodeError::Decompress { field: data_field, reason: e.to_string() }
            })?
        } else {
            data
        };
        if raw.len() != declared_len {
            return Err(GossipDecodeError::LengthMismatch { field, declared, actual: raw.len() });
        }
        Ok(raw)
    }

    fn unpack_body(&self, packed: v1::Compressed) -> Result<Body, GossipDecodeError> {
        let fields = ("Compressed.raw_len", "Compressed.data");
        let raw = self.unpack(fields, true, packed.raw_len, packed.data)?;
        let inner = GossipFrame::decode(raw).map_err(GossipDecodeError::CompressedBody)?;
        match inner.body.ok_or(GossipDecodeError::MissingBody)? {
            PbBody::Compressed(_) => Err(GossipDecodeError::NestedCompression),
            plain => self.body_from_proto(plain),
        }
    }

    fn encode_deltas(&self, entries: &DeltaEntries) -> v1::Deltas {
        let raw = v1::DeltaEntries {
            keys: entries.iter().map(|(key, _)| bytes_of(key)).collect(),
            payloads: entries.iter().map(|(_, payload)| bytes_of(payload)).collect(),
        }
        .encode_to_vec();
        let raw_len = raw.len() as u64;
        match self.compress(&raw) {
            Some(data) => v1::Deltas { compression: Compression::Zstd as i32, raw_len, data },
            None => v1::Deltas { compression: Compression::None as i32, raw_len, data: raw.into() },
        }
    }

    fn decode_deltas(&self, deltas: v1::Deltas) -> Result<DeltaEntries, GossipDecodeError> {
        let compression = Compression::try_from(deltas.compression)
            .map_err(|_| GossipDecodeError::UnknownCompression(deltas.compression))?;
        let zstd = compression == Compression::Zstd;
        let fields = ("Deltas.raw_len", "Deltas.data");
        let raw = self.unpack(fields, zstd, deltas.raw_len, deltas.data)?;
        let columns = v1::DeltaEntries::decode(raw)?;
        let (keys, payloads) = (columns.keys.len(), columns.payloads.len());
        if keys != payloads {
            return Err(GossipDecodeError::ColumnsMismatch { keys, payloads });
        }
        let payloads = columns.payloads.into_iter().map(|p| p.to_vec());
        Ok(columns.keys.into_iter().map(|k| k.to_vec()).zip(payloads).collect())
    }

    fn body_to_proto(&self, body: &Body) -> PbBody {
        match body {
            Body::Root(root) => PbBody::Root(v1::Root {
                node: root.node.0,
                root: bytes_of(&root.root),
                depth: u32::from(root.depth),
                counter: root.counter,
                signature: root.signature.map_or_else(Bytes::new, |s| bytes_of(&s)),
            }),
            Body::Children { level, nodes } => PbBody::Children(children_to_proto(*level, nodes)),
            Body::Keys { nodes } => PbBody::Keys(v1::Keys {
                nodes: nodes
                    .iter()
                    .map(|(l, i, entries)| subtree_to_proto(*l, *i, entries))
                    .collect(),
            }),
            Body::Want { keys } => PbBody::Want(v1::Want {
                keys: keys
                    .iter()
                    .map(|(key, d)| v1::WantedKey {
                        key: bytes_of(key),
                        digest: d.as_ref().map_or_else(Bytes::new, |d| bytes_of(d)),
                    })
                    .collect(),
            }),
            Body::Deltas { entries } => PbBody::Deltas(self.encode_deltas(entries)),
            Body::Ack => PbBody::Ack(v1::Ack {}),
            Body::Done => PbBody::Done(v1::Done {}),
            Body::Abort { reason } => PbBody::Abort(v1::Abort { reason: reason.clone() }),
        }
    }

    fn body_from_proto(&self, body: PbBody) -> Result<Body, GossipDecodeError> {
        Ok(match body {
            PbBody::Root(root) => Body::Root(root_from_proto(root)?),
            PbBody::Children(c) => children_from_proto(c)?,
            PbBody::Keys(k) => Body::Keys {
                nodes: k.nodes.into_iter().map(subtree_from_proto).collect::<Result<_, _>>()?,
            },
            PbBody::Want(w) => Body::Want {
                keys: w
                    .keys
                    .into_iter()
                    .map(|k| {
                        // An empty digest says the sender lacks the key.
                        let hint = if k.digest.is_empty() {
                            None
                        } else {
                            Some(digest(&k.digest, "WantedKey.digest")?)
                        };
                        Ok((k.key.to_vec(), hint))
                    })
                    .collect::<Result<_, GossipDecodeError>>()?,
            },
            PbBody::Deltas(deltas) => Body::Deltas { entries: self.decode_deltas(deltas)? },
            PbBody::Ack(v1::Ack {}) => Body::Ack,
            PbBody::Done(v1::Done {}) => Body::Done,
            PbBody::Abort(a) => Body::Abort { reason: a.reason },
            PbBody::Compressed(packed) => self.unpack_body(packed)?,
        })
    }
}

fn root_from_proto(root: v1::Root) -> Result<SignedRoot, GossipDecodeError> {
    let signature = match root.signature.len() {
        0 => None,
        64 => root.signature[..].try_into().ok(),
        len => return Err(GossipDecodeError::SignatureLength(len)),
    };
    Ok(SignedRoot {
        node: node_id(root.node, "Root.node")?,
        root: digest(&root.root, "Root.root")?,
        depth: byte(root.depth, "Root.depth")?,
        counter: root.counter,
        signature,
    })
}

fn children_to_proto(level: u8, nodes: &[(u32, [Window; 2])]) -> v1::Children {
    let windows: Vec<u8> = nodes.iter().flat_map(|(_, pair)| pair.concat()).collect();
    let mut previous = 0u32;
    let index_steps = nodes
        .iter()
        .map(|(index, _)| {
            let step = index.wrapping_sub(previous);
            previous = *index;
            step
        })
        .collect();
    v1::Children { level: u32::from(level), index_steps, windows: windows.into() }
}

fn children_from_proto(children: v1::Children) -> Result<Body, GossipDecodeError> {
    let level = byte(children.level, "Children.level")?;
    let count = 2 * children.index_steps.len();
    let windows = windows(&children.windows, count, "Children.windows")?;
    let mut index = 0u32;
    let indexes = children.index_steps.into_iter().map(|step| {
        index = index.wrapping_add(step);
        index
    });
    let pairs = windows.chunks_exact(2).map(|pair| [pair[0], pair[1]]);
    Ok(Body::Children { level, nodes: indexes.zip(pairs).collect() })
}

fn subtree_to_proto(level: u8, index: u32, entries: &SubtreeEntries) -> v1::Subtree {
    let windows: Vec<u8> = entries.iter().flat_map(|(_, window)| *window).collect();
    let keys = entries.iter().map(|(key, _)| bytes_of(key)).collect();
    v1::Subtree { level: u32::from(level), index, keys, windows: windows.into() }
}

fn subtree_from_proto(
    subtree: v1::Subtree,
) -> Result<(u8, u32, SubtreeEntries), GossipDecodeError> {
    let level = byte(subtree.level, "Subtree.level")?;
    let windows = windows(&subtree.windows, subtree.keys.len(), "Subtree.windows")?;
    let keys = subtree.keys.into_iter().map(|key| key.to_vec());
    Ok((level, subtree.index, keys.zip(windows).collect()))
}

/// `bytes` cut into `count` digest windows, or an error naming `field`
/// when it does not hold exactly that many.
fn windows(
    bytes: &[u8],
    count: usize,
    field: &'static str,
) -> Result<Vec<Window>, GossipDecodeError> {
    if Some(bytes.len()) != count.checked_mul(WINDOW_BYTES) {
        return Err(GossipDecodeError::WindowsLength { field, len: bytes.len(), count });
    }
    Ok(bytes.chunks_exact(WINDOW_BYTES).map(|w| w.try_into().expect("a whole window")).collect())
}

/// `raw` as a node id, or an error naming `field` when it is 0.
fn node_id(raw: u64, field: &'static str) -> Result<NodeId, GossipDecodeError> {
    match raw {
        0 => Err(GossipDecodeError::ZeroNodeId(field)),
        id => Ok(NodeId(id)),
    }
}

fn digest(bytes: &[u8], field: &'static str) -> Result<Digest, GossipDecodeError> {
    bytes.try_into().map_err(|_| GossipDecodeError::DigestLength { field, len: bytes.len() })
}

fn byte(value: u32, field: &'static str) -> Result<u8, GossipDecodeError> {
    u8::try_from(value).map_err(|_| GossipDecodeError::OutOfRange { field, value })
}

fn bytes_of(slice: &[u8]) -> Bytes {
    Bytes::copy_from_slice(slice)
}
