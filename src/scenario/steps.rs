//! Steps: raw YAML steps -> model steps. One kind key per step, and keys that belong to
//! it; event names of the flavor; unique step ids; repeat, parallel and campaign
//! bodies; funnel shares that add up (with the rule explained in the message).

use std::collections::HashSet;
use std::time::Duration;

use super::at::At;
use super::check::{fault_list, is_name};
use super::diag::{Problem, hint};
use super::model::*;
use super::raw::*;
use super::template::Template;
use super::units::Percent;
use super::value::TValue;
use crate::events::{self, Flavor};

/// The kind keys of a step, in the order messages list them.
const KINDS: [&str; 6] = ["event", "wait", "repeat", "parallel", "campaign", "raw"];

/// Converts steps in file order, remembering the ids seen.
pub(crate) struct Cx {
    flavor: Flavor,
    ids: HashSet<String>,
}

impl Cx {
    pub fn new(flavor: Flavor) -> Self {
        Cx {
            flavor,
            ids: HashSet::new(),
        }
    }

    pub fn steps(&mut self, steps: Vec<At<RawStepDef>>) -> Result<Vec<Step>, Problem> {
        steps.into_iter().map(|s| self.step(s)).collect()
    }

    fn step(&mut self, s: At<RawStepDef>) -> Result<Step, Problem> {
        let At { value: s, pos } = s;
        let present: Vec<&str> = [
            s.event.is_some(),
            s.wait.is_some(),
            s.repeat.is_some(),
            s.parallel.is_some(),
            s.campaign.is_some(),
            s.raw.is_some(),
        ]
        .iter()
        .zip(KINDS)
        .filter_map(|(set, k)| set.then_some(k))
        .collect();
        let kind_key = match present.as_slice() {
            [one] => *one,
            [] => {
                return Err(Problem::new(
                    pos,
                    format!(
                        "this step does nothing: a step needs one of {}",
                        KINDS.join(", ")
                    ),
                ));
            }
            many => {
                return Err(Problem::new(
                    pos,
                    format!(
                        "this step has {}: a step has exactly one of {}; split it into {} steps",
                        many.join(" and "),
                        KINDS.join(", "),
                        many.len()
                    ),
                ));
            }
        };
        let misplaced = [("data", s.data.is_some()), ("contact", s.contact.is_some())]
            .into_iter()
            .find(|(_, set)| *set && kind_key != "event");
        if let Some((key, _)) = misplaced {
            return Err(Problem::new(
                pos,
                format!("`{key}` belongs to event steps; this is a {kind_key} step"),
            ));
        }
        if kind_key == "wait" && (s.expect.is_some() || s.faults.is_some()) {
            return Err(Problem::new(
                pos,
                "a wait step sends nothing, so it takes no `expect` or `faults`",
            ));
        }
        let id = match s.id {
            None => None,
            Some(At { value, pos }) => {
                if !is_name(&value) {
                    return Err(Problem::new(
                        pos,
                        format!(
                            "step id {value:?} cannot be used in {{{{ steps.ID... }}}}; use letters, digits, _ and -"
                        ),
                    ));
                }
                if !self.ids.insert(value.clone()) {
                    return Err(Problem::new(
                        pos,
                        format!("step id {value:?} is used twice; ids name one step each"),
                    ));
                }
                Some(value)
            }
        };
        let kind = match kind_key {
            "event" => StepKind::Event(self.event(s.event, s.data, s.contact)?),
            "wait" => StepKind::Wait(s.wait.map(|w| w.0).unwrap_or_default()),
            "repeat" => self.repeat(s.repeat)?,
            "parallel" => {
                let steps = self.steps(s.parallel.unwrap_or_default())?;
                if steps.is_empty() {
                    return Err(Problem::new(
                        pos,
                        "`parallel:` is empty; list the steps to run together",
                    ));
                }
                StepKind::Parallel(steps)
            }
            "campaign" => StepKind::Campaign(self.campaign(s.campaign)?),
            _ => StepKind::Raw(raw_step(s.raw)?),
        };
        Ok(Step {
            id,
            after: s.after.map(|a| a.0).unwrap_or(Duration::ZERO),
            expect: s.expect.map(|e| StepExpect {
                status: e.status,
                within: e.within.map(|w| w.0),
            }),
            faults: fault_list(s.faults, self.flavor)?,
            kind,
            pos,
        })
    }

    fn event(
        &mut self,
        event: Option<At<String>>,
        data: Option<At<TValue>>,
        contact: Option<At<String>>,
    ) -> Result<EventStep, Problem> {
        let At { value: name, pos } = event.unwrap_or_else(|| At {
            value: String::new(),
            pos: Pos::default(),
        });
        let kind = find_event(&name, self.flavor).map_err(|m| Problem::new(pos, m))?;
        let data = match data {
            None => TValue::default(),
            Some(At { value, pos }) if !value.is_map() => {
                let _ = value;
                return Err(Problem::new(
                    pos,
                    "`data` must be a mapping of fields, e.g. data: { campaign_id: 790 }",
                ));
            }
            Some(At { mut value, pos }) => {
                value.set_pos(pos);
                value
            }
        };
        let contact = match contact {
            Some(At { value, pos }) if value.trim().is_empty() => {
                return Err(Problem::new(
                    pos,
                    "`contact` needs a name, e.g. contact: alice",
                ));
            }
            c => c.map(|c| c.value),
        };
        Ok(EventStep {
            event: kind,
            data,
            contact,
        })
    }

    fn repeat(&mut self, r: Option<At<RawRepeat>>) -> Result<StepKind, Problem> {
        let Some(At { value: r, pos }) = r else {
            return Err(Problem::new(Pos::default(), "repeat without a body"));
        };
        if r.times.value == 0 {
            return Err(Problem::new(
                r.times.pos,
                "`times: 0` runs nothing; use 1 or more",
            ));
        }
        let times = u32::try_from(r.times.value).map_err(|_| {
            Problem::new(r.times.pos, format!("`times` must be at most {}", u32::MAX))
        })?;
        if r.steps.value.is_empty() {
            return Err(Problem::new(
                pos,
                "`repeat.steps` is empty; list the steps to repeat",
            ));
        }
        Ok(StepKind::Repeat {
            times,
            steps: self.steps(r.steps.value)?,
        })
    }

    fn campaign(&mut self, c: Option<At<RawCampaign>>) -> Result<Campaign, Problem> {
        let Some(At { value: c, pos: _ }) = c else {
            return Err(Problem::new(Pos::default(), "campaign without a body"));
        };
        let contacts = match u32::try_from(c.contacts.value) {
            Ok(0) => {
                return Err(Problem::new(
                    c.contacts.pos,
                    "`contacts: 0` sends nothing; use 1 or more",
                ));
            }
            Ok(n) => n,
            Err(_) => {
                return Err(Problem::new(
                    c.contacts.pos,
                    format!("`contacts` must be at most {}", u32::MAX),
                ));
            }
        };
        let funnel = match c.funnel {
            None => Funnel::default(),
            Some(f) => funnel(f)?,
        };
        let id = c.id.map(|At { mut value, pos }| {
            value.set_pos(pos);
            value
        });
        Ok(Campaign {
            id,
            contacts,
            over: c.over.map(|o| o.0).unwrap_or_default(),
            funnel,
        })
    }
}

fn raw_step(r: Option<At<RawRawDef>>) -> Result<RawStep, Problem> {
    let Some(At { value: r, .. }) = r else {
        return Err(Problem::new(Pos::default(), "raw without a body"));
    };
    let At { value: body, pos } = r.body;
    let mut body = Template::parse(&body).map_err(|m| Problem::new(pos, m))?;
    body.pos = Some(pos);
    Ok(RawStep {
        body,
        event: r.event,
    })
}

/// The funnel rule, explained in every message: shares are of all contacts; bounced
/// contacts never open; only opened contacts click; only delivered contacts
/// unsubscribe or complain.
fn funnel(f: At<RawFunnel>) -> Result<Funnel, Problem> {
    let At { value: f, pos } = f;
    let get = |p: &Option<At<Percent>>| p.as_ref().map_or(0.0, |p| p.value.0);
    let at = |p: &Option<At<Percent>>| p.as_ref().map_or(pos, |p| p.pos);
    let show = |v: f64| Percent(v).to_string();
    let out = Funnel {
        bounced: get(&f.bounced),
        opened: get(&f.opened),
        clicked: get(&f.clicked),
        unsubscribed: get(&f.unsubscribed),
        spam_complaint: get(&f.spam_complaint),
    };
    // A hair of slack so 33.3% + 66.7% is not refused for float rounding.
    const EPS: f64 = 1e-9;
    if out.bounced + out.opened > 1.0 + EPS {
        return Err(Problem::new(
            at(&f.opened),
            format!(
                "the funnel is over 100%: bounced {} + opened {} = {}; funnel shares are of all contacts and \
                 bounced contacts never open, so bounced + opened must be at most 100%",
                show(out.bounced),
                show(out.opened),
                show(out.bounced + out.opened)
            ),
        ));
    }
    if out.clicked > out.opened + EPS {
        return Err(Problem::new(
            at(&f.clicked),
            format!(
                "clicked {} is more than opened {}: only contacts who opened can click, so clicked must be \
                 at most opened (both are shares of all contacts)",
                show(out.clicked),
                show(out.opened)
            ),
        ));
    }
    let delivered = 1.0 - out.bounced;
    if out.unsubscribed + out.spam_complaint > delivered + EPS {
        return Err(Problem::new(
            at(&f.unsubscribed),
            format!(
                "unsubscribed {} + spam_complaint {} is more than the {} of contacts not bounced: only delivered \
                 contacts unsubscribe or complain (each at most one of the two)",
                show(out.unsubscribed),
                show(out.spam_complaint),
                show(delivered)
            ),
        ));
    }
    Ok(out)
}

/// The catalogue entry for an event step, or a message with the closest name, the
/// valid ones, and the flavor the name belongs to when it is the other one.
pub(crate) fn find_event(name: &str, flavor: Flavor) -> Result<events::EventKind, String> {
    if let Some(k) = events::catalogue(flavor).iter().find(|k| k.name == name) {
        return Ok(*k);
    }
    let names: Vec<&str> = events::catalogue(flavor).iter().map(|k| k.name).collect();
    let other = match flavor {
        Flavor::Docs => Flavor::Api,
        Flavor::Api => Flavor::Docs,
    };
    if events::catalogue(other).iter().any(|k| k.name == name) {
        return Err(format!(
            "{name:?} is {} event, but this scenario's flavor is {}; set `flavor: {}` or use a {} name{}",
            match other {
                Flavor::Api => "an api",
                Flavor::Docs => "a docs",
            },
            flavor.as_str(),
            other.as_str(),
            flavor.as_str(),
            hint(name, &names)
        ));
    }
    Err(format!(
        "unknown {} event {name:?}{}; the {} events are: {}",
        flavor.as_str(),
        hint(name, &names),
        flavor.as_str(),
        names.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use crate::scenario::{StepKind, load_str};

    fn campaign(funnel: &str) -> Result<crate::scenario::Funnel, String> {
        let text =
            format!("version: 1\nsteps:\n  - campaign: {{ contacts: 10, funnel: {funnel} }}\n");
        let s = load_str(&text, "c.yaml").map_err(|e| e.0)?;
        match &s.steps[0].kind {
            StepKind::Campaign(c) => Ok(c.funnel),
            _ => Err("not a campaign".into()),
        }
    }

    #[test]
    fn funnels_up_to_exactly_full_are_fine() {
        let f = campaign("{ bounced: 33.3%, opened: 66.7%, clicked: 66.7% }").unwrap();
        assert!((f.bounced + f.opened - 1.0).abs() < 1e-9);
        let f = campaign("{ bounced: 10%, unsubscribed: 60%, spam_complaint: 30% }").unwrap();
        assert!((f.spam_complaint - 0.3).abs() < 1e-12);
        assert_eq!(campaign("{}").unwrap(), Default::default());
    }

    #[test]
    fn funnels_that_cannot_happen_are_explained() {
        let e = campaign("{ bounced: 10%, unsubscribed: 60%, spam_complaint: 31% }").unwrap_err();
        assert!(
            e.contains("only delivered contacts unsubscribe or complain"),
            "{e}"
        );
        let e = campaign("{ opened: 10%, clicked: 11% }").unwrap_err();
        assert!(e.contains("only contacts who opened can click"), "{e}");
        let e = campaign("{ opend: 10% }").unwrap_err();
        assert!(e.contains("did you mean `opened`"), "{e}");
    }

    #[test]
    fn repeat_parallel_and_raw_bodies_are_checked() {
        let bad = [
            (
                "- repeat: { times: 0, steps: [ { wait: 1s } ] }",
                "times: 0",
            ),
            ("- repeat: { times: 2, steps: [] }", "is empty"),
            ("- parallel: []", "is empty"),
            ("- campaign: { contacts: 0 }", "contacts: 0"),
            ("- raw: { body: '{{ uuid' }", "unterminated"),
            (
                "- wait: 1s\n    expect: { status: 200 }",
                "wait step sends nothing",
            ),
            ("- id: 'a b'\n    wait: 1s", "cannot be used"),
        ];
        for (step, want) in bad {
            let text = format!("version: 1\nsteps:\n  {step}\n");
            let e = load_str(&text, "s.yaml").unwrap_err().0;
            assert!(e.contains(want), "{step}: {e}");
        }
    }
}
