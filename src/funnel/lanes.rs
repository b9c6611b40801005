//! The shape of a campaign in time, and the sorted lanes that carry it: when each
//! contact is sent (an MTA ramp), how long until it opens (decaying delay classes), and
//! what follows. Every fate and time is a pure function of (seed, contact index), so a
//! lane can walk the contacts in send order and emit times that never go backwards.

use super::{Funnel, Stage};

// Shape of the timeline, as shares of `over` (so any `over` gets the same picture,
// scaled): sends occupy the first 20% (a real MTA sends a big list in minutes to an
// hour, while opens trickle in over a day or two), open delays fill the next 75%, and
// the last 5% is kept so a click, unsubscribe or complaint after a late open still
// fits inside `over`.
const SEND_SHARE: f64 = 0.20;
const FOLLOW_SHARE: f64 = 0.05;
const OPEN_SHARE: f64 = 1.0 - SEND_SHARE - FOLLOW_SHARE;
/// The send rate grows linearly from 1x to (1 + RAMP)x across the send window: MTAs
/// start throttled (IP warm-up, mailbox providers' per-connection limits) and open up.
const RAMP: f64 = 3.0;
/// Open delays in 10 classes of doubling width: class c covers [A/2^(10-c), A/2^(9-c))
/// of the open window A. These shares put ~30% of opens in the first ~1/30 of A and
/// the median near A/10: with `over: 48h`, 31% within the hour and half within ~3.5 h,
/// like published open-time curves; the density decays after every send.
const OPEN_CLASS_SHARES: [f64; 10] = [0.03, 0.04, 0.06, 0.08, 0.10, 0.12, 0.14, 0.16, 0.15, 0.12];
/// Most bounces are synchronous (the SMTP reply itself); the rest are deferred soft
/// bounces that come back after the MTA's retries.
const SYNC_BOUNCE_SHARE: f64 = 0.7;
/// The share of unsubscribes and complaints that come from contacts who opened (the
/// footer link; the "report spam" button in a read message); the rest come from the
/// inbox (List-Unsubscribe, spam button) without an open. Lowered when rates forbid it.
const UNSUB_FROM_OPENERS: f64 = 0.8;
const SPAM_FROM_OPENERS: f64 = 0.5;

// Delays after the previous stage: (base, spread) as shares of `over`; a contact gets
// base + spread * (its position in the send order, 0..1), which keeps every lane sorted.
const SYNC_BOUNCE: (f64, f64) = (0.0005, 0.002);
const DEFERRED_BOUNCE: (f64, f64) = (0.01, 0.05);
const CLICK_AFTER_OPEN: (f64, f64) = (0.02 * FOLLOW_SHARE, 0.5 * FOLLOW_SHARE);
const UNSUB_AFTER_OPEN: (f64, f64) = (0.05 * FOLLOW_SHARE, 0.95 * FOLLOW_SHARE);
const SPAM_AFTER_OPEN: (f64, f64) = (0.05 * FOLLOW_SHARE, 0.95 * FOLLOW_SHARE);
const UNSUB_AFTER_SENT: (f64, f64) = (0.01, 0.6);
const SPAM_AFTER_SENT: (f64, f64) = (0.01, 0.4);

// Salts: one independent hash stream per purpose.
const SALT_FATE: u64 = 1;
const SALT_JITTER: u64 = 2;
const SALT_UNSUB: u64 = 3;
const SALT_SPAM: u64 = 4;

/// Splits a rate `r` of all contacts between openers (share `o`) and delivered
/// non-openers (share `n`), taking the preferred share `pref` from openers when the
/// rates allow it; gives the probability of the stage within each group.
pub(super) fn split(r: f64, o: f64, n: f64, pref: f64) -> (f64, f64) {
    if r <= 0.0 {
        return (0.0, 0.0);
    }
    let lo = if n > 0.0 { (1.0 - n / r).max(0.0) } else { 1.0 };
    let hi = if o > 0.0 { (o / r).min(1.0) } else { 0.0 };
    let a = pref.max(lo).min(hi);
    let q = |share: f64, group: f64| {
        if group > 0.0 {
            (share * r / group).min(1.0)
        } else {
            0.0
        }
    };
    (q(a, o), q(1.0 - a, n))
}

/// splitmix64's output function (Steele, Lea, Flood 2014): a strong 64-bit mixer.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

const GOLDEN: u64 = 0x9e37_79b9_7f4a_7c15;

/// The key of one purpose's hash stream.
fn key(seed: u64, salt: u64) -> u64 {
    mix(seed ^ mix(salt.wrapping_mul(GOLDEN)))
}

/// Uniform in [0, 1) for contact `i`: the i-th output of splitmix64 seeded with `key`.
fn draw(key: u64, i: u64) -> f64 {
    let h = mix(key.wrapping_add(i.wrapping_add(1).wrapping_mul(GOLDEN)));
    (h >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// A delay after the previous stage, in nanoseconds: base + spread * send position.
#[derive(Debug, Clone, Copy)]
struct Hop {
    base: f64,
    spread: f64,
}

impl Hop {
    fn of_over(over: f64, (base, spread): (f64, f64)) -> Hop {
        Hop {
            base: base * over,
            spread: spread * over,
        }
    }

    /// Nondecreasing in both `t` and `p` (IEEE rounding is monotone), which is what
    /// keeps each lane sorted and each contact causal.
    fn after(self, t: f64, p: f64) -> f64 {
        t + self.base + self.spread * p
    }
}

/// What every lane needs to place a contact in time.
#[derive(Debug, Clone, Copy)]
pub(super) struct Timeline {
    contacts: u64,
    over_ns: u64,
    send_ns: f64,
    fate_key: u64,
    jitter_key: u64,
}

impl Timeline {
    pub(super) fn new(contacts: u64, over_ns: u64, seed: u64) -> Timeline {
        Timeline {
            contacts,
            over_ns,
            send_ns: over_ns as f64 * SEND_SHARE,
            fate_key: key(seed, SALT_FATE),
            jitter_key: key(seed, SALT_JITTER),
        }
    }

    /// The end of the send phase: the last contact's send time, which is the latest
    /// of all since send times grow with the index (0 without contacts).
    pub(super) fn send_end(&self) -> u64 {
        match self.contacts {
            0 => 0,
            n => self.clamp_ns(self.sent_at(self.position(n - 1))),
        }
    }

    /// Contact i's place in the send order, in [0, 1): its slot [i, i+1) plus jitter,
    /// so positions strictly follow the index yet are not evenly spaced.
    fn position(&self, i: u64) -> f64 {
        (i as f64 + draw(self.jitter_key, i)) / self.contacts as f64
    }

    /// Send time (ns) at position p: the inverse CDF of the linear ramp, one monotone
    /// formula (no branch, so no seam where rounding could step backwards).
    fn sent_at(&self, p: f64) -> f64 {
        let u = ((1.0 + RAMP * (2.0 + RAMP) * p).sqrt() - 1.0) / RAMP;
        self.send_ns * u
    }

    /// Rounds to whole nanoseconds, never past `over` (both steps are monotone).
    fn clamp_ns(&self, t: f64) -> u64 {
        (t.round() as u64).min(self.over_ns)
    }
}

/// One sorted sub-stream: the contacts whose fate draw is in [lo, hi) (and, for
/// unsubscribe and complaint lanes, whose second draw is below `q`), each placed at
/// send + (open hop) + hop.
#[derive(Debug, Clone)]
pub(super) struct Lane {
    pub(super) stage: Stage,
    lo: f64,
    hi: f64,
    extra: Option<(u64, f64)>,
    open: Option<Hop>,
    hop: Hop,
    next: u64,
}

impl Lane {
    fn new(stage: Stage, (lo, hi): (f64, f64), open: Option<Hop>, hop: Hop) -> Lane {
        Lane {
            stage,
            lo,
            hi,
            extra: None,
            open,
            hop,
            next: 0,
        }
    }

    fn member(&self, tl: &Timeline, i: u64) -> bool {
        let u = draw(tl.fate_key, i);
        u >= self.lo && u < self.hi && self.extra.is_none_or(|(k, q)| draw(k, i) < q)
    }

    fn at(&self, tl: &Timeline, i: u64) -> u64 {
        let p = tl.position(i);
        let mut t = tl.sent_at(p);
        if let Some(open) = self.open {
            t = open.after(t, p);
        }
        tl.clamp_ns(self.hop.after(t, p))
    }

    /// The lane's next (time, contact), scanning forward in send order.
    pub(super) fn advance(&mut self, tl: &Timeline) -> Option<(u64, u64)> {
        while self.next < tl.contacts {
            let i = self.next;
            self.next += 1;
            if self.member(tl, i) {
                return Some((self.at(tl, i), i));
            }
        }
        None
    }
}

/// Builds the lanes: which fate-draw interval feeds which stage with which delay.
pub(super) fn lanes(f: &Funnel, tl: &Timeline, seed: u64) -> Vec<Lane> {
    let over = tl.over_ns as f64;
    let hop = |d| Hop::of_over(over, d);
    let mut out = vec![Lane::new(Stage::Sent, (0.0, 1.0), None, hop((0.0, 0.0)))];
    // The fate draw u partitions contacts: [0, b) bounced; then one interval per open
    // class, the first `clicked / opened` of each being its clickers; then non-openers.
    let b = f.bounced;
    let sync = b * SYNC_BOUNCE_SHARE;
    out.push(Lane::new(
        Stage::Bounced,
        (0.0, sync),
        None,
        hop(SYNC_BOUNCE),
    ));
    out.push(Lane::new(
        Stage::Bounced,
        (sync, b),
        None,
        hop(DEFERRED_BOUNCE),
    ));
    let (unsub_open, unsub_rest) = split(
        f.unsubscribed,
        f.opened,
        1.0 - b - f.opened,
        UNSUB_FROM_OPENERS,
    );
    let (spam_open, spam_rest) = split(
        f.spam_complaint,
        f.opened,
        1.0 - b - f.opened,
        SPAM_FROM_OPENERS,
    );
    let (unsub_key, spam_key) = (key(seed, SALT_UNSUB), key(seed, SALT_SPAM));
    let open_window = over * OPEN_SHARE;
    let (mut lo, mut cum) = (b, 0.0);
    for (c, share) in OPEN_CLASS_SHARES.iter().enumerate() {
        cum += share;
        let hi = b + f.opened * cum;
        let start = open_window / f64::powi(2.0, 10 - c as i32);
        let open = Hop {
            base: start,
            spread: start,
        };
        let clickers = (lo, (lo + f.clicked * share).min(hi));
        out.push(Lane::new(Stage::Opened, (lo, hi), None, open));
        out.push(Lane::new(
            Stage::Clicked,
            clickers,
            Some(open),
            hop(CLICK_AFTER_OPEN),
        ));
        let mut unsub = Lane::new(
            Stage::Unsubscribed,
            (lo, hi),
            Some(open),
            hop(UNSUB_AFTER_OPEN),
        );
        unsub.extra = Some((unsub_key, unsub_open));
        out.push(unsub);
        let mut spam = Lane::new(
            Stage::SpamComplaint,
            (lo, hi),
            Some(open),
            hop(SPAM_AFTER_OPEN),
        );
        spam.extra = Some((spam_key, spam_open));
        out.push(spam);
        lo = hi;
    }
    let mut unsub = Lane::new(Stage::Unsubscribed, (lo, 1.0), None, hop(UNSUB_AFTER_SENT));
    unsub.extra = Some((unsub_key, unsub_rest));
    out.push(unsub);
    let mut spam = Lane::new(Stage::SpamComplaint, (lo, 1.0), None, hop(SPAM_AFTER_SENT));
    spam.extra = Some((spam_key, spam_rest));
    out.push(spam);
    // A lane nobody can join would still scan every contact: drop it.
    out.retain(|l| l.lo < l.hi && l.extra.is_none_or(|(_, q)| q > 0.0));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const USUAL: Funnel = Funnel {
        bounced: 0.02,
        opened: 0.45,
        clicked: 0.12,
        unsubscribed: 0.005,
        spam_complaint: 0.001,
    };

    #[test]
    fn split_keeps_the_overall_rate_and_respects_groups() {
        for (r, o, n) in [
            (0.005, 0.45, 0.53),
            (0.5, 0.1, 0.8),
            (0.9, 0.9, 0.1),
            (0.3, 0.0, 1.0),
        ] {
            let (qo, qn) = split(r, o, n, 0.8);
            assert!((0.0..=1.0).contains(&qo) && (0.0..=1.0).contains(&qn));
            assert!(
                (qo * o + qn * n - r).abs() < 1e-12,
                "r={r} o={o} n={n}: {qo} {qn}"
            );
        }
        assert_eq!(split(0.0, 0.5, 0.5, 0.8), (0.0, 0.0));
    }

    #[test]
    fn send_ramp_spans_the_window_and_speeds_up() {
        let tl = Timeline {
            contacts: 10,
            over_ns: 1000,
            send_ns: 200.0,
            fate_key: 0,
            jitter_key: 0,
        };
        assert_eq!(tl.sent_at(0.0), 0.0);
        assert!((tl.sent_at(1.0) - 200.0).abs() < 1e-9);
        // The second half of the contacts goes out faster than the first half.
        let half = tl.sent_at(0.5);
        assert!(half > 100.0 && half < 200.0, "{half}");
    }

    #[test]
    fn draws_are_uniform_and_keyed() {
        let k = key(1, SALT_FATE);
        let n = 100_000;
        let mean = (0..n).map(|i| draw(k, i)).sum::<f64>() / n as f64;
        assert!((mean - 0.5).abs() < 0.005, "{mean}");
        assert_ne!(draw(k, 0), draw(key(2, SALT_FATE), 0));
        assert_ne!(draw(k, 0), draw(key(1, SALT_JITTER), 0));
    }

    #[test]
    fn clickers_lie_inside_openers_and_intervals_tile() {
        let tl = Timeline::new(1000, 600_000_000_000, 7);
        let lanes = lanes(&USUAL, &tl, 7);
        let opens: Vec<_> = lanes.iter().filter(|l| l.stage == Stage::Opened).collect();
        assert_eq!(opens.len(), OPEN_CLASS_SHARES.len());
        assert_eq!(opens[0].lo, USUAL.bounced);
        for pair in opens.windows(2) {
            assert_eq!(pair[0].hi, pair[1].lo);
        }
        assert!((opens[9].hi - (USUAL.bounced + USUAL.opened)).abs() < 1e-12);
        for click in lanes.iter().filter(|l| l.stage == Stage::Clicked) {
            assert!(opens.iter().any(|o| o.lo == click.lo && click.hi <= o.hi));
        }
    }
}
