//! CRDT calls: any node accepts them (AP state), so there is no leader to
//! find; the client uses the first endpoint that answers.

use synod_proto::crdt::v1 as pb;
use synod_proto::crdt::v1::crdt_client::CrdtClient;
use tonic::{Code, Status};

use crate::client::{status_text, Client};
use crate::ClientError;

impl Client {
    /// Applies one operation to the object `name` on the first node that
    /// answers; returns the object as that node holds it afterwards.
    ///
    /// Not retried once sent: a counter update applied twice counts twice,
    /// so a broken link after sending is [`ClientError::Ambiguous`].
    pub async fn crdt_update(
        &self,
        name: &str,
        op: pb::update_request::Op,
    ) -> Result<pb::UpdateResponse, ClientError> {
        let request = pb::UpdateRequest { name: name.to_string(), op: Some(op) };
        self.with_any_node(true, |channel| {
            let request = request.clone();
            async move { CrdtClient::new(channel).update(request).await.map(|r| r.into_inner()) }
        })
        .await
    }

    /// Reads the object `name` from the first node that answers; `kind`
    /// UNSPECIFIED accepts any type.
    pub async fn crdt_read(
        &self,
        name: &str,
        kind: pb::CrdtKind,
    ) -> Result<pb::ReadResponse, ClientError> {
        let request = pb::ReadRequest { name: name.to_string(), kind: kind as i32 };
        self.with_any_node(false, |channel| {
            let request = request.clone();
            async move { CrdtClient::new(channel).read(request).await.map(|r| r.into_inner()) }
        })
        .await
    }

    /// Lists the objects of the first node that answers.
    pub async fn crdt_list(&self) -> Result<pb::ListResponse, ClientError> {
        self.with_any_node(false, |channel| async move {
            CrdtClient::new(channel).list(pb::ListRequest {}).await.map(|r| r.into_inner())
        })
        .await
    }

    pub(crate) async fn with_any_node<T, F, Fut>(
        &self,
        write: bool,
        call: F,
    ) -> Result<T, ClientError>
    where
        F: Fn(tonic::transport::Channel) -> Fut,
        Fut: std::future::Future<Output = Result<T, Status>>,
    {
        let mut last_error = String::from("no endpoints");
        for address in self.endpoint_list() {
            let channel = match self.connect_checked(address).await {
                Ok(channel) => channel,
                Err(err) => {
                    last_error = err;
                    continue;
                }
            };
            match call(channel).await {
                Ok(value) => return Ok(value),
                Err(status) => {
                    let message = status_text(&status);
                    match status.code() {
                        Code::InvalidArgument | Code::FailedPrecondition | Code::OutOfRange => {
                            return Err(ClientError::Invalid(message))
                        }
                        Code::Unavailable if message.contains("node is starting") => {
                            last_error = message
                        }
                        Code::Unavailable
                        | Code::Unknown
                        | Code::Cancelled
                        | Code::DeadlineExceeded
                            if write =>
                        {
                            return Err(ClientError::Ambiguous(message))
                        }
                        Code::Unavailable
                        | Code::Unknown
                        | Code::Cancelled
                        | Code::DeadlineExceeded => last_error = message,
                        code => return Err(ClientError::Server(format!("{code:?}: {message}"))),
                    }
                }
            }
        }
        Err(ClientError::Unreachable(last_error))
    }
}
