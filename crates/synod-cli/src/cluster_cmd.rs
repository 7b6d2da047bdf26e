//! `synod cluster status|add|remove|transfer-leader`.

use std::process::ExitCode;

use clap::{Args, Subcommand};
use synod_client::{Member, Role};
use synod_node::config::parse_node_id;

use crate::endpoints::ConnectArgs;

#[derive(Args)]
pub struct ClusterArgs {
    #[command(flatten)]
    connect: ConnectArgs,
    #[command(subcommand)]
    command: ClusterCommand,
}

#[derive(Subcommand)]
enum ClusterCommand {
    /// Leader, term, indexes and members.
    Status,
    /// Add a member (a voter, after it catches up as a learner).
    Add {
        /// Its node id (n4 or 4).
        id: String,
        /// Its gRPC address.
        address: String,
        /// Keep it a non-voting learner.
        #[arg(long)]
        learner: bool,
    },
    /// Remove a member.
    Remove {
        /// Its node id.
        id: String,
    },
    /// Hand leadership to a voter.
    TransferLeader {
        /// The new leader's node id.
        id: String,
    },
}

fn id_arg(text: &str) -> anyhow::Result<u64> {
    parse_node_id(text).map(|id| id.0).map_err(|e| anyhow::anyhow!("{e}"))
}

fn print_members(members: &[Member]) {
    for m in members {
        let role = if m.role == Role::Voter as i32 { "voter" } else { "learner" };
        let leader = if m.is_leader { " (leader)" } else { "" };
        println!("  n{}\t{}\t{role}{leader}", m.id, m.address);
    }
}

pub async fn run(args: ClusterArgs) -> anyhow::Result<ExitCode> {
    let client = args.connect.client()?;
    match args.command {
        ClusterCommand::Status => {
            let s = client.status().await?;
            let leader =
                if s.leader_id == 0 { "none".to_string() } else { format!("n{}", s.leader_id) };
            println!(
                "node n{}: leader {leader}, term {}, commit {}, applied {}",
                s.node_id, s.term, s.commit_index, s.applied_index
            );
            print_members(&s.members);
        }
        ClusterCommand::Add { id, address, learner } => {
            let r = client.add_member(id_arg(&id)?, &address, learner).await?;
            println!("added at log index {}", r.log_index);
            print_members(&r.members);
        }
        ClusterCommand::Remove { id } => {
            let r = client.remove_member(id_arg(&id)?).await?;
            println!("removed at log index {}", r.log_index);
            print_members(&r.members);
        }
        ClusterCommand::TransferLeader { id } => {
            let r = client.transfer_leader(id_arg(&id)?).await?;
            println!("n{} leads term {}", r.leader_id, r.term);
        }
    }
    Ok(ExitCode::SUCCESS)
}
