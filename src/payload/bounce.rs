//! Bounce replies as receiving MTAs write them (Postfix, Gmail, Exchange Online,
//! Yahoo, iCloud), picked to fit the recipient's provider, with enhanced status codes
//! that agree with the reply: 5.x.x only after a 5xx (hard), 4.x.x after a 4xx (soft).

use std::fmt;

use super::mailboxes::Family;
use super::rng::Rand;

/// Whether a bounce is permanent; decides the reply class (5xx or 4xx).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Severity {
    Hard,
    Soft,
}

/// How a provider signs off its replies.
#[derive(Clone, Copy)]
enum Tail {
    None,
    /// Gmail: `... a640c23a62f3a-a46a1b2c3d4si1234567ejc.412 - gsmtp`
    Gsmtp,
    /// Exchange Online: `[AM4PEPF00027A6C.namprd04.prod.outlook.com]`
    Outlook,
}

/// One kind of bounce reply. `{e}` in `text` stands for the address, `{d}` for its
/// domain, `{ip}` for the sending MTA's address.
pub(crate) struct Bounce {
    pub reply: u16,
    pub status: &'static str,
    text: &'static str,
    tail: Tail,
    /// The API's bounce subtype (`bounce_hb`, `bounce_sb`, ...).
    pub subtype: &'static str,
    only: Option<Family>,
    weight: u32,
}

const fn b(
    reply: u16,
    status: &'static str,
    text: &'static str,
    tail: Tail,
    subtype: &'static str,
    only: Option<Family>,
    weight: u32,
) -> Bounce {
    Bounce {
        reply,
        status,
        text,
        tail,
        subtype,
        only,
        weight,
    }
}

use Family::*;

#[rustfmt::skip]
static BOUNCES: &[Bounce] = &[
    b(550, "5.1.1", "<{e}>: Recipient address rejected: User unknown in virtual mailbox table", Tail::None, "bounce_hb", Some(Other), 40),
    b(550, "5.1.1", "<{e}>: Recipient address rejected: User unknown in local recipient table", Tail::None, "bounce_hb", Some(Other), 30),
    b(550, "5.1.1", "The email account that you tried to reach does not exist. Please try double-checking the recipient's email address for typos or unnecessary spaces. For more information, go to https://support.google.com/mail/?p=NoSuchUser", Tail::Gsmtp, "bounce_hb", Some(Gmail), 60),
    b(550, "5.5.0", "Requested action not taken: mailbox unavailable (S2017062302).", Tail::Outlook, "bounce_hb", Some(Microsoft), 60),
    b(550, "5.1.10", "RESOLVER.ADR.RecipientNotFound; Recipient {e} not found by SMTP address lookup", Tail::Outlook, "bounce_hb", Some(Company), 60),
    b(550, "5.1.1", "<{e}>: inbox does not exist", Tail::None, "bounce_hb", Some(Apple), 60),
    b(554, "5.1.1", "delivery error: dd This user doesn't have a {d} account ({e}) [0] - mta1042.mail.gq1.yahoo.com", Tail::None, "bounce_hb", Some(Yahoo), 60),
    b(550, "5.2.1", "<{e}>: Mailbox disabled, not accepting messages", Tail::None, "bounce_hb", None, 8),
    b(550, "5.1.6", "<{e}>: Recipient address has moved; no forwarding address", Tail::None, "bounce_ac", None, 3),
    b(550, "5.1.2", "Host or domain name not found. Name service error for name={d} type=MX: Host not found", Tail::None, "bounce_df", Some(Other), 6),
    b(554, "5.7.1", "<{e}>: Message rejected as spam by content filter", Tail::None, "bounce_mb", None, 5),
    b(452, "4.2.2", "<{e}>: Mailbox full", Tail::None, "bounce_fm", None, 25),
    b(452, "4.2.2", "The recipient's inbox is out of storage space. Please direct the recipient to https://support.google.com/mail/?p=OverQuotaTemp", Tail::Gsmtp, "bounce_fm", Some(Gmail), 60),
    b(450, "4.2.0", "<{e}>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/{d}.html", Tail::None, "bounce_tr", Some(Other), 30),
    b(421, "4.7.0", "[TSS04] Messages from {ip} temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes", Tail::None, "bounce_tr", Some(Yahoo), 60),
    b(451, "4.7.500", "Server busy. Please try again later from [{ip}]. (S77719)", Tail::Outlook, "bounce_tr", Some(Microsoft), 40),
    b(451, "4.7.500", "Server busy. Please try again later from [{ip}]. (S77719)", Tail::Outlook, "bounce_tr", Some(Company), 40),
    b(451, "4.4.0", "Temporary DNS failure resolving {d}; will retry", Tail::None, "bounce_df", Some(Other), 8),
    b(421, "4.3.2", "Service not available, closing transmission channel", Tail::None, "bounce_sb", None, 10),
];

/// Share of bounces (per mille) that are hard.
const HARD_SHARE: u32 = 700;

impl Bounce {
    /// A bounce fitting the mailbox's provider.
    pub fn draw(rng: &mut Rand, family: Family) -> &'static Bounce {
        let severity = if rng.chance(HARD_SHARE) {
            Severity::Hard
        } else {
            Severity::Soft
        };
        let fits = |b: &&Bounce| b.severity() == severity && b.only.is_none_or(|f| f == family);
        let total: u32 = BOUNCES.iter().filter(fits).map(|b| b.weight).sum();
        let mut at = rng.below(total as usize) as u32;
        for bounce in BOUNCES.iter().filter(fits) {
            if at < bounce.weight {
                return bounce;
            }
            at -= bounce.weight;
        }
        &BOUNCES[0]
    }

    pub fn severity(&self) -> Severity {
        if self.reply >= 500 {
            Severity::Hard
        } else {
            Severity::Soft
        }
    }

    /// The full reply line for `email` (`550 5.1.1 <x@y>: ...`).
    pub fn reply_line<'a>(
        &'a self,
        rng: &mut Rand,
        email: &'a str,
        mta_ip: &'a str,
    ) -> ReplyLine<'a> {
        ReplyLine {
            bounce: self,
            email,
            mta_ip,
            tail: rng.u64(),
        }
    }
}

/// Displays a bounce reply without an intermediate String.
pub(crate) struct ReplyLine<'a> {
    bounce: &'a Bounce,
    email: &'a str,
    mta_ip: &'a str,
    tail: u64,
}

impl fmt::Display for ReplyLine<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.bounce;
        write!(f, "{} {} ", b.reply, b.status)?;
        let domain = self.email.rsplit_once('@').map_or("", |(_, d)| d);
        let mut rest = b.text;
        while let Some(i) = rest.find('{') {
            f.write_str(&rest[..i])?;
            let after = &rest[i..];
            let (value, skip) = if after.starts_with("{e}") {
                (self.email, 3)
            } else if after.starts_with("{d}") {
                (domain, 3)
            } else if after.starts_with("{ip}") {
                (self.mta_ip, 4)
            } else {
                ("{", 1)
            };
            f.write_str(value)?;
            rest = &after[skip..];
        }
        f.write_str(rest)?;
        let t = self.tail;
        match b.tail {
            Tail::None => Ok(()),
            Tail::Gsmtp => write!(
                f,
                " {:013x}-{:011x}si{:07}{}.{:03} - gsmtp",
                t >> 12,
                t.rotate_left(23) & 0xfff_ffff_ffff,
                t % 10_000_000,
                ["pfb", "ejc", "qkb", "vrb"][(t >> 60) as usize & 3],
                (t >> 40) % 1000
            ),
            Tail::Outlook => write!(
                f,
                " [{}PEPF{:08X}.{}.prod.outlook.com]",
                ["AM4", "BN8", "CY4", "YT3", "DM6"][(t % 5) as usize],
                (t >> 8) as u32,
                ["namprd04", "eurprd04", "canprd01", "namprd13"][(t >> 61) as usize & 3]
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_classes_and_enhanced_codes_agree() {
        for b in BOUNCES {
            let class = b.reply / 100;
            assert!(class == 4 || class == 5, "{}", b.reply);
            assert!(
                b.status.starts_with(&format!("{class}.")),
                "{} {}",
                b.reply,
                b.status
            );
            assert!(b.subtype.starts_with("bounce_"));
        }
    }

    #[test]
    fn every_family_can_bounce_both_ways() {
        let mut rng = Rand::new(3);
        for fam in [Gmail, Apple, Yahoo, Microsoft, Company, Other] {
            let mut seen = (false, false);
            for _ in 0..200 {
                match Bounce::draw(&mut rng, fam).severity() {
                    Severity::Hard => seen.0 = true,
                    Severity::Soft => seen.1 = true,
                }
            }
            assert_eq!(seen, (true, true), "{fam:?}");
        }
    }

    #[test]
    fn reply_lines_fill_their_placeholders() {
        let mut rng = Rand::new(5);
        for b in BOUNCES {
            let line = b
                .reply_line(&mut rng, "zoe@orange.fr", "142.44.210.7")
                .to_string();
            assert!(!line.contains('{'), "{line}");
            assert!(
                line.starts_with(&format!("{} {} ", b.reply, b.status)),
                "{line}"
            );
        }
    }
}
