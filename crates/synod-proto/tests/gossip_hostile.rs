//! Whatever a peer sends on the gossip stream, decoding it never panics
//! and never allocates more than the codec allows: each malformed field is
//! a precise [`GossipDecodeError`], and decompression bombs are refused.
//!
//! Randomized cases print the minimal failing input and are saved under
//! `proptest-regressions/`; replay a run with `PROPTEST_RNG_SEED=<seed>`.

mod gossip_common;

use std::io::Read as _;

use bytes::Bytes;
use proptest::collection::vec;
use proptest::prelude::*;
use prost::Message as _;
use synod_core::antientropy::{Body, Message};
use synod_core::merkle::SignedRoot;
use synod_core::NodeId;
use synod_proto::gossip::v1::{self as pb, gossip_frame::Body as PbBody, Compression};
use synod_proto::gossip::{decode_frame, encode_frame, GossipCodec, GossipDecodeError};

fn frame(body: PbBody) -> pb::GossipFrame {
    pb::GossipFrame { from: 1, session: 1, seq: 1, body: Some(body) }
}

fn deltas(compression: Compression, raw_len: u64, data: Vec<u8>) -> pb::GossipFrame {
    frame(PbBody::Deltas(pb::Deltas {
        compression: compression as i32,
        raw_len,
        data: data.into(),
    }))
}

fn err(frame: pb::GossipFrame) -> GossipDecodeError {
    decode_frame(frame).unwrap_err()
}

/// A valid `Deltas` frame of many compressible entries, compressed.
fn compressed_deltas() -> pb::GossipFrame {
    let entries = (0..200u32).map(|i| (format!("k{i}").into_bytes(), vec![i as u8; 64])).collect();
    let frame =
        encode_frame(NodeId(1), &Message { session: 1, seq: 1, body: Body::Deltas { entries } });
    let Some(PbBody::Deltas(d)) = &frame.body else { panic!("not deltas") };
    assert_eq!(d.compression(), Compression::Zstd);
    frame
}

fn root_frame() -> pb::Root {
    let root = SignedRoot::unsigned(NodeId(2), [9; 32], 12, 5);
    match encode_frame(NodeId(2), &Message { session: 1, seq: 1, body: Body::Root(root) }).body {
        Some(PbBody::Root(r)) => r,
        other => panic!("not a root: {other:?}"),
    }
}

#[test]
fn missing_body_and_zero_ids_are_rejected() {
    let mut f = frame(PbBody::Ack(pb::Ack {}));
    f.body = None;
    assert_eq!(err(f), GossipDecodeError::MissingBody);

    let mut f = frame(PbBody::Ack(pb::Ack {}));
    f.from = 0;
    assert_eq!(err(f), GossipDecodeError::ZeroNodeId("GossipFrame.from"));

    let root = pb::Root { node: 0, ..root_frame() };
    assert_eq!(err(frame(PbBody::Root(root))), GossipDecodeError::ZeroNodeId("Root.node"));
}

#[test]
fn digests_and_windows_of_the_wrong_length_are_rejected_naming_the_field() {
    let short = Bytes::from(vec![0; 31]);
    let long = Bytes::from(vec![0; 33]);
    let ok = Bytes::from(vec![0; 32]);

    let root = pb::Root { root: short.clone(), ..root_frame() };
    assert_eq!(
        err(frame(PbBody::Root(root))),
        GossipDecodeError::DigestLength { field: "Root.root", len: 31 }
    );

    // Windows travel concatenated, 8 bytes each: 16 per parent node of a
    // Children message, 8 per key of a Subtree.
    let children = pb::Children { level: 0, index_steps: vec![0, 1, 1], windows: ok.clone() };
    assert_eq!(
        err(frame(PbBody::Children(children))),
        GossipDecodeError::WindowsLength { field: "Children.windows", len: 32, count: 6 }
    );
    let children = pb::Children { level: 0, index_steps: vec![], windows: Bytes::from(vec![0; 8]) };
    assert_eq!(
        err(frame(PbBody::Children(children))),
        GossipDecodeError::WindowsLength { field: "Children.windows", len: 8, count: 0 }
    );
    let keys = vec![Bytes::from_static(b"k"), Bytes::from_static(b"l")];
    let subtree = pb::Subtree { level: 2, index: 3, keys, windows: Bytes::from(vec![0; 15]) };
    let keys = pb::Keys { nodes: vec![subtree] };
    let e = err(frame(PbBody::Keys(keys)));
    assert_eq!(e, GossipDecodeError::WindowsLength { field: "Subtree.windows", len: 15, count: 2 });
    assert_eq!(e.to_string(), "Subtree.windows holds 15 bytes, but 2 windows of 8 bytes are 16");

    // An empty Want digest means "I lack it"; any other length but 32 is wrong.
    for (digest, len) in [(short, 31), (long, 33), (Bytes::from(vec![0; 8]), 8)] {
        let wanted = pb::WantedKey { key: Bytes::from_static(b"k"), digest };
        assert_eq!(
            err(frame(PbBody::Want(pb::Want { keys: vec![wanted] }))),
            GossipDecodeError::DigestLength { field: "WantedKey.digest", len }
        );
    }
}

#[test]
fn signatures_of_the_wrong_length_and_wide_depths_are_rejected() {
    for len in [1, 63, 65, 128] {
        let root = pb::Root { signature: Bytes::from(vec![1; len]), ..root_frame() };
        assert_eq!(err(frame(PbBody::Root(root))), GossipDecodeError::SignatureLength(len));
    }
    let root = pb::Root { depth: 256, ..root_frame() };
    assert_eq!(
        err(frame(PbBody::Root(root))),
        GossipDecodeError::OutOfRange { field: "Root.depth", value: 256 }
    );
    let children = pb::Children { level: u32::MAX, ..Default::default() };
    assert_eq!(
        err(frame(PbBody::Children(children))),
        GossipDecodeError::OutOfRange { field: "Children.level", value: u32::MAX }
    );
    let subtree = pb::Subtree { level: 256, ..Default::default() };
    assert_eq!(
        err(frame(PbBody::Keys(pb::Keys { nodes: vec![subtree] }))),
        GossipDecodeError::OutOfRange { field: "Subtree.level", value: 256 }
    );
}

#[test]
fn unknown_compression_is_rejected() {
    let mut f = deltas(Compression::None, 0, vec![]);
    let Some(PbBody::Deltas(d)) = &mut f.body else { unreachable!() };
    d.compression = 7;
    assert_eq!(err(f), GossipDecodeError::UnknownCompression(7));
}

#[test]
fn declared_length_above_the_limit_is_rejected_before_decompressing() {
    // The data is not even valid zstd: the limit is checked first.
    let codec = GossipCodec { decoded_bytes_max: 1 << 20, ..GossipCodec::default() };
    for declared in [(1 << 20) + 1, u64::MAX] {
        let f = deltas(Compression::Zstd, declared, vec![0xff; 16]);
        assert_eq!(
            codec.decode(f).unwrap_err(),
            GossipDecodeError::TooLarge { field: "Deltas.raw_len", declared, max: 1 << 20 }
        );
    }
    let f = deltas(Compression::None, (1 << 20) + 1, vec![]);
    assert!(matches!(codec.decode(f), Err(GossipDecodeError::TooLarge { .. })));
}

#[test]
fn decompression_bomb_is_refused() {
    // 256 MiB of zeros in ~8 KiB. Honestly declared, it is over the 16 MiB
    // default limit; declared small, decompression stops at the declared
    // length. Both with and without the size in the zstd frame header.
    let bomb_len = 256u64 << 20;
    let mut streamed = Vec::new();
    zstd::stream::copy_encode(std::io::repeat(0).take(bomb_len), &mut streamed, 3).unwrap();
    let sized = zstd::bulk::compress(&vec![0; 64 << 20], 3).unwrap();
    assert!(streamed.len() < 64 * 1024 && sized.len() < 16 * 1024);

    let f = deltas(Compression::Zstd, bomb_len, streamed.clone());
    let max = 16 << 20;
    assert_eq!(
        err(f),
        GossipDecodeError::TooLarge { field: "Deltas.raw_len", declared: bomb_len, max }
    );
    for blob in [streamed, sized] {
        let f = deltas(Compression::Zstd, 1000, blob);
        assert!(matches!(err(f), GossipDecodeError::Decompress { .. }));
    }
}

#[test]
fn corrupt_and_truncated_blobs_are_rejected() {
    let Some(PbBody::Deltas(good)) = compressed_deltas().body else { unreachable!() };
    let with_data =
        |data: Vec<u8>| frame(PbBody::Deltas(pb::Deltas { data: data.into(), ..good.clone() }));

    // Not zstd at all (bad magic number).
    assert!(matches!(
        err(with_data(vec![0xde, 0xad, 0xbe, 0xef, 0, 0])),
        GossipDecodeError::Decompress { .. }
    ));
    // Truncated: the frame ends early.
    let cut = good.data[..good.data.len() / 2].to_vec();
    assert!(matches!(err(with_data(cut)), GossipDecodeError::Decompress { .. }));
    // Damaged in the middle: zstd's checksums or block structure catch it,
    // or the output has the wrong length or is not DeltaEntries.
    let mut damaged = good.data.to_vec();
    let mid = damaged.len() / 2;
    damaged[mid] ^= 0x55;
    damaged[mid + 1] ^= 0xaa;
    assert!(decode_frame(with_data(damaged)).is_err());
}

#[test]
fn lengths_that_do_not_match_the_declaration_are_rejected() {
    let Some(PbBody::Deltas(good)) = compressed_deltas().body else { unreachable!() };
    let declared = good.raw_len + 1;
    let f = frame(PbBody::Deltas(pb::Deltas { raw_len: declared, ..good.clone() }));
    assert_eq!(
        err(f),
        GossipDecodeError::LengthMismatch {
            field: "Deltas.raw_len",
            declared,
            actual: good.raw_len as usize
        }
    );

    // A raw batch cut short, or padded.
    let raw = pb::DeltaEntries {
        keys: vec![Bytes::from_static(b"k")],
        payloads: vec![Bytes::from_static(b"v")],
    }
    .encode_to_vec();
    let f = deltas(Compression::None, raw.len() as u64, raw[..raw.len() - 1].to_vec());
    assert_eq!(
        err(f),
        GossipDecodeError::LengthMismatch {
            field: "Deltas.raw_len",
            declared: raw.len() as u64,
            actual: raw.len() - 1
        }
    );
    let f = deltas(Compression::None, 2, raw);
    assert!(matches!(err(f), GossipDecodeError::LengthMismatch { declared: 2, .. }));
}

#[test]
fn batch_bytes_that_are_not_entries_are_rejected() {
    // A key (field 2) declared 100 bytes long, with 2 bytes.
    let bogus = vec![0x12, 100, 1, 2];
    let f = deltas(Compression::None, 4, bogus.clone());
    assert!(matches!(err(f), GossipDecodeError::Entries(_)));
    let packed = zstd::bulk::compress(&bogus, 3).unwrap();
    let f = deltas(Compression::Zstd, 4, packed);
    assert!(matches!(err(f), GossipDecodeError::Entries(_)));
}

#[test]
fn batches_with_more_keys_than_payloads_are_rejected() {
    let columns = |keys: usize, payloads: usize| {
        let raw = pb::DeltaEntries {
            keys: vec![Bytes::from_static(b"k"); keys],
            payloads: vec![Bytes::from_static(b"v"); payloads],
        }
        .encode_to_vec();
        deltas(Compression::None, raw.len() as u64, raw)
    };
    assert_eq!(err(columns(2, 1)), GossipDecodeError::ColumnsMismatch { keys: 2, payloads: 1 });
    assert_eq!(err(columns(0, 3)), GossipDecodeError::ColumnsMismatch { keys: 0, payloads: 3 });
    assert!(decode_frame(columns(3, 3)).is_ok());
}

#[test]
fn empty_zstd_batches_decode_to_nothing() {
    // An empty frame, or no frame at all, decompresses to zero bytes: an
    // empty batch if that is what was declared, a length mismatch if not.
    let empty = zstd::bulk::compress(&[], 3).unwrap();
    for blob in [empty, vec![]] {
        let (_, msg) = decode_frame(deltas(Compression::Zstd, 0, blob.clone())).unwrap();
        assert_eq!(msg.body, Body::Deltas { entries: vec![] });
        assert_eq!(
            err(deltas(Compression::Zstd, 5, blob)),
            GossipDecodeError::LengthMismatch { field: "Deltas.raw_len", declared: 5, actual: 0 }
        );
    }
}

fn compressed(raw_len: u64, data: Vec<u8>) -> pb::GossipFrame {
    frame(PbBody::Compressed(pb::Compressed { raw_len, data: data.into() }))
}

/// `inner` encoded and zstd-compressed as a `Compressed` body.
fn wrap(inner: pb::GossipFrame) -> pb::GossipFrame {
    let raw = inner.encode_to_vec();
    compressed(raw.len() as u64, zstd::bulk::compress(&raw, 3).unwrap())
}

#[test]
fn compressed_bodies_are_checked_like_batches() {
    let inner = frame(PbBody::Want(pb::Want { keys: vec![] }));
    assert_eq!(decode_frame(wrap(inner.clone())).unwrap().1.body, Body::Want { keys: vec![] });

    // The declared length is checked before anything is decompressed.
    let declared = (16 << 20) + 1;
    assert_eq!(
        err(compressed(declared, vec![0xff; 8])),
        GossipDecodeError::TooLarge { field: "Compressed.raw_len", declared, max: 16 << 20 }
    );
    assert!(matches!(
        err(compressed(10, vec![0xde, 0xad, 0xbe, 0xef])),
        GossipDecodeError::Decompress { field: "Compressed.data", .. }
    ));
    let raw = inner.encode_to_vec();
    let packed = zstd::bulk::compress(&raw, 3).unwrap();
    let declared = raw.len() as u64 + 1;
    assert_eq!(
        err(compressed(declared, packed)),
        GossipDecodeError::LengthMismatch {
            field: "Compressed.raw_len",
            declared,
            actual: raw.len()
        }
    );

    // What it holds must be a frame with a plain body.
    let garbage = zstd::bulk::compress(&[0x0a, 100, 1], 3).unwrap();
    assert!(matches!(err(compressed(3, garbage)), GossipDecodeError::CompressedBody(_)));
    let empty = pb::GossipFrame { body: None, ..inner.clone() };
    assert_eq!(err(wrap(empty)), GossipDecodeError::MissingBody);
    assert_eq!(err(wrap(wrap(inner))), GossipDecodeError::NestedCompression);
}

/// Decodes `wire` as a frame and converts it if it decodes.
fn decode_and_convert(wire: &[u8]) {
    if let Ok(frame) = pb::GossipFrame::decode(Bytes::copy_from_slice(wire)) {
        let _ = decode_frame(frame);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn random_bytes_never_panic(wire in vec(any::<u8>(), 0..512)) {
        decode_and_convert(&wire);
    }

    #[test]
    fn damaged_encodings_never_panic(
        msg in gossip_common::message(),
        flips in vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
    ) {
        // Deltas frames are often compressed, so flips land in zstd data too.
        let mut wire = encode_frame(NodeId(1), &msg).encode_to_vec();
        for (at, byte) in flips {
            let i = at.index(wire.len());
            wire[i] ^= byte;
        }
        decode_and_convert(&wire);
        decode_and_convert(&wire[..cut.index(wire.len() + 1)]);
    }

    #[test]
    fn random_zstd_blobs_never_panic(raw_len in 0u64..4096, data in vec(any::<u8>(), 0..256)) {
        // Start from a real zstd frame header so that the decoder gets past
        // the magic number.
        let mut blob = zstd::bulk::compress(b"seed", 3).unwrap()[..4].to_vec();
        blob.extend(data);
        let _ = decode_frame(deltas(Compression::Zstd, raw_len, blob));
    }
}
