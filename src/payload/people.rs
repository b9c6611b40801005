//! Who the contacts are: a person drawn from the `names` tables, and an email address
//! derived from the name the way people really pick them (`jose.nunez84@...`), at a
//! mailbox domain from `mailboxes`. Latin names are folded to ASCII with `deunicode`;
//! non-Latin ones use the romanization stored next to them.

use super::mailboxes;
use super::names::{CULTURES, Names};
use super::rng::Rand;

/// A drawn person: display names, the ASCII forms for the address, and their region.
pub(crate) struct Person {
    pub first: &'static str,
    pub last: &'static str,
    pub first_ascii: String,
    pub last_ascii: String,
    pub locale: &'static str,
}

pub(crate) fn person(rng: &mut Rand) -> Person {
    let roll = rng.u32();
    let total: u32 = CULTURES.iter().map(|c| c.weight).sum();
    let mut at = ((u64::from(roll) * u64::from(total)) >> 32) as u32;
    let mut culture = &CULTURES[0];
    for c in CULTURES {
        if at < c.weight {
            culture = c;
            break;
        }
        at -= c.weight;
    }
    match culture.names {
        Names::Latin { first, last } => {
            let (f, l) = (*rng.pick(first), *rng.pick(last));
            Person {
                first: f,
                last: l,
                first_ascii: fold(f),
                last_ascii: fold(l),
                locale: culture.locale,
            }
        }
        Names::Romanized { first, last } => {
            let (f, l) = (rng.pick(first), rng.pick(last));
            Person {
                first: f.0,
                last: l.0,
                first_ascii: f.1.into(),
                last_ascii: l.1.into(),
                locale: culture.locale,
            }
        }
    }
}

/// `Marie-Ève` -> `marieeve`, `O'Brien` -> `obrien`, `Łukasz` -> `lukasz`.
pub(crate) fn fold(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let ascii;
    let src = if name.is_ascii() {
        name
    } else {
        ascii = deunicode::deunicode(name);
        &ascii
    };
    out.extend(
        src.chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase()),
    );
    out
}

/// The local part of an address, in one of the shapes people choose. `salt` > 0 forces
/// a shape with digits (used to step around an address already handed out).
pub(crate) fn local_part(rng: &mut Rand, p: &Person, company: bool, salt: u32) -> String {
    let (f, l) = (p.first_ascii.as_str(), p.last_ascii.as_str());
    let fi = &f[..f.len().min(1)];
    let shape = if company {
        rng.weighted(&[(50, 0), (25, 2), (15, 9), (10, 6)])
    } else if salt > 0 {
        rng.weighted(&[(40, 3), (30, 4), (30, 8)])
    } else {
        rng.weighted(&[
            (30, 0),
            (12, 1),
            (10, 2),
            (9, 3),
            (10, 4),
            (5, 5),
            (5, 6),
            (4, 7),
            (3, 8),
            (3, 10),
        ])
    };
    let n = digits(rng);
    match shape {
        0 => format!("{f}.{l}"),
        1 => format!("{f}{l}"),
        2 => format!("{fi}{l}"),
        3 => format!("{f}.{l}{n}"),
        4 => format!("{f}{n}"),
        5 => format!("{f}_{l}"),
        6 => format!("{fi}.{l}"),
        7 => format!("{l}.{f}"),
        8 => format!("{l}{n}"),
        9 => f.to_string(),
        _ => format!("{f}{}", &l[..l.len().min(1)]),
    }
}

/// Digits as people put them in addresses: birth years, two-digit years, small numbers.
fn digits(rng: &mut Rand) -> String {
    match rng.below(10) {
        0..=3 => rng.range(1958, 2006).to_string(),
        4..=6 => format!("{:02}", rng.range(0, 99)),
        _ => rng.range(1, 999).to_string(),
    }
}

/// A whole address for a person, domain included.
pub(crate) fn email(rng: &mut Rand, p: &Person, salt: u32) -> String {
    let domain = mailboxes::domain_for(rng, mailboxes::region_of_locale(p.locale));
    let company = mailboxes::is_company(domain);
    let mut local = local_part(rng, p, company, salt);
    if local.is_empty() || local.starts_with('.') || local.ends_with('.') {
        local = format!("contact{}", rng.range(100, 99_999));
    }
    format!("{local}@{domain}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_gives_plain_ascii() {
        assert_eq!(fold("Marie-Ève"), "marieeve");
        assert_eq!(fold("O'Brien"), "obrien");
        assert_eq!(fold("Łukasz"), "lukasz");
        assert_eq!(fold("Søren"), "soren");
        assert_eq!(fold("Zoë"), "zoe");
        assert_eq!(fold("Weiß"), "weiss");
    }

    #[test]
    fn romanized_tables_are_ascii_and_latin_tables_fold_to_something() {
        for c in CULTURES {
            match c.names {
                Names::Latin { first, last } => {
                    for n in first.iter().chain(last) {
                        assert!(!fold(n).is_empty(), "{n}");
                    }
                }
                Names::Romanized { first, last } => {
                    for (n, r) in first.iter().chain(last) {
                        assert!(
                            !n.is_ascii() && r.bytes().all(|b| b.is_ascii_lowercase()),
                            "{n}"
                        );
                    }
                }
            }
        }
    }
}
