//! `synod kv put|get|del|cas|range`.

use std::process::ExitCode;

use clap::{Args, Subcommand};

use crate::endpoints::ConnectArgs;

#[derive(Args)]
pub struct KvArgs {
    #[command(flatten)]
    connect: ConnectArgs,
    #[command(subcommand)]
    command: KvCommand,
}

#[derive(Subcommand)]
enum KvCommand {
    /// Write VALUE at KEY; prints the revision.
    Put { key: String, value: String },
    /// Print the value at KEY (linearizable unless --serializable).
    Get {
        key: String,
        /// Read the contacted node's replica without a leader round.
        #[arg(long)]
        serializable: bool,
    },
    /// Delete KEY.
    Del { key: String },
    /// Set KEY to NEW only if it holds --expect (or is absent with --absent).
    Cas {
        key: String,
        /// The value KEY must hold.
        #[arg(long, conflicts_with = "absent", required_unless_present = "absent")]
        expect: Option<String>,
        /// KEY must not exist.
        #[arg(long)]
        absent: bool,
        new: String,
    },
    /// List keys starting with PREFIX.
    Range {
        prefix: String,
        /// At most this many keys.
        #[arg(long, default_value_t = 0)]
        limit: u64,
    },
}

pub async fn run(args: KvArgs) -> anyhow::Result<ExitCode> {
    let client = args.connect.client()?;
    match args.command {
        KvCommand::Put { key, value } => {
            let revision = client.put(key.as_bytes(), value.as_bytes()).await?;
            println!("OK revision {revision}");
        }
        KvCommand::Get { key, serializable } => {
            match client.get_with(key.as_bytes(), serializable).await? {
                Some(kv) => println!("{}", String::from_utf8_lossy(&kv.value)),
                None => {
                    eprintln!("key not found: {key}");
                    return Ok(ExitCode::from(1));
                }
            }
        }
        KvCommand::Del { key } => {
            let (revision, deleted) = client.delete(key.as_bytes()).await?;
            println!("{} revision {revision}", if deleted { "deleted" } else { "not found" });
        }
        KvCommand::Cas { key, expect, absent: _, new } => {
            let expect = expect.as_ref().map(|e| e.as_bytes());
            let (ok, current) =
                client.compare_and_swap(key.as_bytes(), expect, new.as_bytes()).await?;
            let rev = current.as_ref().map_or(0, |kv| kv.mod_revision);
            if ok {
                println!("OK revision {rev}");
            } else {
                let now = current.map_or("<absent>".to_string(), |kv| {
                    String::from_utf8_lossy(&kv.value).into_owned()
                });
                eprintln!("compare failed: {key} holds {now}");
                return Ok(ExitCode::from(1));
            }
        }
        KvCommand::Range { prefix, limit } => {
            let (kvs, more) = client.range(prefix.as_bytes(), limit).await?;
            for kv in kvs {
                println!(
                    "{}\t{}",
                    String::from_utf8_lossy(&kv.key),
                    String::from_utf8_lossy(&kv.value)
                );
            }
            if more {
                eprintln!("(more keys; raise --limit)");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
