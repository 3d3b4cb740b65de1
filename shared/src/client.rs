//! Who a request comes from: the peer address, or — only when the peer is a configured
//! trusted proxy — the last address in `X-Forwarded-For` that is not itself a trusted proxy.
//!
//! Trusting `X-Forwarded-For` from anyone would let every client pick the address its
//! failed logins and request rate are counted against, so it is off unless
//! `http.trusted_proxies` lists the load balancers in front of the service. IPv6 clients
//! are keyed by their /64 ([`client_key`]): one host usually holds a whole /64.

use actix_web::HttpRequest;
use std::net::{IpAddr, Ipv6Addr};

/// One trusted proxy: an address or a CIDR block (`10.0.0.0/8`, `fd00::/8`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    net: IpAddr,
    prefix: u8,
}

impl Cidr {
    pub fn parse(text: &str) -> Result<Cidr, String> {
        let text = text.trim();
        let (addr, prefix) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let net: IpAddr = addr
            .parse()
            .map_err(|_| format!("{text:?} is not an IP address or CIDR block"))?;
        let max = if net.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{text:?} has a bad prefix length"))?,
        };
        Ok(Cidr { net, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.net, canonical(ip)) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                mask(u32::from(n).into(), u32::from(a).into(), 32, self.prefix)
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => mask(u128::from(n), u128::from(a), 128, self.prefix),
            _ => false,
        }
    }
}

fn mask(net: u128, addr: u128, bits: u32, prefix: u8) -> bool {
    let shift = bits - u32::from(prefix);
    shift >= bits || (net >> shift) == (addr >> shift)
}

/// An IPv4-mapped IPv6 address as the IPv4 address it is.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The proxies whose `X-Forwarded-For` is believed (`http.trusted_proxies`).
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<Cidr>);

impl TrustedProxies {
    pub fn parse(list: &[String]) -> Result<TrustedProxies, String> {
        list.iter()
            .map(|s| Cidr::parse(s))
            .collect::<Result<_, _>>()
            .map(TrustedProxies)
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|c| c.contains(ip))
    }

    /// The client's address given the peer and the `X-Forwarded-For` values (in order).
    pub fn resolve<'a>(&self, peer: IpAddr, forwarded: impl Iterator<Item = &'a str>) -> IpAddr {
        let peer = canonical(peer);
        if !self.trusts(peer) {
            return peer;
        }
        let hops: Vec<IpAddr> = forwarded
            .flat_map(|v| v.split(','))
            .filter_map(|h| h.trim().parse::<IpAddr>().ok())
            .map(canonical)
            .collect();
        // From the nearest hop back: the first one not a trusted proxy is the client.
        let mut client = peer;
        for hop in hops.iter().rev() {
            client = *hop;
            if !self.trusts(*hop) {
                break;
            }
        }
        client
    }

    /// The client address of `req` (`0.0.0.0` if actix knows no peer, as in some tests).
    pub fn client_of(&self, req: &HttpRequest) -> IpAddr {
        let peer = req
            .peer_addr()
            .map_or(IpAddr::from([0, 0, 0, 0]), |a| a.ip());
        let forwarded = req
            .headers()
            .get_all("x-forwarded-for")
            .filter_map(|v| v.to_str().ok());
        self.resolve(peer, forwarded)
    }
}

/// The key failures and request rates are counted under: the IPv4 address, or the /64 of
/// an IPv6 address (`2001:db8:1:2::/64`).
pub fn client_key(ip: IpAddr) -> String {
    match canonical(ip) {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let net = Ipv6Addr::from(u128::from(v6) & !((1u128 << 64) - 1));
            format!("{net}/64")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn cidr_blocks_match() {
        let c = Cidr::parse("10.0.0.0/8").unwrap();
        assert!(c.contains(ip("10.1.2.3")) && !c.contains(ip("11.0.0.1")));
        assert!(c.contains(ip("::ffff:10.9.9.9")));
        assert!(Cidr::parse("0.0.0.0/0").unwrap().contains(ip("8.8.8.8")));
        assert!(Cidr::parse("fd00::/8").unwrap().contains(ip("fd12::1")));
        assert!(Cidr::parse("127.0.0.1").unwrap().contains(ip("127.0.0.1")));
        assert!(Cidr::parse("10.0.0.0/33").is_err() && Cidr::parse("nope").is_err());
    }

    #[test]
    fn forwarded_for_only_from_trusted_proxies() {
        let none = TrustedProxies::default();
        assert_eq!(
            none.resolve(ip("1.2.3.4"), ["9.9.9.9"].into_iter()),
            ip("1.2.3.4")
        );
        let lb = TrustedProxies::parse(&["10.0.0.0/8".into()]).unwrap();
        assert_eq!(
            lb.resolve(ip("10.0.0.2"), ["9.9.9.9"].into_iter()),
            ip("9.9.9.9")
        );
        // A client cannot hide behind an address it writes itself in front of the real one.
        assert_eq!(
            lb.resolve(ip("10.0.0.2"), ["6.6.6.6, 9.9.9.9, 10.0.0.7"].into_iter()),
            ip("9.9.9.9")
        );
        assert_eq!(
            lb.resolve(ip("10.0.0.2"), std::iter::empty()),
            ip("10.0.0.2")
        );
        assert_eq!(
            lb.resolve(ip("5.5.5.5"), ["9.9.9.9"].into_iter()),
            ip("5.5.5.5")
        );
    }

    #[test]
    fn ipv6_clients_are_keyed_by_their_64() {
        assert_eq!(client_key(ip("2001:db8:1:2:3:4:5:6")), "2001:db8:1:2::/64");
        assert_eq!(client_key(ip("::ffff:1.2.3.4")), "1.2.3.4");
        assert_eq!(client_key(ip("1.2.3.4")), "1.2.3.4");
    }
}
