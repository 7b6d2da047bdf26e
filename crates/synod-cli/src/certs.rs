//! `synod certs init|issue`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{ArgGroup, Args, Subcommand};
use synod_node::config::parse_node_id;
use synod_node::tls;

#[derive(Subcommand)]
pub enum CertsCommand {
    /// Create the cluster CA (ca.crt, ca.key) in --dir.
    Init {
        /// Directory of the CA and certificates.
        #[arg(long)]
        dir: PathBuf,
    },
    /// Issue a node or a client certificate signed by the CA in --dir.
    Issue(IssueArgs),
}

#[derive(Args)]
#[command(group(ArgGroup::new("subject").required(true).args(["node", "client"])))]
pub struct IssueArgs {
    /// A node certificate named by the node id (n1).
    #[arg(long)]
    node: Option<String>,
    /// A client certificate with this name.
    #[arg(long)]
    client: Option<String>,
    /// Directory of the CA and certificates.
    #[arg(long)]
    dir: PathBuf,
}

pub fn run(cmd: CertsCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        CertsCommand::Init { dir } => {
            tls::init_ca(&dir)?;
            println!("created cluster CA in {}", dir.display());
        }
        CertsCommand::Issue(args) => {
            let (cert, key) = match (&args.node, &args.client) {
                (Some(node), _) => {
                    let id = parse_node_id(node).map_err(|e| anyhow::anyhow!("--node: {e}"))?;
                    tls::issue_node(&args.dir, id)?
                }
                (None, Some(name)) => tls::issue_client(&args.dir, name)?,
                (None, None) => unreachable!("clap requires --node or --client"),
            };
            println!("issued {} and {}", cert.display(), key.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}
