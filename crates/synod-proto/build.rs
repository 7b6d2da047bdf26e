//! Compiles the .proto files under `proto/` with protox (a protobuf compiler
//! written in Rust, so no system `protoc` is needed) and generates prost
//! messages and tonic clients and servers into `OUT_DIR`.

use std::path::PathBuf;

const PROTO_ROOT: &str = "proto";
const PROTOS: &[&str] = &[
    "proto/synod/raft/v1/raft.proto",
    "proto/synod/kv/v1/kv.proto",
    "proto/synod/cluster/v1/cluster.proto",
    "proto/synod/gossip/v1/gossip.proto",
    "proto/synod/crdt/v1/crdt.proto",
    "proto/synod/membership/v1/membership.proto",
    "proto/synod/vote/v1/vote.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed={PROTO_ROOT}");
    for proto in PROTOS {
        println!("cargo:rerun-if-changed={proto}");
    }

    let fds = protox::compile(PROTOS, [PROTO_ROOT])?;

    // The descriptor set, for gRPC server reflection.
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    let encoded = protox::prost::Message::encode_to_vec(&fds);
    std::fs::write(out_dir.join("synod_descriptor.bin"), encoded)?;

    tonic_prost_build::configure()
        // `bytes` fields decode as `bytes::Bytes`: commands and snapshot
        // chunks share the receive buffer instead of being copied.
        .bytes(".")
        // Clients take a channel; no `connect` helper, so this crate does
        // not pull in tonic's transport.
        .build_transport(false)
        .compile_fds(fds)?;
    Ok(())
}
