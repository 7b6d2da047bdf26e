//! The leader's deadline keeper: commits an expiry command for every open
//! proposal whose deadline its clock has passed.

use std::time::Duration;

use bytes::Bytes;
use synod_core::NodeId;

use super::{unix_now, VoteCommand};
use crate::machine::NodeStateMachine;
use crate::NodeHandle;

/// The longest nap between two looks at the book: bounds how late past
/// its deadline a proposal expires, and how soon a new leader takes over.
const LOOK_EVERY: Duration = Duration::from_millis(100);

/// Runs until the node stops. Only the leader proposes: a follower's
/// clock never ends a vote. After a leader change the new leader finds
/// the same open proposals in its book, so none is lost; a second expiry
/// of a proposal already decided is refused by the book, so none is
/// doubled.
pub async fn run(me: NodeId, node: NodeHandle<NodeStateMachine>) {
    loop {
        let mut nap = LOOK_EVERY;
        if node.leadership().1 == Some(me) {
            let now = unix_now();
            let Ok((due, next)) = node
                .read(false, move |sm| {
                    (sm.votes().book().due(now), sm.votes().book().next_deadline())
                })
                .await
            else {
                return;
            };
            for id in due {
                let command = VoteCommand::Expire { id: id.clone(), at: now };
                let outcome = node.propose(Bytes::from(command.encode()));
                match tokio::time::timeout(Duration::from_secs(5), outcome).await {
                    Ok(Ok(_)) => {
                        tracing::debug!(proposal = %id, "deadline reached; expiry committed")
                    }
                    Ok(Err(err)) => tracing::debug!(proposal = %id, %err, "expiry not committed"),
                    Err(_) => tracing::debug!(proposal = %id, "expiry not committed in 5 s"),
                }
            }
            if let Some(next) = next.filter(|n| *n > now) {
                nap = nap.min(Duration::from_millis(next.0 - now.0));
            }
        }
        tokio::time::sleep(nap.max(Duration::from_millis(1))).await;
    }
}
