//! The `Membership` service: the member table, a stream of changes, and
//! the server side of push-pull.

use synod_proto::membership::v1 as pb;
use synod_proto::membership::v1::membership_server::Membership;
use tokio::sync::{mpsc, oneshot};
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::StreamExt;
use tonic::{Request, Response, Status};

use super::codec::{decode_state, encode_state};
use super::driver::Command;
use super::view::member_to_proto;
use super::MembershipHandle;

/// Serves `Membership` from a running membership driver.
#[derive(Clone, Debug)]
pub struct MembershipService {
    handle: MembershipHandle,
}

impl MembershipService {
    /// A service over `handle`.
    pub fn new(handle: MembershipHandle) -> MembershipService {
        MembershipService { handle }
    }
}

type EventStream =
    std::pin::Pin<Box<dyn tokio_stream::Stream<Item = Result<pb::MemberEvent, Status>> + Send>>;

#[tonic::async_trait]
impl Membership for MembershipService {
    async fn members(
        &self,
        _: Request<pb::MembersRequest>,
    ) -> Result<Response<pb::MembersResponse>, Status> {
        let view = self.handle.view();
        Ok(Response::new(pb::MembersResponse {
            node_id: self.handle.me.0,
            members: view.members.iter().map(|(m, phi)| member_to_proto(m, *phi)).collect(),
            local_health: view.local_health,
        }))
    }

    type WatchStream = EventStream;

    async fn watch(
        &self,
        _: Request<pb::WatchRequest>,
    ) -> Result<Response<Self::WatchStream>, Status> {
        let events = BroadcastStream::new(self.handle.events.subscribe()).map(|item| match item {
            Ok(event) => Ok(event),
            Err(BroadcastStreamRecvError::Lagged(n)) => {
                Err(Status::data_loss(format!("watcher fell behind; {n} events skipped")))
            }
        });
        Ok(Response::new(Box::pin(events)))
    }

    async fn push_pull(
        &self,
        request: Request<pb::PushPullRequest>,
    ) -> Result<Response<pb::PushPullResponse>, Status> {
        let certified = crate::tls::peer_cert(&request);
        let req = request.into_inner();
        crate::tls::check_claim(certified.as_ref(), synod_core::NodeId(req.from))?;
        let state = decode_state(&req.state)
            .map_err(|e| Status::invalid_argument(format!("push-pull state: {e}")))?;
        if state.from.0 != req.from {
            return Err(Status::invalid_argument(format!(
                "push-pull from n{} carries the state of {}",
                req.from, state.from
            )));
        }
        let (reply, answer) = oneshot::channel();
        send(&self.handle.commands, Command::PushPullIn { state, reply }).await?;
        let ours = answer.await.map_err(|_| Status::unavailable("membership stopped"))?;
        Ok(Response::new(pb::PushPullResponse { state: encode_state(&ours).into() }))
    }
}

async fn send(commands: &mpsc::Sender<Command>, command: Command) -> Result<(), Status> {
    commands.send(command).await.map_err(|_| Status::unavailable("membership stopped"))
}
