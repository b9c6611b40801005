//! The `campaign:` timeline as a user sees it: funnel shares within binomial bounds,
//! each contact's story causal, the stream sorted and inside `over`, seeds reproducible,
//! and bad rates rejected with a message naming them.

use std::collections::HashMap;
use std::time::Duration;

use cakemock::funnel::{CampaignPlan, Funnel, FunnelEvent, Stage};

const USUAL: Funnel = Funnel {
    bounced: 0.02,
    opened: 0.45,
    clicked: 0.12,
    unsubscribed: 0.005,
    spam_complaint: 0.001,
};

/// Heavier rates so the rarer stages have enough events to be checked tightly.
const HEAVY: Funnel = Funnel {
    bounced: 0.10,
    opened: 0.60,
    clicked: 0.30,
    unsubscribed: 0.08,
    spam_complaint: 0.03,
};

const TEN_MINUTES: Duration = Duration::from_secs(600);

fn plan(contacts: u64, funnel: Funnel, seed: u64) -> CampaignPlan {
    CampaignPlan {
        contacts,
        over: TEN_MINUTES,
        funnel,
        seed,
    }
}

/// Each contact's events in stream order.
fn by_contact(events: &[FunnelEvent]) -> HashMap<u64, Vec<(Duration, Stage)>> {
    let mut map: HashMap<u64, Vec<(Duration, Stage)>> = HashMap::new();
    for e in events {
        if let Some(c) = e.contact {
            map.entry(c).or_default().push((e.at, e.stage));
        }
    }
    map
}

fn count(events: &[FunnelEvent], stage: Stage) -> usize {
    events.iter().filter(|e| e.stage == stage).count()
}

#[test]
fn each_stage_share_is_within_five_sigma_of_its_rate() {
    for funnel in [USUAL, HEAVY] {
        for seed in [1, 2, 3] {
            let n = 10_000u64;
            let p = plan(n, funnel, seed);
            assert_eq!(p.validate(), Ok(()));
            let events: Vec<_> = p.events().collect();
            assert_eq!(count(&events, Stage::Sent), n as usize);
            for (stage, rate) in [
                (Stage::Bounced, funnel.bounced),
                (Stage::Opened, funnel.opened),
                (Stage::Clicked, funnel.clicked),
                (Stage::Unsubscribed, funnel.unsubscribed),
                (Stage::SpamComplaint, funnel.spam_complaint),
            ] {
                let got = count(&events, stage) as f64;
                let mean = n as f64 * rate;
                let sigma = (n as f64 * rate * (1.0 - rate)).sqrt();
                assert!(
                    (got - mean).abs() <= 5.0 * sigma + 1.0,
                    "seed {seed} {stage:?}: {got} events, expected {mean} +- {sigma}"
                );
            }
        }
    }
}

#[test]
fn every_contact_story_is_causal_and_consistent() {
    let events: Vec<_> = plan(10_000, HEAVY, 9).events().collect();
    let stories = by_contact(&events);
    assert_eq!(stories.len(), 10_000);
    for (contact, story) in &stories {
        let stages: Vec<Stage> = story.iter().map(|(_, s)| *s).collect();
        assert_eq!(stages[0], Stage::Sent, "contact {contact}: {story:?}");
        assert!(
            story.windows(2).all(|w| w[0].0 <= w[1].0),
            "contact {contact} went back in time: {story:?}"
        );
        for stage in [
            Stage::Sent,
            Stage::Bounced,
            Stage::Opened,
            Stage::Clicked,
            Stage::Unsubscribed,
            Stage::SpamComplaint,
        ] {
            let n = stages.iter().filter(|s| **s == stage).count();
            assert!(n <= 1, "contact {contact} has {stage:?} {n} times");
        }
        let at = |stage: Stage| story.iter().find(|(_, s)| *s == stage).map(|(t, _)| *t);
        let sent = story[0].0;
        if stages.contains(&Stage::Bounced) {
            assert_eq!(stages, [Stage::Sent, Stage::Bounced], "contact {contact}");
            assert!(at(Stage::Bounced).unwrap() > sent);
        }
        if let Some(opened) = at(Stage::Opened) {
            assert!(
                opened > sent,
                "contact {contact}: opened at the send instant"
            );
        }
        if let Some(clicked) = at(Stage::Clicked) {
            let opened = at(Stage::Opened).expect("a clicker must have opened");
            assert!(clicked > opened, "contact {contact}: {story:?}");
        }
    }
}

#[test]
fn the_stream_is_sorted_framed_and_inside_over() {
    for (n, funnel) in [(10_000, USUAL), (3_000, HEAVY)] {
        let events: Vec<_> = plan(n, funnel, 5).events().collect();
        assert!(events.windows(2).all(|w| w[0].at <= w[1].at), "not sorted");
        assert!(events.iter().all(|e| e.at <= TEN_MINUTES));
        assert_eq!(events[0].stage, Stage::Scheduled);
        assert_eq!(events[0].contact, None);
        assert_eq!(count(&events, Stage::Scheduled), 1);
        assert_eq!(count(&events, Stage::CampaignSent), 1);
        let last_sent = events.iter().rposition(|e| e.stage == Stage::Sent).unwrap();
        let campaign_sent = &events[last_sent + 1];
        assert_eq!(campaign_sent.stage, Stage::CampaignSent);
        assert_eq!(campaign_sent.contact, None);
        assert_eq!(campaign_sent.at, events[last_sent].at);
        // The send phase ends well before engagement does.
        assert!(events.last().unwrap().at > campaign_sent.at);
        assert!(
            events[last_sent + 2..]
                .iter()
                .any(|e| e.stage == Stage::Opened)
        );
    }
}

#[test]
fn the_timeline_looks_like_a_real_campaign() {
    let over = Duration::from_secs(48 * 3600);
    let p = CampaignPlan {
        over,
        ..plan(20_000, USUAL, 11)
    };
    let events: Vec<_> = p.events().collect();
    let stories = by_contact(&events);
    // Sends go out in the early part of `over`, like an MTA working through a list.
    let sends: Vec<Duration> = events
        .iter()
        .filter(|e| e.stage == Stage::Sent)
        .map(|e| e.at)
        .collect();
    assert!(*sends.last().unwrap() <= over / 5);
    // Opens come minutes to hours after their send, most of them early.
    let mut delays: Vec<Duration> = stories
        .values()
        .filter_map(|s| {
            let opened = s.iter().find(|(_, st)| *st == Stage::Opened)?;
            Some(opened.0 - s[0].0)
        })
        .collect();
    delays.sort();
    let median = delays[delays.len() / 2];
    assert!(
        median >= Duration::from_secs(3600) && median <= Duration::from_secs(8 * 3600),
        "median open delay {median:?}"
    );
    assert!(delays[0] >= Duration::from_secs(60), "{:?}", delays[0]);
    let early = delays.iter().filter(|d| **d < over / 4).count();
    assert!(
        early * 3 > delays.len() * 2,
        "opens should decay: only {early} of {} within over/4 of their send",
        delays.len()
    );
    // Opens are not a replay of the send order: contacts open out of order.
    let open_order: Vec<u64> = events
        .iter()
        .filter(|e| e.stage == Stage::Opened)
        .filter_map(|e| e.contact)
        .collect();
    let inversions = open_order.windows(2).filter(|w| w[0] > w[1]).count();
    assert!(inversions > open_order.len() / 4, "{inversions} inversions");
    // Most unsubscribers opened the email first.
    let unsubscribers: Vec<_> = stories
        .values()
        .filter(|s| s.iter().any(|(_, st)| *st == Stage::Unsubscribed))
        .collect();
    let opened_first = unsubscribers
        .iter()
        .filter(|s| s.iter().any(|(_, st)| *st == Stage::Opened))
        .count();
    assert!(opened_first * 2 > unsubscribers.len());
}

#[test]
fn same_seed_same_stream_other_seed_other_stream() {
    let a: Vec<_> = plan(2_000, USUAL, 42).events().collect();
    let b: Vec<_> = plan(2_000, USUAL, 42).events().collect();
    let c: Vec<_> = plan(2_000, USUAL, 43).events().collect();
    assert_eq!(a, b);
    assert_ne!(a, c);
}

#[test]
fn no_contacts_gives_just_the_campaign_events() {
    let events: Vec<_> = plan(0, USUAL, 1).events().collect();
    let stages: Vec<_> = events.iter().map(|e| e.stage).collect();
    assert_eq!(stages, [Stage::Scheduled, Stage::CampaignSent]);
    assert!(events.iter().all(|e| e.contact.is_none()));
}

#[test]
fn one_contact_walks_the_whole_funnel() {
    let all_in = Funnel {
        bounced: 0.0,
        opened: 1.0,
        clicked: 1.0,
        unsubscribed: 0.0,
        spam_complaint: 0.0,
    };
    let events: Vec<_> = plan(1, all_in, 1).events().collect();
    let stages: Vec<_> = events.iter().map(|e| e.stage).collect();
    use Stage::*;
    assert_eq!(stages, [Scheduled, Sent, CampaignSent, Opened, Clicked]);
    assert!(
        events[1..]
            .iter()
            .all(|e| e.contact.is_some() || e.stage == CampaignSent)
    );
    let bounced = Funnel {
        bounced: 1.0,
        opened: 0.0,
        clicked: 0.0,
        ..all_in
    };
    let stages: Vec<_> = plan(1, bounced, 1).events().map(|e| e.stage).collect();
    assert_eq!(stages, [Scheduled, Sent, CampaignSent, Bounced]);
}

#[test]
fn docs_event_names_follow_the_guide() {
    let names: Vec<_> = [
        Stage::Scheduled,
        Stage::Sent,
        Stage::Bounced,
        Stage::Opened,
        Stage::Clicked,
        Stage::Unsubscribed,
        Stage::SpamComplaint,
        Stage::CampaignSent,
    ]
    .map(Stage::docs_event)
    .into();
    assert_eq!(
        names,
        [
            "campaign.scheduled",
            "email.sent",
            "email.bounced",
            "email.opened",
            "email.clicked",
            "email.unsubscribed",
            "email.spam_complaint",
            "campaign.sent"
        ]
    );
}

#[test]
fn validate_rejects_impossible_funnels_and_says_why() {
    let bad = |funnel: Funnel| plan(100, funnel, 1).validate().unwrap_err();
    let err = bad(Funnel {
        opened: 1.01,
        ..USUAL
    });
    assert!(err.contains("`opened` is 101%"), "{err}");
    let err = bad(Funnel {
        bounced: -0.01,
        ..USUAL
    });
    assert!(err.contains("`bounced` is -1%"), "{err}");
    let err = bad(Funnel {
        spam_complaint: f64::NAN,
        ..USUAL
    });
    assert!(err.contains("`spam_complaint` is NaN"), "{err}");
    let err = bad(Funnel {
        clicked: 0.5,
        opened: 0.4,
        ..USUAL
    });
    assert!(err.contains("clicked <= opened"), "{err}");
    let err = bad(Funnel {
        bounced: 0.3,
        opened: 0.8,
        ..USUAL
    });
    assert!(err.contains("`bounced` (30%) + `opened` (80%)"), "{err}");
    let err = bad(Funnel {
        bounced: 0.99,
        opened: 0.0,
        clicked: 0.0,
        unsubscribed: 0.05,
        ..USUAL
    });
    assert!(err.contains("`unsubscribed`"), "{err}");
    let zero = CampaignPlan {
        over: Duration::ZERO,
        ..plan(10, USUAL, 1)
    };
    assert!(zero.validate().unwrap_err().contains("`over` is 0s"));
}
