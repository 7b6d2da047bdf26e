//! [`Address`]: where a member receives datagrams, as plain data.

use std::fmt;

/// An IP address and port, held as 16 bytes (IPv4 as an IPv4-mapped IPv6
/// address) so the core stays free of socket types: the driver converts to
/// and from its socket type. Encodes in at most 19 bytes, inside the
/// message size bound `ADDR_BYTES`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Address {
    ip: [u8; 16],
    port: u16,
}

const V4_MAPPED_PREFIX: [u8; 12] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];

impl Address {
    /// The address `ip` (16 bytes, network order) and `port`.
    pub fn new(ip: [u8; 16], port: u16) -> Address {
        Address { ip, port }
    }

    /// The IPv4 address `ip` and `port`.
    pub fn from_ipv4(ip: [u8; 4], port: u16) -> Address {
        let mut bytes = [0u8; 16];
        bytes[..12].copy_from_slice(&V4_MAPPED_PREFIX);
        bytes[12..].copy_from_slice(&ip);
        Address { ip: bytes, port }
    }

    /// The 16 address bytes.
    pub fn ip(&self) -> [u8; 16] {
        self.ip
    }

    /// The IPv4 address, when this is an IPv4(-mapped) address.
    pub fn ipv4(&self) -> Option<[u8; 4]> {
        (self.ip[..12] == V4_MAPPED_PREFIX).then(|| {
            let mut v4 = [0u8; 4];
            v4.copy_from_slice(&self.ip[12..]);
            v4
        })
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some([a, b, c, d]) = self.ipv4() {
            return write!(f, "{a}.{b}.{c}.{d}:{}", self.port);
        }
        f.write_str("[")?;
        for (i, pair) in self.ip.chunks(2).enumerate() {
            if i > 0 {
                f.write_str(":")?;
            }
            write!(f, "{:x}", u16::from_be_bytes([pair[0], pair[1]]))?;
        }
        write!(f, "]:{}", self.port)
    }
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_round_trips_and_prints_like_a_socket_address() {
        let a = Address::from_ipv4([10, 0, 0, 7], 7946);
        assert_eq!(a.ipv4(), Some([10, 0, 0, 7]));
        assert_eq!(a.to_string(), "10.0.0.7:7946");
        let mut v6 = [0u8; 16];
        v6[15] = 1;
        let b = Address::new(v6, 9);
        assert_eq!(b.ipv4(), None);
        assert_eq!(b.to_string(), "[0:0:0:0:0:0:0:1]:9");
    }
}
