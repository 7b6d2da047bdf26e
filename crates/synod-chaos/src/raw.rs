//! Raw gRPC over HTTP/2 (h2, no TLS): requests that a well-behaved client
//! never sends — garbage protobuf, truncated or oversized frames, bogus
//! compression flags, unknown methods — to see what a node answers.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use tokio::net::TcpStream;

/// What the server answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawReply {
    /// HTTP status.
    pub http_status: u16,
    /// `grpc-status` from the trailers (or the headers of a trailers-only
    /// answer).
    pub grpc_status: Option<i32>,
    /// `grpc-message`, percent-decoded loosely.
    pub grpc_message: String,
    /// Bytes of response body.
    pub body_bytes: usize,
}

/// A gRPC message frame: a compression flag, a declared length, a payload
/// (the declared length may lie).
pub fn frame(compressed: bool, declared_len: u32, payload: &[u8]) -> Bytes {
    let mut buf = BytesMut::with_capacity(5 + payload.len());
    buf.put_u8(u8::from(compressed));
    buf.put_u32(declared_len);
    buf.put_slice(payload);
    buf.freeze()
}

/// A well-framed message around `payload`.
pub fn message(payload: &[u8]) -> Bytes {
    frame(false, payload.len() as u32, payload)
}

/// POSTs `body` to `path` on `address` with gRPC headers
/// (`content_type`, usually `application/grpc`) and reads the answer,
/// all within `within`.
pub async fn call(
    address: SocketAddr,
    path: &str,
    content_type: &str,
    body: Bytes,
    within: Duration,
) -> Result<RawReply, String> {
    tokio::time::timeout(within, exchange(address, path, content_type, body))
        .await
        .map_err(|_| format!("{path}: no answer within {within:?}"))?
}

async fn exchange(
    address: SocketAddr,
    path: &str,
    content_type: &str,
    body: Bytes,
) -> Result<RawReply, String> {
    let tcp = TcpStream::connect(address).await.map_err(|e| format!("connect: {e}"))?;
    let (client, connection) =
        h2::client::handshake(tcp).await.map_err(|e| format!("h2 handshake: {e}"))?;
    let driver = tokio::spawn(connection);
    let result = async {
        let mut client = client.ready().await.map_err(|e| format!("h2 ready: {e}"))?;
        let request = http::Request::builder()
            .method("POST")
            .uri(format!("http://{address}{path}"))
            .header("content-type", content_type)
            .header("te", "trailers")
            .body(())
            .map_err(|e| e.to_string())?;
        let (response, mut send) =
            client.send_request(request, false).map_err(|e| format!("send: {e}"))?;
        send.reserve_capacity(body.len());
        send.send_data(body, true).map_err(|e| format!("send body: {e}"))?;
        let response = response.await.map_err(|e| format!("response: {e}"))?;
        let (parts, mut recv) = response.into_parts();
        let mut reply = RawReply {
            http_status: parts.status.as_u16(),
            grpc_status: header_status(&parts.headers),
            grpc_message: header_message(&parts.headers),
            body_bytes: 0,
        };
        while let Some(chunk) = recv.data().await {
            let chunk = chunk.map_err(|e| format!("body: {e}"))?;
            reply.body_bytes += chunk.len();
            let _ = recv.flow_control().release_capacity(chunk.len());
        }
        if let Some(trailers) = recv.trailers().await.map_err(|e| format!("trailers: {e}"))? {
            reply.grpc_status = header_status(&trailers).or(reply.grpc_status);
            let message = header_message(&trailers);
            if !message.is_empty() {
                reply.grpc_message = message;
            }
        }
        Ok(reply)
    }
    .await;
    driver.abort();
    result
}

fn header_status(headers: &http::HeaderMap) -> Option<i32> {
    headers.get("grpc-status")?.to_str().ok()?.parse().ok()
}

fn header_message(headers: &http::HeaderMap) -> String {
    let raw = headers.get("grpc-message").and_then(|v| v.to_str().ok()).unwrap_or("");
    percent_decode(raw)
}

/// Decodes `%XX` escapes (gRPC percent-encodes its messages).
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_carry_flag_length_and_payload() {
        assert_eq!(&message(b"ab")[..], &[0, 0, 0, 0, 2, b'a', b'b']);
        assert_eq!(&frame(true, 9, b"")[..], &[1, 0, 0, 0, 9]);
    }

    #[test]
    fn grpc_messages_are_percent_decoded() {
        assert_eq!(percent_decode("failed%20to%20decode"), "failed to decode");
        assert_eq!(percent_decode("100%"), "100%");
    }
}
