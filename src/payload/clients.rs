//! What opens and clicks look like: the reader's platform and mail client follow from
//! their mailbox (Gmail opens arrive through `GoogleImageProxy`, iCloud ones through
//! Apple Mail Privacy Protection, work addresses meet link scanners), stay the same
//! across a contact's events, and come with an IP that fits the client.

use std::net::IpAddr;

use super::mailboxes::{Family, Region};
use super::net::{self, Origin};
use super::rng::{Bits, weighted_at};

/// A user agent with the parsed fields the API's campaign logs carry.
pub(crate) struct Ua {
    pub raw: &'static str,
    pub os: &'static str,
    pub browser: &'static str,
    pub device: &'static str,
    pub is_bot: bool,
    pub origin: Origin,
}

const fn ua(
    raw: &'static str,
    os: &'static str,
    browser: &'static str,
    device: &'static str,
) -> Ua {
    Ua {
        raw,
        os,
        browser,
        device,
        is_bot: false,
        origin: Origin::Home,
    }
}

const fn via(origin: Origin, raw: &'static str, browser: &'static str, is_bot: bool) -> Ua {
    Ua {
        raw,
        os: "unknown",
        browser,
        device: "unknown",
        is_bot,
        origin,
    }
}

static GOOGLE_PROXY: Ua = via(
    Origin::Google,
    "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)",
    "Gmail image proxy",
    false,
);
// Mail Privacy Protection fetches with a bare "Mozilla/5.0" from Apple's relays.
static APPLE_MPP: Ua = via(
    Origin::Apple,
    "Mozilla/5.0",
    "Apple Mail Privacy Protection",
    false,
);
static YAHOO_PROXY: Ua = via(
    Origin::Yahoo,
    "YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html",
    "Yahoo Mail proxy",
    false,
);
static SCANNER: Ua = via(
    Origin::Scanner,
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/119.0.6045.105 Safari/537.36",
    "Link scanner",
    true,
);

static IPHONE_MAIL: Ua = ua(
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    "iOS 17.4",
    "Apple Mail",
    "mobile",
);
static MAC_MAIL: Ua = ua(
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)",
    "macOS",
    "Apple Mail",
    "desktop",
);
static OUTLOOK_WIN: Ua = ua(
    "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17328; Pro)",
    "Windows 10",
    "Outlook 2016",
    "desktop",
);
static OUTLOOK_ANDROID: Ua = ua(
    "Mozilla/5.0 (Linux; Android 14; SM-S911B Build/UP1A.231005.007; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/122.0.6261.119 Mobile Safari/537.36",
    "Android 14",
    "Outlook for Android",
    "mobile",
);
static SAMSUNG_EMAIL: Ua = ua(
    "Mozilla/5.0 (Linux; Android 13; SM-A536B) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/121.0.6167.178 Mobile Safari/537.36",
    "Android 13",
    "Samsung Email",
    "mobile",
);
static THUNDERBIRD_WIN: Ua = ua(
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:115.0) Gecko/20100101 Thunderbird/115.9.0",
    "Windows 10",
    "Thunderbird 115",
    "desktop",
);
static THUNDERBIRD_LINUX: Ua = ua(
    "Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 Thunderbird/115.9.0",
    "Linux",
    "Thunderbird 115",
    "desktop",
);
static CHROME_WIN: Ua = ua(
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36",
    "Windows 10",
    "Chrome 122",
    "desktop",
);
static EDGE_WIN: Ua = ua(
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36 Edg/122.0.2365.92",
    "Windows 10",
    "Edge 122",
    "desktop",
);
static FIREFOX_WIN: Ua = ua(
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:124.0) Gecko/20100101 Firefox/124.0",
    "Windows 10",
    "Firefox 124",
    "desktop",
);
static SAFARI_MAC: Ua = ua(
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
    "macOS",
    "Safari 17",
    "desktop",
);
static CHROME_MAC: Ua = ua(
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36",
    "macOS",
    "Chrome 122",
    "desktop",
);
static SAFARI_IPHONE: Ua = ua(
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    "iOS 17.4",
    "Mobile Safari 17",
    "mobile",
);
static SAFARI_IPAD: Ua = ua(
    "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    "iPadOS 17.4",
    "Mobile Safari 17",
    "tablet",
);
static CHROME_IOS: Ua = ua(
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/122.0.6261.89 Mobile/15E148 Safari/604.1",
    "iOS 17.4",
    "Chrome Mobile 122",
    "mobile",
);
static CHROME_ANDROID: Ua = ua(
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Mobile Safari/537.36",
    "Android",
    "Chrome Mobile 122",
    "mobile",
);
static GMAIL_WEBVIEW: Ua = ua(
    "Mozilla/5.0 (Linux; Android 14; Pixel 8 Build/AP1A.240305.019; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/122.0.6261.105 Mobile Safari/537.36",
    "Android 14",
    "Gmail in-app browser",
    "mobile",
);
static SAMSUNG_INTERNET: Ua = ua(
    "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36",
    "Android 14",
    "Samsung Internet 24",
    "mobile",
);
static FIREFOX_LINUX: Ua = ua(
    "Mozilla/5.0 (X11; Linux x86_64; rv:124.0) Gecko/20100101 Firefox/124.0",
    "Linux",
    "Firefox 124",
    "desktop",
);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Platform {
    Ios,
    Android,
    Windows,
    Mac,
    Linux,
}

use Platform::*;

/// The stable traits of one reader, derived from its contact id.
pub(crate) struct Persona {
    open: &'static Ua,
    click: &'static Ua,
    home_bits: u64,
    /// Percent chance the home connection is IPv6 (dual-stack ISPs vary).
    v6_share: usize,
}

impl Persona {
    pub fn new(hash: u64, family: Family) -> Persona {
        let mut b = Bits::new(hash);
        let platforms: &[(u32, Platform)] = match family {
            Family::Gmail => &[
                (40, Android),
                (25, Ios),
                (20, Windows),
                (12, Mac),
                (3, Linux),
            ],
            Family::Apple => &[(75, Ios), (25, Mac)],
            Family::Yahoo => &[(35, Ios), (30, Android), (25, Windows), (10, Mac)],
            Family::Microsoft => &[(50, Windows), (25, Ios), (15, Android), (10, Mac)],
            Family::Company => &[(60, Windows), (20, Mac), (15, Ios), (5, Android)],
            Family::Other => &[
                (35, Windows),
                (30, Ios),
                (20, Android),
                (13, Mac),
                (2, Linux),
            ],
        };
        let platform = *weighted_at(platforms, b.roll());
        let p = b.take(100);
        let open: &'static Ua = match (family, platform) {
            (Family::Gmail, Ios) if p < 40 => &APPLE_MPP,
            (Family::Gmail, Windows | Linux) if p < 3 => &THUNDERBIRD_WIN,
            (Family::Gmail, _) => &GOOGLE_PROXY,
            (Family::Apple, Ios) if p < 85 => &APPLE_MPP,
            (Family::Apple, Mac) if p < 70 => &APPLE_MPP,
            (Family::Apple, Mac) => &MAC_MAIL,
            (Family::Apple, _) => &IPHONE_MAIL,
            (Family::Yahoo, Ios) if p < 50 => &APPLE_MPP,
            (Family::Yahoo, _) => &YAHOO_PROXY,
            (Family::Microsoft | Family::Company, Windows) if p < 40 => &EDGE_WIN,
            (Family::Microsoft | Family::Company, Windows) => &OUTLOOK_WIN,
            (Family::Microsoft | Family::Company, Android) => &OUTLOOK_ANDROID,
            (_, Ios) if p < 80 => &APPLE_MPP,
            (_, Ios) => &IPHONE_MAIL,
            (_, Mac) if p < 60 => &APPLE_MPP,
            (_, Mac) => &MAC_MAIL,
            (_, Windows) if p < 40 => &OUTLOOK_WIN,
            (_, Windows) if p < 65 => &THUNDERBIRD_WIN,
            (_, Windows) => &CHROME_WIN,
            (_, Android) if p < 50 => &SAMSUNG_EMAIL,
            (_, Android) => &CHROME_ANDROID,
            (_, Linux) => &THUNDERBIRD_LINUX,
        };
        let q = b.take(100);
        let click: &'static Ua = match platform {
            Ios if q < 80 => &SAFARI_IPHONE,
            Ios if q < 90 => &SAFARI_IPAD,
            Ios => &CHROME_IOS,
            Android if family == Family::Gmail && q < 35 => &GMAIL_WEBVIEW,
            Android if q < 75 => &CHROME_ANDROID,
            Android => &SAMSUNG_INTERNET,
            Windows if q < 65 => &CHROME_WIN,
            Windows if q < 93 => &EDGE_WIN,
            Windows => &FIREFOX_WIN,
            Mac if q < 55 => &SAFARI_MAC,
            Mac => &CHROME_MAC,
            Linux if q < 60 => &FIREFOX_LINUX,
            Linux => &CHROME_WIN,
        };
        let v6_share = [10, 35, 60][b.take(3)];
        Persona {
            open,
            click,
            home_bits: b.roll().into(),
            v6_share,
        }
    }

    fn home(&self, region: Region) -> IpAddr {
        let mut bits = Bits::new(self.home_bits ^ 0x6a09_e667_f3bc_c909);
        net::address(Origin::Home, region, &mut bits, self.v6_share)
    }

    /// The client and address of one open; `event_bits` vary per event (proxy IPs
    /// rotate, a work address sometimes meets a scanner first).
    pub fn open(&self, family: Family, region: Region, event_bits: u64) -> (&'static Ua, IpAddr) {
        let mut b = Bits::new(event_bits);
        let ua = if family == Family::Company && b.take(100) < 5 {
            &SCANNER
        } else {
            self.open
        };
        (ua, self.address(ua, region, &mut b))
    }

    /// The browser and address of one click.
    pub fn click(&self, family: Family, region: Region, event_bits: u64) -> (&'static Ua, IpAddr) {
        let mut b = Bits::new(event_bits);
        let ua = if family == Family::Company && b.take(100) < 12 {
            &SCANNER
        } else {
            self.click
        };
        (ua, self.address(ua, region, &mut b))
    }

    fn address(&self, ua: &Ua, region: Region, b: &mut Bits) -> IpAddr {
        match ua.origin {
            Origin::Home => self.home(region),
            // Relays and proxies answer over IPv4 mostly; Apple's relays also use IPv6.
            other => net::address(other, region, b, 25),
        }
    }
}

/// A browser-like user agent for `{{ fake.user_agent }}`.
pub(crate) fn any_browser(roll: u32) -> &'static str {
    let table: &[(u32, &Ua)] = &[
        (30, &CHROME_WIN),
        (10, &EDGE_WIN),
        (25, &SAFARI_IPHONE),
        (15, &CHROME_ANDROID),
        (10, &SAFARI_MAC),
        (5, &CHROME_MAC),
        (3, &FIREFOX_WIN),
        (2, &FIREFOX_LINUX),
    ];
    weighted_at(table, roll).raw
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payload::rng::mix;

    #[test]
    fn gmail_opens_come_through_the_image_proxy_from_google() {
        let mut proxied = 0;
        for i in 0..500u64 {
            let p = Persona::new(mix(i), Family::Gmail);
            let (ua, ip) = p.open(Family::Gmail, Region::Us, mix(i + 7));
            if ua.raw.contains("GoogleImageProxy") {
                proxied += 1;
                let ip = ip.to_string();
                assert!(
                    ip.starts_with("66.249.") || ip.starts_with("66.102."),
                    "{ip}"
                );
            }
        }
        assert!(proxied > 400, "{proxied}");
    }

    #[test]
    fn a_readers_home_address_and_clients_stay_put() {
        for i in 0..100u64 {
            let p = Persona::new(mix(i), Family::Other);
            let a = p.click(Family::Other, Region::Qc, 1);
            let b = p.click(Family::Other, Region::Qc, 99);
            assert_eq!((a.0.raw, a.1), (b.0.raw, b.1));
            if std::ptr::eq(p.open, &IPHONE_MAIL) {
                assert!(
                    a.0.raw.contains("iPhone") || a.0.raw.contains("iPad"),
                    "{}",
                    a.0.raw
                );
            }
        }
    }

    #[test]
    fn apple_privacy_protection_is_common_among_icloud_readers() {
        let mpp = (0..1000u64)
            .filter(|i| std::ptr::eq(Persona::new(mix(*i), Family::Apple).open, &APPLE_MPP))
            .count();
        assert!((700..900).contains(&mpp), "{mpp}");
    }
}
