//! The timeline of a scenario's `campaign:` step (SPEC section 4): N contacts through a
//! funnel over `over` of scenario time, as a time-ordered stream of [`FunnelEvent`]s.
//! Takes a [`CampaignPlan`] (contacts, spread, rates, seed); gives a [`FunnelStream`]
//! whose memory does not depend on the number of contacts. Pure: no clock, no I/O.
//!
//! How it stays O(1) in memory while sorted: every contact's fate is a pure hash of
//! (seed, contact, purpose), so "does contact i open?" needs no storage. The events are
//! split into ~45 *lanes* (one stage, one delay class: "opened 4-8 minutes after send"),
//! each of which visits contacts in send order and gives times that grow with the
//! contact index, so each lane is already sorted; a heap of one head per lane (never
//! one per contact) merges them. A contact's later stages are computed from the same
//! formula as its earlier ones, so causality holds by construction.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::iter::FusedIterator;
use std::time::Duration;

use lanes::{Lane, Timeline};

mod lanes;

/// Funnel rates, each a fraction (0..=1) of ALL contacts of the campaign.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Funnel {
    pub bounced: f64,
    /// Contacts who open; a bounced contact never opens.
    pub opened: f64,
    /// Contacts who click, all of them among those who opened (`clicked <= opened`).
    pub clicked: f64,
    pub unsubscribed: f64,
    pub spam_complaint: f64,
}

/// One `campaign:` step, as validated numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct CampaignPlan {
    pub contacts: u64,
    /// The spread of all the campaign's events in scenario time.
    pub over: Duration,
    pub funnel: Funnel,
    pub seed: u64,
}

/// What happened, in the order a single contact can live it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Stage {
    Scheduled,
    Sent,
    Bounced,
    Opened,
    Clicked,
    Unsubscribed,
    SpamComplaint,
    /// The end of the send phase: right after the last `email.sent`.
    CampaignSent,
}

impl Stage {
    /// The event's name in the `docs` flavor (SPEC section 2).
    pub fn docs_event(self) -> &'static str {
        match self {
            Stage::Scheduled => "campaign.scheduled",
            Stage::Sent => "email.sent",
            Stage::Bounced => "email.bounced",
            Stage::Opened => "email.opened",
            Stage::Clicked => "email.clicked",
            Stage::Unsubscribed => "email.unsubscribed",
            Stage::SpamComplaint => "email.spam_complaint",
            Stage::CampaignSent => "campaign.sent",
        }
    }

    /// Order among events at the same instant. `CampaignSent` ranks right after `Sent`,
    /// so it is the event immediately after the last `email.sent` even if an open of an
    /// earlier contact lands on the same nanosecond.
    fn rank(self) -> u8 {
        match self {
            Stage::Scheduled => 0,
            Stage::Sent => 1,
            Stage::CampaignSent => 2,
            Stage::Bounced => 3,
            Stage::Opened => 4,
            Stage::Clicked => 5,
            Stage::Unsubscribed => 6,
            Stage::SpamComplaint => 7,
        }
    }
}

/// One event of the campaign's timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FunnelEvent {
    /// Offset from the campaign's start (the step's scenario time).
    pub at: Duration,
    /// Contact index in `0..contacts`; `None` for `campaign.*` events.
    pub contact: Option<u64>,
    pub stage: Stage,
}

/// The most contacts one step may have: a billion is beyond any real list, and keeps
/// every index exact in the f64 arithmetic of the time formulas (exact below 2^53).
pub const MAX_CONTACTS: u64 = 1_000_000_000;
/// The longest `over`: a year, far beyond a campaign's life (opens fade within days).
pub const MAX_OVER: Duration = Duration::from_secs(366 * 24 * 3600);

impl CampaignPlan {
    /// Checks the plan; the message names the field, the value and what would be valid.
    pub fn validate(&self) -> Result<(), String> {
        let f = &self.funnel;
        for (name, v) in f.named() {
            if !(0.0..=1.0).contains(&v) {
                return Err(format!(
                    "campaign funnel `{name}` is {}: a rate must be between 0% and 100%",
                    pct(v)
                ));
            }
        }
        if f.clicked > f.opened {
            return Err(format!(
                "campaign funnel `clicked` ({}) is more than `opened` ({}): only contacts \
                 who opened can click, so use clicked <= opened",
                pct(f.clicked),
                pct(f.opened)
            ));
        }
        // A little slack so that 55% + 45% passes despite binary fractions.
        let fits = |a: f64, b: f64| a + b <= 1.0 + 1e-9;
        for (name, v) in [
            ("opened", f.opened),
            ("unsubscribed", f.unsubscribed),
            ("spam_complaint", f.spam_complaint),
        ] {
            if !fits(f.bounced, v) {
                return Err(format!(
                    "campaign funnel `bounced` ({}) + `{name}` ({}) is over 100%: bounced \
                     contacts never open, unsubscribe or complain, so the two must add up to \
                     at most 100%",
                    pct(f.bounced),
                    pct(v)
                ));
            }
        }
        if self.over.is_zero() {
            return Err(
                "campaign `over` is 0s: give the campaign a spread, e.g. `over: 10m`".into(),
            );
        }
        if self.over > MAX_OVER {
            return Err(format!(
                "campaign `over` is {}s: at most {}s (366 days) is supported",
                self.over.as_secs(),
                MAX_OVER.as_secs()
            ));
        }
        if self.contacts > MAX_CONTACTS {
            return Err(format!(
                "campaign `contacts` is {}: at most {MAX_CONTACTS} is supported",
                self.contacts
            ));
        }
        Ok(())
    }

    /// The campaign's events in nondecreasing `at` (ties in causal stage order).
    ///
    /// Call [`validate`](Self::validate) first: an invalid plan is clamped into a valid
    /// one (rates into their bounds, `contacts` and `over` to their maxima), never a panic.
    pub fn events(&self) -> FunnelStream {
        FunnelStream::new(self)
    }
}

impl Funnel {
    fn named(&self) -> [(&'static str, f64); 5] {
        [
            ("bounced", self.bounced),
            ("opened", self.opened),
            ("clicked", self.clicked),
            ("unsubscribed", self.unsubscribed),
            ("spam_complaint", self.spam_complaint),
        ]
    }

    /// The nearest valid funnel: NaN to 0, rates into 0..=1, clicked <= opened, and
    /// every non-bounce rate within the delivered share.
    fn clamped(&self) -> Funnel {
        let c = |v: f64| if v.is_nan() { 0.0 } else { v.clamp(0.0, 1.0) };
        let bounced = c(self.bounced);
        let opened = c(self.opened).min(1.0 - bounced);
        Funnel {
            bounced,
            opened,
            clicked: c(self.clicked).min(opened),
            unsubscribed: c(self.unsubscribed).min(1.0 - bounced),
            spam_complaint: c(self.spam_complaint).min(1.0 - bounced),
        }
    }
}

/// A rate as a user wrote it: 0.005 -> "0.5%".
fn pct(v: f64) -> String {
    if !v.is_finite() {
        return format!("{v}");
    }
    let s = format!("{:.4}", v * 100.0);
    format!("{}%", s.trim_end_matches('0').trim_end_matches('.'))
}

/// A lane's head in the merge: ordered by time, then causal stage rank, then contact.
type Head = Reverse<(u64, u8, u64, usize)>;
/// The lane index of the two campaign-level events, which have no lane.
const NO_LANE: usize = usize::MAX;
const NO_CONTACT: u64 = u64::MAX;

/// The campaign's events in time order. Its memory is one small record per lane and one
/// heap entry per lane, whatever the number of contacts.
#[derive(Debug, Clone)]
pub struct FunnelStream {
    tl: Timeline,
    lanes: Vec<Lane>,
    heap: BinaryHeap<Head>,
}

impl FunnelStream {
    fn new(plan: &CampaignPlan) -> FunnelStream {
        let contacts = plan.contacts.min(MAX_CONTACTS);
        let over_ns = plan.over.min(MAX_OVER).as_nanos() as u64;
        let tl = Timeline::new(contacts, over_ns, plan.seed);
        let mut lanes = lanes::lanes(&plan.funnel.clamped(), &tl, plan.seed);
        let mut heap = BinaryHeap::with_capacity(lanes.len() + 2);
        for (idx, lane) in lanes.iter_mut().enumerate() {
            if let Some((at, contact)) = lane.advance(&tl) {
                heap.push(Reverse((at, lane.stage.rank(), contact, idx)));
            }
        }
        let sent_end = tl.send_end();
        heap.push(Reverse((0, Stage::Scheduled.rank(), NO_CONTACT, NO_LANE)));
        heap.push(Reverse((
            sent_end,
            Stage::CampaignSent.rank(),
            NO_CONTACT,
            NO_LANE,
        )));
        FunnelStream { tl, lanes, heap }
    }
}

impl Iterator for FunnelStream {
    type Item = FunnelEvent;

    fn next(&mut self) -> Option<FunnelEvent> {
        let Reverse((at, rank, contact, idx)) = self.heap.pop()?;
        let stage = match self.lanes.get_mut(idx) {
            Some(lane) => {
                if let Some((next_at, next)) = lane.advance(&self.tl) {
                    debug_assert!(next_at >= at, "lane {:?} went backwards", lane.stage);
                    self.heap.push(Reverse((next_at, rank, next, idx)));
                }
                lane.stage
            }
            None if rank == Stage::Scheduled.rank() => Stage::Scheduled,
            None => Stage::CampaignSent,
        };
        Some(FunnelEvent {
            at: Duration::from_nanos(at),
            contact: (contact != NO_CONTACT).then_some(contact),
            stage,
        })
    }
}

impl FusedIterator for FunnelStream {}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(funnel: Funnel) -> CampaignPlan {
        CampaignPlan {
            contacts: 1000,
            over: Duration::from_secs(600),
            funnel,
            seed: 7,
        }
    }

    const USUAL: Funnel = Funnel {
        bounced: 0.02,
        opened: 0.45,
        clicked: 0.12,
        unsubscribed: 0.005,
        spam_complaint: 0.001,
    };

    #[test]
    fn rates_print_as_written() {
        assert_eq!(pct(0.12), "12%");
        assert_eq!(pct(0.005), "0.5%");
        assert_eq!(pct(1.5), "150%");
        assert_eq!(pct(f64::NAN), "NaN");
    }

    #[test]
    fn validate_names_the_field_and_the_bound() {
        assert_eq!(plan(USUAL).validate(), Ok(()));
        let err = plan(Funnel {
            opened: 1.2,
            ..USUAL
        })
        .validate()
        .unwrap_err();
        assert!(
            err.contains("`opened` is 120%") && err.contains("between 0% and 100%"),
            "{err}"
        );
        let err = plan(Funnel {
            clicked: 0.5,
            ..USUAL
        })
        .validate()
        .unwrap_err();
        assert!(
            err.contains("`clicked` (50%)") && err.contains("clicked <= opened"),
            "{err}"
        );
        let err = plan(Funnel {
            bounced: 0.6,
            ..USUAL
        })
        .validate()
        .unwrap_err();
        assert!(err.contains("`bounced` (60%) + `opened` (45%)"), "{err}");
        let edge = Funnel {
            bounced: 0.55,
            opened: 0.45,
            ..USUAL
        };
        assert_eq!(plan(edge).validate(), Ok(()), "exactly 100% is allowed");
    }

    #[test]
    fn rates_of_zero_create_no_lanes() {
        let none = Funnel {
            bounced: 0.0,
            opened: 0.0,
            clicked: 0.0,
            unsubscribed: 0.0,
            spam_complaint: 0.0,
        };
        let stream = plan(none).events();
        assert_eq!(stream.lanes.len(), 1, "only the send lane");
        assert_eq!(stream.count(), 1000 + 2);
    }

    #[test]
    fn invalid_plans_are_clamped_not_panicked() {
        let wild = Funnel {
            bounced: f64::NAN,
            opened: 3.0,
            clicked: -1.0,
            unsubscribed: 2.0,
            spam_complaint: f64::INFINITY,
        };
        let p = CampaignPlan {
            over: Duration::MAX,
            ..plan(wild)
        };
        let events: Vec<_> = p.events().collect();
        assert!(events.windows(2).all(|w| w[0].at <= w[1].at));
        assert!(events.iter().all(|e| e.at <= MAX_OVER));
    }

    #[test]
    fn memory_is_the_same_for_any_number_of_contacts() {
        // (lanes, peak heap capacity): a design that queued one entry per pending
        // contact would grow the heap with the campaign.
        let footprint = |contacts| {
            let mut stream = CampaignPlan {
                contacts,
                ..plan(USUAL)
            }
            .events();
            let mut peak = stream.heap.capacity();
            while stream.next().is_some() {
                peak = peak.max(stream.heap.capacity());
            }
            (stream.lanes.capacity(), peak)
        };
        let small = footprint(1_000);
        assert_eq!(small, footprint(50_000));
        assert!(small.1 <= small.0 + 2, "{small:?}");
    }
}
