//! Where the contacts' mail lives: real mailbox domains in a realistic mix (the big
//! free providers, regional ISPs such as videotron.ca, orange.fr or gmx.de, and
//! company domains), the provider family of a domain (which decides how opens look:
//! Gmail's image proxy, Apple's Privacy Protection...) and the MX that answers bounces.

use super::rng::Rand;

/// Where a contact lives; picks regional mailbox domains and home IP ranges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Region {
    Us,
    Ca,
    Qc,
    Uk,
    Fr,
    De,
    Es,
    It,
    Br,
    Eu,
    Jp,
    Cn,
    Kr,
    Ru,
}

/// The region of a contact's locale (`fr-CA` -> Québec).
pub(crate) fn region_of_locale(locale: &str) -> Region {
    match locale {
        "en-CA" => Region::Ca,
        "fr-CA" => Region::Qc,
        "en-GB" => Region::Uk,
        "fr-FR" => Region::Fr,
        "de-DE" => Region::De,
        "es-ES" => Region::Es,
        "it-IT" => Region::It,
        "pt-BR" => Region::Br,
        "sv-SE" | "pl-PL" | "nl-NL" | "el-GR" => Region::Eu,
        "ja-JP" => Region::Jp,
        "zh-CN" => Region::Cn,
        "ko-KR" => Region::Kr,
        "ru-RU" => Region::Ru,
        _ => Region::Us,
    }
}

/// Free global providers, weighted by their rough share of consumer inboxes.
const GLOBAL: &[(u32, &str)] = &[
    (380, "gmail.com"),
    (90, "outlook.com"),
    (110, "hotmail.com"),
    (90, "yahoo.com"),
    (75, "icloud.com"),
    (10, "me.com"),
    (30, "live.com"),
    (15, "aol.com"),
    (15, "proton.me"),
    (5, "msn.com"),
];

/// Invented but ordinary-looking company domains (work addresses): Canadian,
/// Québec, French, German, British, then the ones anyone might work for.
pub(crate) const COMPANIES: &[&str] = &[
    "maplecrest.ca",
    "redcedarinsurance.ca",
    "groupe-lacroix.ca",
    "atelier-boreal.qc.ca",
    "lumiere-conseil.fr",
    "nordwerk.de",
    "harbourline.co.uk",
    "northwind-logistics.com",
    "bluefinanalytics.io",
    "cascadehealth.org",
    "pixelforge.io",
    "kestrel-engineering.com",
    "brightwell.org",
    "tidewater-legal.com",
    "sunvalley-foods.com",
    "orchardlane.co",
];

/// The company domains a region's people work at (local firms, then international ones).
fn companies(region: Region) -> &'static [&'static str] {
    match region {
        Region::Ca => &COMPANIES[..2],
        Region::Qc => &COMPANIES[1..4],
        Region::Fr => &COMPANIES[4..5],
        Region::De => &COMPANIES[5..6],
        Region::Uk => &COMPANIES[6..7],
        _ => &COMPANIES[7..],
    }
}

/// Regional providers per region (weights within the region's own table), and the
/// share of a region's contacts (per mille) that use a regional provider at all.
fn regional(region: Region) -> (u32, &'static [(u32, &'static str)]) {
    match region {
        Region::Us => (
            150,
            &[
                (40, "comcast.net"),
                (25, "verizon.net"),
                (25, "att.net"),
                (15, "sbcglobal.net"),
                (10, "ymail.com"),
            ],
        ),
        Region::Ca => (
            220,
            &[
                (30, "sympatico.ca"),
                (30, "rogers.com"),
                (20, "shaw.ca"),
                (15, "bell.net"),
                (15, "telus.net"),
                (10, "videotron.ca"),
            ],
        ),
        Region::Qc => (
            330,
            &[
                (45, "videotron.ca"),
                (25, "sympatico.ca"),
                (15, "hotmail.fr"),
                (10, "bell.net"),
                (5, "cgocable.ca"),
            ],
        ),
        Region::Uk => (
            250,
            &[
                (30, "btinternet.com"),
                (25, "yahoo.co.uk"),
                (20, "hotmail.co.uk"),
                (15, "sky.com"),
                (10, "virginmedia.com"),
            ],
        ),
        Region::Fr => (
            550,
            &[
                (35, "orange.fr"),
                (25, "free.fr"),
                (15, "laposte.net"),
                (10, "sfr.fr"),
                (10, "wanadoo.fr"),
                (10, "hotmail.fr"),
            ],
        ),
        Region::De => (
            550,
            &[
                (35, "gmx.de"),
                (30, "web.de"),
                (25, "t-online.de"),
                (10, "freenet.de"),
            ],
        ),
        Region::Es => (
            300,
            &[(40, "hotmail.es"), (30, "yahoo.es"), (30, "telefonica.net")],
        ),
        Region::It => (
            400,
            &[(40, "libero.it"), (30, "virgilio.it"), (30, "alice.it")],
        ),
        Region::Br => (
            450,
            &[(40, "uol.com.br"), (30, "bol.com.br"), (30, "terra.com.br")],
        ),
        Region::Eu => (250, &[(40, "gmx.net"), (30, "wp.pl"), (30, "seznam.cz")]),
        Region::Jp => (
            450,
            &[
                (40, "yahoo.co.jp"),
                (30, "docomo.ne.jp"),
                (30, "ezweb.ne.jp"),
            ],
        ),
        Region::Cn => (650, &[(45, "qq.com"), (35, "163.com"), (20, "126.com")]),
        Region::Kr => (550, &[(60, "naver.com"), (40, "daum.net")]),
        Region::Ru => (
            600,
            &[(50, "yandex.ru"), (35, "mail.ru"), (15, "rambler.ru")],
        ),
    }
}

/// Share of contacts (per mille) who are on a work address.
const COMPANY_SHARE: u32 = 120;

pub(crate) fn domain_for(rng: &mut Rand, region: Region) -> &'static str {
    let (share, table) = regional(region);
    let roll = rng.below(1000) as u32;
    if roll < COMPANY_SHARE {
        let local = companies(region);
        // Most work where they live; some at an international firm.
        if rng.chance(700) {
            rng.one(local)
        } else {
            rng.one(&COMPANIES[7..])
        }
    } else if roll < COMPANY_SHARE + share * (1000 - COMPANY_SHARE) / 1000 {
        rng.weighted(table)
    } else {
        rng.weighted(GLOBAL)
    }
}

pub(crate) fn is_company(domain: &str) -> bool {
    COMPANIES.contains(&domain)
}

/// The provider family of a mailbox: it decides which client shows up when the
/// message is opened, and which MX writes the bounce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    Gmail,
    Apple,
    Yahoo,
    Microsoft,
    Company,
    Other,
}

pub(crate) fn family(domain: &str) -> Family {
    let base = domain.split('.').next().unwrap_or("");
    match base {
        "gmail" | "googlemail" => Family::Gmail,
        "icloud" | "me" | "mac" => Family::Apple,
        "yahoo" | "ymail" | "aol" | "sbcglobal" | "att" | "verizon" | "rogers" => Family::Yahoo,
        "outlook" | "hotmail" | "live" | "msn" => Family::Microsoft,
        _ if is_company(domain) => Family::Company,
        _ => Family::Other,
    }
}

/// The region a domain points at, when it says (`.fr`, `videotron.ca`); else `None`.
pub(crate) fn region_of(domain: &str) -> Option<Region> {
    let tld = domain.rsplit('.').next().unwrap_or("");
    Some(match tld {
        "ca" if domain.contains("videotron")
            || domain.ends_with(".qc.ca")
            || domain == "cgocable.ca" =>
        {
            Region::Qc
        }
        "ca" => Region::Ca,
        "uk" => Region::Uk,
        "fr" => Region::Fr,
        "de" => Region::De,
        "es" => Region::Es,
        "it" => Region::It,
        "br" => Region::Br,
        "pl" | "cz" => Region::Eu,
        "jp" => Region::Jp,
        "kr" => Region::Kr,
        "ru" => Region::Ru,
        _ => match domain {
            "qq.com" | "163.com" | "126.com" => Region::Cn,
            "naver.com" | "daum.net" => Region::Kr,
            "comcast.net" | "verizon.net" | "att.net" | "sbcglobal.net" => Region::Us,
            "sympatico.ca" | "bell.net" | "telus.net" | "rogers.com" => Region::Ca,
            "btinternet.com" | "sky.com" | "virginmedia.com" => Region::Uk,
            "laposte.net" => Region::Fr,
            "gmx.net" => Region::De,
            "telefonica.net" => Region::Es,
            _ => return None,
        },
    })
}

/// The host that answers for a domain's mail, as it appears in bounce reports.
pub(crate) fn mx_host(domain: &str) -> MxHost<'_> {
    MxHost(domain)
}

/// Displays the MX host of a domain without allocating.
pub(crate) struct MxHost<'a>(&'a str);

impl std::fmt::Display for MxHost<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let d = self.0;
        match family(d) {
            Family::Gmail => f.write_str("gmail-smtp-in.l.google.com"),
            Family::Apple => f.write_str("mx01.mail.icloud.com"),
            Family::Yahoo => f.write_str("mta7.am0.yahoodns.net"),
            Family::Microsoft | Family::Company => {
                // Exchange Online names its MX after the domain with dots as dashes.
                for (i, part) in d.split('.').enumerate() {
                    if i > 0 {
                        f.write_str("-")?;
                    }
                    f.write_str(part)?;
                }
                f.write_str(if family(d) == Family::Microsoft {
                    ".olc.protection.outlook.com"
                } else {
                    ".mail.protection.outlook.com"
                })
            }
            Family::Other => write!(f, "mx.{d}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_and_mx_hosts() {
        assert_eq!(family("gmail.com"), Family::Gmail);
        assert_eq!(family("yahoo.co.jp"), Family::Yahoo);
        assert_eq!(family("maplecrest.ca"), Family::Company);
        assert_eq!(family("videotron.ca"), Family::Other);
        assert_eq!(
            mx_host("hotmail.fr").to_string(),
            "hotmail-fr.olc.protection.outlook.com"
        );
        assert_eq!(
            mx_host("maplecrest.ca").to_string(),
            "maplecrest-ca.mail.protection.outlook.com"
        );
        assert_eq!(mx_host("orange.fr").to_string(), "mx.orange.fr");
    }

    #[test]
    fn regions_follow_the_domain() {
        assert_eq!(region_of("videotron.ca"), Some(Region::Qc));
        assert_eq!(region_of("orange.fr"), Some(Region::Fr));
        assert_eq!(region_of("qq.com"), Some(Region::Cn));
        assert_eq!(region_of("gmail.com"), None);
    }
}
