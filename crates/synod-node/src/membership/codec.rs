//! SWIM messages on the wire: postcard inside a sealed datagram.

use synod_core::swim::{Message, PushPull};

/// Largest datagram sent or accepted, sealing included.
pub const DATAGRAM_BYTES_MAX: usize = 1_400;

/// Largest encoded push-pull state accepted (a 16,384-member view with
/// full metadata is about 9 MB; far above any real cluster).
pub const PUSH_PULL_BYTES_MAX: usize = 16 << 20;

/// The encoding of `msg`.
pub fn encode_message(msg: &Message) -> Vec<u8> {
    postcard::to_allocvec(msg).expect("postcard encodes SWIM messages infallibly")
}

/// A message from its encoding; the whole input must be one message.
pub fn decode_message(bytes: &[u8]) -> Result<Message, String> {
    decode_exact(bytes)
}

/// The encoding of a push-pull state.
pub fn encode_state(state: &PushPull) -> Vec<u8> {
    postcard::to_allocvec(state).expect("postcard encodes SWIM state infallibly")
}

/// A push-pull state from its encoding.
pub fn decode_state(bytes: &[u8]) -> Result<PushPull, String> {
    if bytes.len() > PUSH_PULL_BYTES_MAX {
        return Err(format!(
            "push-pull state of {} bytes is over the limit of {PUSH_PULL_BYTES_MAX}",
            bytes.len()
        ));
    }
    decode_exact(bytes)
}

fn decode_exact<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    match postcard::take_from_bytes(bytes) {
        Ok((value, [])) => Ok(value),
        Ok((_, rest)) => Err(format!("{} trailing bytes", rest.len())),
        Err(e) => Err(format!("malformed: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use synod_core::swim::Update;
    use synod_core::NodeId;

    #[test]
    fn messages_round_trip_and_garbage_is_refused() {
        let msg = Message::Ping {
            seq: 9,
            from: NodeId(1),
            to: NodeId(2),
            piggyback: vec![Update::Left { id: NodeId(3), incarnation: 4 }],
        };
        let bytes = encode_message(&msg);
        assert_eq!(decode_message(&bytes).unwrap(), msg);
        assert!(decode_message(&bytes[..bytes.len() - 1]).is_err());
        assert!(decode_message(&[0xff; 40]).is_err());
        let mut long = bytes.clone();
        long.push(0);
        assert_eq!(decode_message(&long).unwrap_err(), "1 trailing bytes");
    }
}
