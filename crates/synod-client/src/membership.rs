//! Membership calls: every node answers with its own view.

use synod_proto::membership::v1 as pb;
use synod_proto::membership::v1::membership_client::MembershipClient;
use tonic::Streaming;

use crate::client::Client;
use crate::ClientError;

impl Client {
    /// The SWIM members as the first node that answers sees them.
    pub async fn members(&self) -> Result<pb::MembersResponse, ClientError> {
        self.with_any_node(false, |channel| async move {
            MembershipClient::new(channel)
                .members(pb::MembersRequest {})
                .await
                .map(|r| r.into_inner())
        })
        .await
    }

    /// Membership events as the first node that answers learns them.
    pub async fn watch_members(&self) -> Result<Streaming<pb::MemberEvent>, ClientError> {
        self.with_any_node(false, |channel| async move {
            MembershipClient::new(channel).watch(pb::WatchRequest {}).await.map(|r| r.into_inner())
        })
        .await
    }
}
