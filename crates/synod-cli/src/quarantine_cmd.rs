//! `synod quarantine add|rm|list|check`: identifiers (commits, artefacts)
//! that must not be deployed, added by hand or by a rejected proposal.

use std::process::ExitCode;

use clap::{Args, Subcommand};

use crate::endpoints::ConnectArgs;
use crate::vote_cmd::{format_ms, table, EXIT_ERROR};

#[derive(Args)]
pub struct QuarantineArgs {
    #[command(flatten)]
    connect: ConnectArgs,
    #[command(subcommand)]
    command: QuarantineCommand,
}

#[derive(Subcommand)]
enum QuarantineCommand {
    /// Put ID on the quarantine list.
    Add {
        /// The identifier, e.g. a commit hash.
        id: String,
        /// Why.
        #[arg(long)]
        reason: Option<String>,
    },
    /// Take ID off the quarantine list.
    Rm {
        /// The identifier.
        id: String,
    },
    /// Print the quarantine list.
    List,
    /// Whether ID is quarantined, for deploy guards.
    ///
    /// Exit status: 0 not quarantined, 1 quarantined, 3 the cluster could not
    /// tell (unreachable, refused, bad usage).
    Check {
        /// The identifier.
        id: String,
    },
}

pub async fn run(args: QuarantineArgs) -> anyhow::Result<ExitCode> {
    let connect = args.connect;
    match args.command {
        QuarantineCommand::Add { id, reason } => {
            let r = connect.client()?.quarantine_add(&id, &reason.unwrap_or_default()).await?;
            if r.changed {
                println!("{id} quarantined (revision {})", r.revision);
            } else {
                println!("{id} was already quarantined");
            }
        }
        QuarantineCommand::Rm { id } => {
            let r = connect.client()?.quarantine_remove(&id).await?;
            if r.changed {
                println!("{id} released from quarantine (revision {})", r.revision);
            } else {
                println!("{id} was not quarantined");
            }
        }
        QuarantineCommand::List => {
            let entries = connect.client()?.quarantine_list().await?.entries;
            if entries.is_empty() {
                eprintln!("the quarantine list is empty");
                return Ok(ExitCode::SUCCESS);
            }
            let rows: Vec<Vec<String>> = entries
                .into_iter()
                .map(|e| {
                    let proposal =
                        if e.proposal_id.is_empty() { "-".into() } else { e.proposal_id };
                    vec![e.id, format_ms(e.added_at_ms), proposal, e.reason]
                })
                .collect();
            let header = ["ID", "ADDED", "PROPOSAL", "REASON"];
            table(&header, &rows).iter().for_each(|line| println!("{line}"));
        }
        QuarantineCommand::Check { id } => return Ok(run_check(&connect, &id).await),
    }
    Ok(ExitCode::SUCCESS)
}

/// `quarantine check`: 1 quarantined, 0 not, [`EXIT_ERROR`] on any failure.
async fn run_check(connect: &ConnectArgs, id: &str) -> ExitCode {
    let result = async { Ok::<_, anyhow::Error>(connect.client()?.quarantine_check(id).await?) };
    match result.await {
        Ok(r) if r.quarantined => {
            println!("{id} is quarantined ({})", entry_note(r.entry.as_ref()));
            ExitCode::from(1)
        }
        Ok(_) => {
            println!("{id} is not quarantined");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// `reason: R, by proposal P` for a quarantine entry.
fn entry_note(entry: Option<&synod_client::vote_proto::QuarantineEntry>) -> String {
    let Some(entry) = entry else { return "no details".into() };
    let mut note = if entry.reason.is_empty() {
        "no reason given".to_string()
    } else {
        format!("reason: {}", entry.reason)
    };
    if !entry.proposal_id.is_empty() {
        note.push_str(&format!(", by proposal {}", entry.proposal_id));
    }
    note
}

#[cfg(test)]
mod tests {
    use clap::Parser;
    use synod_client::vote_proto::QuarantineEntry;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(subcommand)]
        command: Top,
    }

    #[derive(Subcommand)]
    enum Top {
        Quarantine(QuarantineArgs),
    }

    fn parse(args: &[&str]) -> Result<QuarantineCommand, clap::Error> {
        let argv = ["synod", "quarantine"].iter().chain(args);
        Cli::try_parse_from(argv).map(|cli| match cli.command {
            Top::Quarantine(q) => q.command,
        })
    }

    #[test]
    fn subcommands_parse() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
        let add = parse(&["add", "abc123", "--reason", "broke prod"]).unwrap();
        assert!(
            matches!(add, QuarantineCommand::Add { id, reason } if id == "abc123" && reason.as_deref() == Some("broke prod"))
        );
        assert!(matches!(parse(&["rm", "abc123"]).unwrap(), QuarantineCommand::Rm { .. }));
        assert!(matches!(parse(&["list"]).unwrap(), QuarantineCommand::List));
        assert!(matches!(parse(&["check", "abc123"]).unwrap(), QuarantineCommand::Check { .. }));
    }

    #[test]
    fn check_and_rm_need_an_id() {
        for sub in ["check", "rm", "add"] {
            let err = parse(&[sub]).err().expect("accepted without an id");
            assert!(err.to_string().contains("<ID>"), "{sub}: {err}");
        }
    }

    #[test]
    fn the_note_says_why_and_by_what() {
        let entry = QuarantineEntry {
            id: "abc123".into(),
            reason: "rejected".into(),
            proposal_id: "p-1".into(),
            ..Default::default()
        };
        assert_eq!(entry_note(Some(&entry)), "reason: rejected, by proposal p-1");
        let bare = QuarantineEntry { id: "abc123".into(), ..Default::default() };
        assert_eq!(entry_note(Some(&bare)), "no reason given");
    }
}
