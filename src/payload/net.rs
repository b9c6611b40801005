//! IP addresses that look like the real thing: residential ranges of real ISPs per
//! region (IPv4 and IPv6), and the published egress ranges of the mail proxies that
//! fetch images on a reader's behalf (Google's image proxy, Apple's Mail Privacy
//! Protection relays, Yahoo's proxy) and of link scanners. Never private, loopback,
//! CGNAT or documentation space.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::mailboxes::Region;
use super::rng::Bits;

/// An IPv4 block: first octet, inclusive range of second octets, inclusive range of
/// third octets.
type V4 = (u8, u8, u8, u8, u8);
/// An IPv6 /32 prefix as its two leading groups.
type V6 = (u16, u16);

/// Residential ISP blocks per region (Comcast, Videotron, Orange, Telekom...).
fn home_blocks(region: Region) -> (&'static [V4], &'static [V6]) {
    match region {
        Region::Us => (
            &[
                (73, 0, 255, 0, 255),
                (24, 0, 31, 0, 255),
                (71, 160, 191, 0, 255),
                (99, 0, 127, 0, 255),
                (174, 48, 63, 0, 255),
                (107, 128, 191, 0, 255),
            ],
            &[
                (0x2601, 0x0000),
                (0x2600, 0x1700),
                (0x2600, 0x4040),
                (0x2607, 0xfb90),
            ],
        ),
        Region::Ca => (
            &[
                (174, 112, 119, 0, 255),
                (99, 224, 255, 0, 255),
                (70, 24, 55, 0, 255),
                (142, 112, 127, 0, 255),
                (154, 20, 20, 0, 255),
            ],
            &[(0x2607, 0xfea8), (0x2001, 0x056a), (0x2607, 0xf2c0)],
        ),
        Region::Qc => (
            &[
                (24, 200, 203, 0, 255),
                (70, 80, 83, 0, 255),
                (96, 20, 23, 0, 255),
                (184, 160, 163, 0, 255),
            ],
            &[(0x2607, 0xfad8), (0x2607, 0xfa49)],
        ),
        Region::Uk => (
            &[
                (86, 128, 191, 0, 255),
                (81, 128, 159, 0, 255),
                (82, 0, 47, 0, 255),
                (90, 192, 223, 0, 255),
            ],
            &[(0x2a00, 0x23c4), (0x2a02, 0xc7c0)],
        ),
        Region::Fr => (
            &[
                (90, 0, 127, 0, 255),
                (86, 192, 255, 0, 255),
                (92, 128, 191, 0, 255),
                (82, 64, 67, 0, 255),
                (109, 0, 31, 0, 255),
            ],
            &[(0x2a01, 0xcb00), (0x2a01, 0x0e0a), (0x2a02, 0x8428)],
        ),
        Region::De => (
            &[
                (79, 192, 255, 0, 255),
                (87, 128, 191, 0, 255),
                (93, 192, 255, 0, 255),
                (188, 96, 111, 0, 255),
            ],
            &[(0x2003, 0x00e6), (0x2a02, 0x0810)],
        ),
        Region::Es => (
            &[
                (83, 32, 63, 0, 255),
                (88, 0, 31, 0, 255),
                (81, 32, 47, 0, 255),
            ],
            &[(0x2a0c, 0x5a80)],
        ),
        Region::It => (
            &[
                (79, 0, 63, 0, 255),
                (93, 32, 63, 0, 255),
                (151, 0, 95, 0, 255),
            ],
            &[(0x2001, 0x0b07)],
        ),
        Region::Br => (
            &[
                (177, 0, 255, 0, 255),
                (189, 0, 127, 0, 255),
                (201, 0, 95, 0, 255),
            ],
            &[(0x2804, 0x0d40)],
        ),
        Region::Eu => (
            &[
                (185, 0, 255, 0, 255),
                (31, 0, 63, 0, 255),
                (46, 0, 63, 0, 255),
            ],
            &[(0x2a02, 0xa000)],
        ),
        Region::Jp => (
            &[
                (126, 0, 255, 0, 255),
                (153, 128, 255, 0, 255),
                (60, 64, 127, 0, 255),
            ],
            &[(0x240b, 0x0010)],
        ),
        Region::Cn => (
            &[
                (36, 96, 127, 0, 255),
                (112, 0, 127, 0, 255),
                (223, 64, 127, 0, 255),
            ],
            &[(0x240e, 0x0300)],
        ),
        Region::Kr => (
            &[(121, 128, 191, 0, 255), (211, 32, 63, 0, 255)],
            &[(0x2001, 0x02d8)],
        ),
        Region::Ru => (
            &[
                (95, 24, 31, 0, 255),
                (178, 64, 71, 0, 255),
                (5, 136, 143, 0, 255),
            ],
            &[(0x2a00, 0x1370)],
        ),
    }
}

/// Who fetched the open pixel or the link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    /// The reader's own connection.
    Home,
    /// `GoogleImageProxy` (ggpht.com), Google's 66.249.80.0/20 and 66.102.0.0/20.
    Google,
    /// Apple Mail Privacy Protection relays (Akamai and Cloudflare egress).
    Apple,
    /// Yahoo's mail proxy.
    Yahoo,
    /// A corporate link scanner (Microsoft Defender Safe Links and the like).
    Scanner,
}

/// An address for `origin`. Home addresses come from the contact's own bits so they
/// stay put across its events; proxy addresses come from the event's bits (they rotate).
pub(crate) fn address(origin: Origin, region: Region, bits: &mut Bits, v6_share: usize) -> IpAddr {
    let (v4, v6): (&[V4], &[V6]) = match origin {
        Origin::Home => home_blocks(region),
        // 66.249.80.0/20 and 66.102.0.0/20.
        Origin::Google => (&[(66, 249, 249, 80, 95), (66, 102, 102, 0, 15)], &[]),
        Origin::Apple => (
            &[
                (172, 224, 226, 0, 255),
                (104, 28, 28, 0, 127),
                (146, 75, 75, 0, 255),
            ],
            &[(0x2a02, 0x26f7), (0x2a09, 0xbac0)],
        ),
        Origin::Yahoo => (&[(74, 6, 6, 0, 255), (98, 136, 139, 0, 255)], &[]),
        Origin::Scanner => (
            &[
                (40, 94, 107, 0, 255),
                (52, 100, 103, 0, 255),
                (104, 47, 47, 0, 255),
            ],
            &[(0x2a01, 0x0111)],
        ),
    };
    if !v6.is_empty() && bits.take(100) < v6_share {
        let (a, b) = v6[bits.take(v6.len())];
        let groups = [
            a,
            b,
            bits.take(0x10000) as u16,
            bits.take(0x10000) as u16,
            bits.take(0x10000) as u16,
            bits.take(0x10000) as u16,
            bits.take(0x10000) as u16,
            (bits.take(0xffff) + 1) as u16,
        ];
        IpAddr::V6(Ipv6Addr::new(
            groups[0], groups[1], groups[2], groups[3], groups[4], groups[5], groups[6], groups[7],
        ))
    } else {
        let (first, lo, hi, third_lo, third_hi) = v4[bits.take(v4.len())];
        let second = lo + bits.take(usize::from(hi - lo) + 1) as u8;
        let third = third_lo + bits.take(usize::from(third_hi - third_lo) + 1) as u8;
        let fourth = 1 + bits.take(254) as u8;
        IpAddr::V4(Ipv4Addr::new(first, second, third, fourth))
    }
}

/// True for addresses that would look wrong in a webhook from the internet.
#[cfg(test)]
pub(crate) fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_multicast()
                || v4.is_documentation()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || (a == 100 && (64..128).contains(&b))
                || a == 0
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            let s = v6.segments()[0];
            (0x2000..0x4000).contains(&s) && !(s == 0x2001 && v6.segments()[1] == 0x0db8)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payload::rng::mix;

    #[test]
    fn every_block_gives_public_addresses_of_both_families() {
        let regions = [
            Region::Us,
            Region::Ca,
            Region::Qc,
            Region::Uk,
            Region::Fr,
            Region::De,
            Region::Es,
            Region::It,
            Region::Br,
            Region::Eu,
            Region::Jp,
            Region::Cn,
            Region::Kr,
            Region::Ru,
        ];
        let origins = [
            Origin::Home,
            Origin::Google,
            Origin::Apple,
            Origin::Yahoo,
            Origin::Scanner,
        ];
        let (mut v4, mut v6) = (0, 0);
        for (i, region) in regions.iter().enumerate() {
            for (j, origin) in origins.iter().enumerate() {
                for k in 0..200u64 {
                    let mut bits = Bits::new(mix((i * 1000 + j * 300) as u64 + k));
                    let ip = address(*origin, *region, &mut bits, 30);
                    assert!(is_public(ip), "{ip} for {origin:?} in {region:?}");
                    if ip.is_ipv4() { v4 += 1 } else { v6 += 1 }
                }
            }
        }
        assert!(v6 > v4 / 10 && v4 > v6, "v4 {v4} v6 {v6}");
    }

    #[test]
    fn google_proxy_addresses_are_googles() {
        let mut bits = Bits::new(mix(3));
        for _ in 0..50 {
            let ip = address(Origin::Google, Region::Us, &mut bits, 30).to_string();
            assert!(
                ip.starts_with("66.249.") || ip.starts_with("66.102."),
                "{ip}"
            );
        }
    }
}
