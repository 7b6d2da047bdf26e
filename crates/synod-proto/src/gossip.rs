//! The anti-entropy wire format (`synod.gossip.v1`): synod-core's
//! [`antientropy::Message`](Message) in a [`GossipFrame`], with `Deltas`
//! batches zstd-compressed.
//!
//! The session core leaves batches uncompressed on purpose (compression is
//! a wire concern); this codec compresses the encoded entries of a batch
//! when they are at least [`GossipCodec::compress_bytes_min`] long and
//! compression actually shrinks them, and flags the batch as raw otherwise.
//!
//! Decoding faces peers, so it is bounded: the declared uncompressed length
//! of a batch is checked against [`GossipCodec::decoded_bytes_max`] before
//! anything is allocated, decompression stops at that declared length, and
//! every field the core relies on (digest and signature lengths, node ids,
//! 8-bit depths) is checked. Any failure is a [`GossipDecodeError`], never
//! a panic.
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
use synod_core::antientropy::{Body, LeafEntries, Message};
use synod_core::merkle::{Digest, SignedRoot};
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
    /// Encoded `Deltas` entries shorter than this travel raw.
    pub compress_bytes_min: usize,
    /// zstd compression level (zstd clamps it to its supported range).
    pub zstd_level: i32,
    /// The largest `Deltas` batch accepted, uncompressed. Must be at least
    /// the sender's `batch_bytes_max` plus its largest single value.
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
        let body = Some(self.body_to_proto(&msg.body));
        GossipFrame { from: from.0, session: msg.session, seq: msg.seq, body }
    }

    /// The sender and message of `frame`, after checking every field.
    pub fn decode(&self, frame: GossipFrame) -> Result<(NodeId, Message), GossipDecodeError> {
        let from = node_id(frame.from, "GossipFrame.from")?;
        let body = self.body_from_proto(frame.body.ok_or(GossipDecodeError::MissingBody)?)?;
        Ok((from, Message { session: frame.session, seq: frame.seq, body }))
    }

    fn encode_deltas(&self, entries: &DeltaEntries) -> v1::Deltas {
        let raw = v1::DeltaEntries {
            entries: entries
                .iter()
                .map(|(key, payload)| v1::DeltaEntry {
                    key: Bytes::copy_from_slice(key),
                    payload: Bytes::copy_from_slice(payload),
                })
                .collect(),
        }
        .encode_to_vec();
        let raw_len = raw.len() as u64;
        if raw.len() >= self.compress_bytes_min {
            if let Ok(packed) = zstd::bulk::compress(&raw, self.zstd_level) {
                if packed.len() < raw.len() {
                    let compression = Compression::Zstd as i32;
                    return v1::Deltas { compression, raw_len, data: packed.into() };
                }
            }
        }
        v1::Deltas { compression: Compression::None as i32, raw_len, data: raw.into() }
    }

    fn decode_deltas(&self, deltas: v1::Deltas) -> Result<DeltaEntries, GossipDecodeError> {
        let declared = deltas.raw_len;
        let compression = Compression::try_from(deltas.compression)
            .map_err(|_| GossipDecodeError::UnknownCompression(deltas.compression))?;
        // The limit comes first: a hostile peer must not make this node
        // allocate, or even start decompressing, more than it allows.
        let limit = self.decoded_bytes_max;
        let declared_len = usize::try_from(declared).ok().filter(|&len| len <= limit);
        let declared_len =
            declared_len.ok_or(GossipDecodeError::DeltasTooLarge { declared, max: limit })?;
        let raw = match compression {
            Compression::None => deltas.data,
            Compression::Zstd => zstd::bulk::decompress(&deltas.data, declared_len)
                .map(Bytes::from)
                .map_err(|e| GossipDecodeError::Decompress(e.to_string()))?,
        };
        if raw.len() != declared_len {
            return Err(GossipDecodeError::LengthMismatch { declared, actual: raw.len() });
        }
        let entries = v1::DeltaEntries::decode(raw)?.entries;
        Ok(entries.into_iter().map(|e| (e.key.to_vec(), e.payload.to_vec())).collect())
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
            Body::Children { level, nodes } => PbBody::Children(v1::Children {
                level: u32::from(*level),
                nodes: nodes
                    .iter()
                    .map(|(index, [left, right])| v1::ChildHashes {
                        index: *index,
                        left: bytes_of(left),
                        right: bytes_of(right),
                    })
                    .collect(),
            }),
            Body::Keys { leaves } => PbBody::Keys(v1::Keys {
                leaves: leaves
                    .iter()
                    .map(|(index, entries)| v1::Leaf {
                        index: *index,
                        entries: entries
                            .iter()
                            .map(|(key, d)| v1::KeyDigest {
                                key: bytes_of(key),
                                digest: bytes_of(d),
                            })
                            .collect(),
                    })
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
            PbBody::Children(c) => Body::Children {
                level: byte(c.level, "Children.level")?,
                nodes: c
                    .nodes
                    .into_iter()
                    .map(|n| {
                        let left = digest(&n.left, "ChildHashes.left")?;
                        Ok((n.index, [left, digest(&n.right, "ChildHashes.right")?]))
                    })
                    .collect::<Result<_, GossipDecodeError>>()?,
            },
            PbBody::Keys(k) => Body::Keys {
                leaves: k
                    .leaves
                    .into_iter()
                    .map(|leaf| Ok((leaf.index, leaf_from_proto(leaf.entries)?)))
                    .collect::<Result<_, GossipDecodeError>>()?,
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

fn leaf_from_proto(entries: Vec<v1::KeyDigest>) -> Result<LeafEntries, GossipDecodeError> {
    entries
        .into_iter()
        .map(|e| Ok((e.key.to_vec(), digest(&e.digest, "KeyDigest.digest")?)))
        .collect()
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
