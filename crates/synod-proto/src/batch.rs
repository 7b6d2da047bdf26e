//! Packing Raft messages for one peer into a [`MessageBatch`], and checking
//! a received batch before its messages reach the core.

use synod_core::raft::Message;
use synod_core::NodeId;

use crate::raft::v1::{MessageBatch, RaftMessage};
use crate::ProtoError;

impl MessageBatch {
    /// A batch of `messages` from `from` to `to` in cluster `cluster_id`.
    ///
    /// Every message must be from `from` to `to`; the driver groups them by
    /// peer before calling this.
    pub fn from_messages<'a>(
        cluster_id: u64,
        from: NodeId,
        to: NodeId,
        messages: impl IntoIterator<Item = &'a Message>,
    ) -> MessageBatch {
        let messages: Vec<RaftMessage> = messages
            .into_iter()
            .inspect(|m| debug_assert!(m.from == from && m.to == to, "message for another peer"))
            .map(RaftMessage::from)
            .collect();
        MessageBatch { from: from.0, to: to.0, cluster_id, messages }
    }

    /// The batch's messages, converted for the core, after checking that the
    /// batch belongs to `cluster_id`, that its sender and recipient are set,
    /// and that every message has the batch's sender and recipient.
    ///
    /// The first invalid message fails the whole batch: a peer that sends
    /// one is broken, and its stream should be closed.
    pub fn into_messages(self, cluster_id: u64) -> Result<Vec<Message>, ProtoError> {
        if self.cluster_id != cluster_id {
            return Err(ProtoError::ClusterMismatch {
                expected: cluster_id,
                found: self.cluster_id,
            });
        }
        if self.from == 0 {
            return Err(ProtoError::ZeroNodeId("MessageBatch.from"));
        }
        if self.to == 0 {
            return Err(ProtoError::ZeroNodeId("MessageBatch.to"));
        }
        let (from, to) = (self.from, self.to);
        let mut out = Vec::with_capacity(self.messages.len());
        for (position, msg) in self.messages.into_iter().enumerate() {
            for (field, batch, message) in [("from", from, msg.from), ("to", to, msg.to)] {
                if batch != message {
                    return Err(ProtoError::BatchAddressMismatch {
                        position,
                        field,
                        batch,
                        message,
                    });
                }
            }
            let msg = Message::try_from(msg)
                .map_err(|error| ProtoError::InBatch { position, error: Box::new(error) })?;
            out.push(msg);
        }
        Ok(out)
    }
}
