//! `synod crdt counter|set|register|map|list`: the AP state. Any node
//! accepts these; reads show the contacted node's replica.

use std::process::ExitCode;

use clap::{Args, Subcommand};
use synod_client::crdt_proto as pb;
use synod_client::crdt_proto::update_request::Op;

use crate::endpoints::ConnectArgs;

#[derive(Args)]
pub struct CrdtArgs {
    #[command(flatten)]
    connect: ConnectArgs,
    #[command(subcommand)]
    command: CrdtCommand,
}

#[derive(Subcommand)]
enum CrdtCommand {
    /// A counter that goes up and down (PN-counter).
    #[command(subcommand)]
    Counter(CounterCommand),
    /// A set of strings; an add concurrent with a remove wins (OR-set).
    #[command(subcommand)]
    Set(SetCommand),
    /// A string register; the latest write wins (LWW, hybrid logical clock).
    #[command(subcommand)]
    Register(RegisterCommand),
    /// A map of keys to values; concurrent writes of a key are all kept.
    #[command(subcommand)]
    Map(MapCommand),
    /// List the objects of the contacted node and its Merkle root.
    List,
}

#[derive(Subcommand)]
enum CounterCommand {
    /// Add BY (default 1) to NAME; prints the new value.
    Incr {
        name: String,
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(i64).range(1..))]
        by: i64,
    },
    /// Subtract BY (default 1) from NAME; prints the new value.
    Decr {
        name: String,
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(i64).range(1..))]
        by: i64,
    },
    /// Print NAME's value.
    Get { name: String },
}

#[derive(Subcommand)]
enum SetCommand {
    /// Add ELEM to NAME.
    Add { name: String, elem: String },
    /// Remove ELEM from NAME.
    Rm { name: String, elem: String },
    /// Print NAME's elements, one per line.
    Members { name: String },
}

#[derive(Subcommand)]
enum RegisterCommand {
    /// Write VALUE to NAME.
    Set { name: String, value: String },
    /// Print NAME's value.
    Get { name: String },
}

#[derive(Subcommand)]
enum MapCommand {
    /// Write VALUE at KEY of NAME.
    Put { name: String, key: String, value: String },
    /// Remove KEY from NAME.
    Rm { name: String, key: String },
    /// Print NAME (KEY<tab>VALUE lines), or one key's value(s).
    Get { name: String, key: Option<String> },
}

pub async fn run(args: CrdtArgs) -> anyhow::Result<ExitCode> {
    let client = args.connect.client()?;
    let (name, update, kind) = match args.command {
        CrdtCommand::List => {
            let list = client.crdt_list().await?;
            for object in &list.objects {
                println!("{}\t{}", object.name, kind_name(object.kind));
            }
            let root: String = list.merkle_root.iter().map(|b| format!("{b:02x}")).collect();
            eprintln!("{} objects on n{}, merkle root {root}", list.objects.len(), list.node_id);
            return Ok(ExitCode::SUCCESS);
        }
        CrdtCommand::Counter(c) => match c {
            CounterCommand::Incr { name, by } => (name, Some(Op::CounterAdd(by)), None),
            CounterCommand::Decr { name, by } => (name, Some(Op::CounterAdd(-by)), None),
            CounterCommand::Get { name } => (name, None, Some(pb::CrdtKind::Counter)),
        },
        CrdtCommand::Set(c) => match c {
            SetCommand::Add { name, elem } => (name, Some(Op::SetAdd(elem)), None),
            SetCommand::Rm { name, elem } => (name, Some(Op::SetRemove(elem)), None),
            SetCommand::Members { name } => (name, None, Some(pb::CrdtKind::Set)),
        },
        CrdtCommand::Register(c) => match c {
            RegisterCommand::Set { name, value } => (name, Some(Op::RegisterSet(value)), None),
            RegisterCommand::Get { name } => (name, None, Some(pb::CrdtKind::Register)),
        },
        CrdtCommand::Map(c) => match c {
            MapCommand::Put { name, key, value } => {
                (name, Some(Op::MapPut(pb::MapPut { key, value })), None)
            }
            MapCommand::Rm { name, key } => (name, Some(Op::MapRemove(key)), None),
            MapCommand::Get { name, key } => {
                let read = client.crdt_read(&name, pb::CrdtKind::Map).await?;
                return print_value(&name, read.value.as_ref(), key.as_deref());
            }
        },
    };
    if let Some(op) = update {
        let reply = client.crdt_update(&name, op).await?;
        return print_value(&name, reply.value.as_ref(), None);
    }
    let kind = kind.expect("a read names its type");
    let read = client.crdt_read(&name, kind).await?;
    print_value(&name, read.value.as_ref(), None)
}

fn kind_name(kind: i32) -> &'static str {
    match pb::CrdtKind::try_from(kind) {
        Ok(pb::CrdtKind::Counter) => "counter",
        Ok(pb::CrdtKind::Set) => "set",
        Ok(pb::CrdtKind::Register) => "register",
        Ok(pb::CrdtKind::Map) => "map",
        _ => "unknown",
    }
}

/// Prints a value; a missing object or key is exit code 1.
fn print_value(
    name: &str,
    value: Option<&pb::CrdtValue>,
    key: Option<&str>,
) -> anyhow::Result<ExitCode> {
    use pb::crdt_value::Value;
    let Some(value) = value.and_then(|v| v.value.as_ref()) else {
        eprintln!("no object named {name}");
        return Ok(ExitCode::from(1));
    };
    match value {
        Value::Counter(n) => println!("{n}"),
        Value::Set(set) => set.elements.iter().for_each(|e| println!("{e}")),
        Value::Register(r) => match &r.value {
            Some(v) => println!("{v}"),
            None => {
                eprintln!("register {name} has no value");
                return Ok(ExitCode::from(1));
            }
        },
        Value::Map(map) => match key {
            Some(key) => match map.entries.iter().find(|e| e.key == key) {
                Some(entry) => entry.values.iter().for_each(|v| println!("{v}")),
                None => {
                    eprintln!("map {name} has no key {key}");
                    return Ok(ExitCode::from(1));
                }
            },
            None => {
                for entry in &map.entries {
                    for v in &entry.values {
                        println!("{}\t{v}", entry.key);
                    }
                }
            }
        },
    }
    Ok(ExitCode::SUCCESS)
}
