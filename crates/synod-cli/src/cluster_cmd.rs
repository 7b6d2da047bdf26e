//! `synod cluster status|members|watch|add|remove|transfer-leader`.

use std::process::ExitCode;

use clap::{Args, Subcommand};
use synod_client::membership_proto as mpb;
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
    /// Every SWIM member as the contacted node sees it: state,
    /// incarnation, address and metadata.
    Members,
    /// Print membership events (joined, suspect, alive, dead, left,
    /// updated) as the contacted node learns them, until Ctrl-C.
    Watch,
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

fn state_name(state: i32) -> &'static str {
    match mpb::MemberState::try_from(state) {
        Ok(mpb::MemberState::Alive) => "alive",
        Ok(mpb::MemberState::Suspect) => "suspect",
        Ok(mpb::MemberState::Dead) => "dead",
        Ok(mpb::MemberState::Left) => "left",
        _ => "unknown",
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
        ClusterCommand::Members => {
            let r = client.members().await?;
            println!("node n{} (local health {}):", r.node_id, r.local_health);
            println!(
                "  {:<6} {:<8} {:>11}  {:<22} {:>6}  metadata",
                "id", "state", "incarnation", "address", "phi"
            );
            for m in &r.members {
                println!(
                    "  n{:<5} {:<8} {:>11}  {:<22} {:>6.2}  v{} {}",
                    m.id,
                    state_name(m.state),
                    m.incarnation,
                    m.address,
                    m.phi.min(999.99),
                    m.metadata_version,
                    String::from_utf8_lossy(&m.metadata)
                );
            }
        }
        ClusterCommand::Watch => {
            let mut events = client.watch_members().await?;
            while let Some(event) = events.message().await? {
                let kind = mpb::EventKind::try_from(event.kind)
                    .map_or("unknown", |k| k.as_str_name().trim_start_matches("EVENT_KIND_"));
                let member = event.member.unwrap_or_default();
                println!(
                    "{} n{} saw n{} {} (incarnation {}, {})",
                    event.unix_ms,
                    event.node_id,
                    member.id,
                    kind.to_lowercase(),
                    member.incarnation,
                    member.address
                );
            }
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
