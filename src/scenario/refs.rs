//! Template references, checked on the model: every `vars.x` exists (and `vars.x.y`
//! where the shape is known), vars have no cycle and are put in render order,
//! `steps.ID` names an event step that ran earlier, `env.NAME` is set or has a default.

use std::collections::HashMap;

use super::diag::{Problem, hint};
use super::model::{Pos, Scenario, Step, StepKind, Vars};
use super::template::{Expr, Template};
use super::value::TValue;
use crate::events::Flavor;

/// The top-level keys of the body each flavor sends (what `steps.ID.KEY` may start with).
fn envelope_keys(flavor: Flavor) -> &'static [&'static str] {
    match flavor {
        Flavor::Docs => &["event", "timestamp", "data"],
        Flavor::Api => &["event", "account_id", "ip", "user", "created_on", "data"],
    }
}

/// Checks every template of `s` and puts its vars in render order.
pub(crate) fn verify(s: &mut Scenario) -> Result<(), Problem> {
    order_vars(&mut s.vars)?;
    let mut all_ids = HashMap::new();
    collect_ids(&s.steps, &mut all_ids);
    let mut cx = StepCx {
        vars: &s.vars,
        flavor: s.flavor,
        all: &all_ids,
        seen: HashMap::new(),
    };
    cx.steps(&s.steps)
}

/// Every step id -> (its position, whether it is an event step).
fn collect_ids(steps: &[Step], out: &mut HashMap<String, (Pos, bool)>) {
    for s in steps {
        if let Some(id) = &s.id {
            out.insert(id.clone(), (s.pos, matches!(s.kind, StepKind::Event(_))));
        }
        match &s.kind {
            StepKind::Repeat { steps, .. } | StepKind::Parallel(steps) => collect_ids(steps, out),
            _ => {}
        }
    }
}

fn place(t: &Template, fallback: Pos) -> Pos {
    t.pos.unwrap_or(fallback)
}

fn env_check(name: &str, default: &Option<String>) -> Result<(), String> {
    if default.is_none() && std::env::var_os(name).is_none() {
        return Err(format!(
            "{{{{ env.{name} }}}}: the environment variable {name} is not set; set it, or give a fallback: \
             {{{{ env.{name} | default(\"...\") }}}}"
        ));
    }
    Ok(())
}

/// Checks var references, refuses cycles, and sorts vars so each follows its dependencies.
fn order_vars(vars: &mut Vars) -> Result<(), Problem> {
    let names: Vec<&str> = vars.entries.iter().map(|(n, _)| n.as_str()).collect();
    let mut deps: Vec<Vec<usize>> = Vec::with_capacity(names.len());
    for (name, value) in &vars.entries {
        let mut mine = Vec::new();
        for t in value.templates() {
            let pos = place(t, Pos::default());
            for e in t.exprs() {
                match e {
                    Expr::Var { name: dep, .. } => match names.iter().position(|n| n == dep) {
                        Some(i) => mine.push(i),
                        None => {
                            return Err(Problem::new(
                                pos,
                                format!(
                                    "{{{{ {e} }}}} in vars.{name}: there is no var {dep:?}{}; vars are: {}",
                                    hint(dep, &names),
                                    names.join(", ")
                                ),
                            ));
                        }
                    },
                    Expr::Step { .. } => {
                        return Err(Problem::new(
                            pos,
                            format!(
                                "{{{{ {e} }}}} in vars.{name}: vars are rendered before any step runs; \
                                 put this template in the step's data instead"
                            ),
                        ));
                    }
                    Expr::Env { name: env, default } => {
                        env_check(env, default).map_err(|m| Problem::new(pos, m))?;
                    }
                    _ => {}
                }
            }
        }
        deps.push(mine);
    }
    // Depth-first topological sort; a grey node met again is a cycle.
    let n = names.len();
    let mut state = vec![0u8; n]; // 0 new, 1 in progress, 2 done
    let mut order = Vec::with_capacity(n);
    let mut stack: Vec<usize> = Vec::new();
    fn visit(
        i: usize,
        deps: &[Vec<usize>],
        state: &mut [u8],
        order: &mut Vec<usize>,
        stack: &mut Vec<usize>,
    ) -> Result<(), Vec<usize>> {
        match state[i] {
            2 => return Ok(()),
            1 => {
                let from = stack.iter().position(|&s| s == i).unwrap_or(0);
                let mut cycle = stack[from..].to_vec();
                cycle.push(i);
                return Err(cycle);
            }
            _ => {}
        }
        state[i] = 1;
        stack.push(i);
        for &d in &deps[i] {
            visit(d, deps, state, order, stack)?;
        }
        stack.pop();
        state[i] = 2;
        order.push(i);
        Ok(())
    }
    for i in 0..n {
        if let Err(cycle) = visit(i, &deps, &mut state, &mut order, &mut stack) {
            let path: Vec<String> = cycle
                .iter()
                .map(|&c| format!("vars.{}", names[c]))
                .collect();
            let first = &vars.entries[cycle[0]].1;
            let pos = first
                .templates()
                .first()
                .map_or(Pos::default(), |t| place(t, Pos::default()));
            return Err(Problem::new(
                pos,
                format!(
                    "template cycle: {}; a var cannot depend on itself, so give one of them a value",
                    path.join(" -> ")
                ),
            ));
        }
    }
    let mut slots: Vec<Option<(String, TValue)>> = std::mem::take(&mut vars.entries)
        .into_iter()
        .map(Some)
        .collect();
    vars.entries = order.into_iter().filter_map(|i| slots[i].take()).collect();
    // Paths into vars (vars.x.y) where the shape is known.
    for (name, value) in &vars.entries {
        for t in value.templates() {
            for e in t.exprs() {
                if let Expr::Var { name: dep, path } = e {
                    static_walk(vars, dep, path, 0).map_err(|m: String| {
                        Problem::new(
                            place(t, Pos::default()),
                            format!("{{{{ {e} }}}} in vars.{name}: {m}"),
                        )
                    })?;
                }
            }
        }
    }
    Ok(())
}

/// Follows `vars.NAME.path` through what is known before running; fine when unknown.
pub(crate) fn static_walk(
    vars: &Vars,
    name: &str,
    path: &[String],
    depth: usize,
) -> Result<(), String> {
    let Some(mut cur) = vars.get(name) else {
        return Ok(()); // reported elsewhere
    };
    for (i, seg) in path.iter().enumerate() {
        let at = format!(
            "vars.{name}{}",
            path[..i]
                .iter()
                .map(|p| format!(".{p}"))
                .collect::<String>()
        );
        match cur {
            TValue::Literal(v) => {
                return super::template::walk(v, &path[i..])
                    .map(|_| ())
                    .map_err(|m| format!("{at}: {m}"));
            }
            TValue::Map(entries) => match entries.iter().find(|(k, _)| k == seg) {
                Some((_, v)) => cur = v,
                None => {
                    let keys: Vec<&str> = entries.iter().map(|(k, _)| k.as_str()).collect();
                    return Err(format!(
                        "{at} has no field {seg:?}{}; it has: {}",
                        hint(seg, &keys),
                        keys.join(", ")
                    ));
                }
            },
            TValue::Seq(items) => match seg.parse::<usize>().ok().and_then(|n| items.get(n)) {
                Some(v) => cur = v,
                None => {
                    return Err(format!(
                        "{at} is a list of {}; no item {seg:?}",
                        items.len()
                    ));
                }
            },
            TValue::Template(t) => {
                let exprs: Vec<&Expr> = t.exprs().collect();
                let whole =
                    t.source().trim().starts_with("{{") && t.source().trim().ends_with("}}");
                return match exprs.as_slice() {
                    [Expr::Var { name: n2, path: p2 }] if whole && depth < 64 => {
                        let mut joined = p2.clone();
                        joined.extend_from_slice(&path[i..]);
                        static_walk(vars, n2, &joined, depth + 1)
                    }
                    [Expr::Step { .. }] if whole => Ok(()),
                    _ => Err(format!("{at} is a string; it has no field {seg:?}")),
                };
            }
        }
    }
    Ok(())
}

struct StepCx<'a> {
    vars: &'a Vars,
    flavor: Flavor,
    all: &'a HashMap<String, (Pos, bool)>,
    /// Ids of steps that have run by now.
    seen: HashMap<String, bool>,
}

impl StepCx<'_> {
    fn steps(&mut self, steps: &[Step]) -> Result<(), Problem> {
        steps.iter().try_for_each(|s| self.step(s))
    }

    fn step(&mut self, s: &Step) -> Result<(), Problem> {
        match &s.kind {
            StepKind::Event(e) => self.value(&e.data, s.pos)?,
            StepKind::Campaign(c) => {
                if let Some(id) = &c.id {
                    self.value(id, s.pos)?;
                }
            }
            StepKind::Raw(r) => self.template(&r.body, s.pos)?,
            StepKind::Wait(_) => {}
            StepKind::Repeat { steps, .. } => self.steps(steps)?,
            StepKind::Parallel(steps) => {
                // Branches start together: none can read another; all are seen after.
                let before = self.seen.clone();
                let mut after = before.clone();
                for branch in steps {
                    self.seen = before.clone();
                    self.step(branch)?;
                    after.extend(self.seen.drain());
                }
                self.seen = after;
            }
        }
        if let Some(id) = &s.id {
            self.seen
                .insert(id.clone(), matches!(s.kind, StepKind::Event(_)));
        }
        Ok(())
    }

    fn value(&self, v: &TValue, fallback: Pos) -> Result<(), Problem> {
        v.templates()
            .into_iter()
            .try_for_each(|t| self.template(t, fallback))
    }

    fn template(&self, t: &Template, fallback: Pos) -> Result<(), Problem> {
        let pos = place(t, fallback);
        for e in t.exprs() {
            let err = |m: String| Problem::new(pos, format!("{{{{ {e} }}}}: {m}"));
            match e {
                Expr::Var { name, path } => {
                    if self.vars.get(name).is_none() {
                        let names: Vec<&str> = self.vars.iter().map(|(n, _)| n).collect();
                        let known = match names.is_empty() {
                            true => "this file defines no vars (add a `vars:` block)".to_string(),
                            false => format!("vars are: {}", names.join(", ")),
                        };
                        return Err(err(format!(
                            "there is no var {name:?}{}; {known}",
                            hint(name, &names)
                        )));
                    }
                    static_walk(self.vars, name, path, 0).map_err(err)?;
                }
                Expr::Step { id, path } => self.step_ref(id, path).map_err(err)?,
                Expr::Env { name, default } => {
                    env_check(name, default).map_err(|m| Problem::new(pos, m))?
                }
                Expr::Fake(_) | Expr::Now | Expr::Uuid | Expr::Literal(_) => {}
            }
        }
        Ok(())
    }

    fn step_ref(&self, id: &str, path: &[String]) -> Result<(), String> {
        match (self.seen.get(id), self.all.get(id)) {
            (Some(true), _) => {}
            (Some(false), _) | (None, Some((_, false))) => {
                return Err(format!(
                    "step {id:?} is not an event step; only event steps send a body templates can read"
                ));
            }
            (None, Some((p, true))) => {
                return Err(format!(
                    "step {id:?} (line {}) has not run at this point: a template reads steps that ran before it \
                     (earlier in the file, and not in the same parallel block)",
                    p.line
                ));
            }
            (None, None) => {
                let ids: Vec<&str> = self.all.keys().map(String::as_str).collect();
                let mut sorted = ids.clone();
                sorted.sort_unstable();
                let known = match sorted.is_empty() {
                    true => {
                        "no step has an `id:` yet; add `id: NAME` to the step to read".to_string()
                    }
                    false => format!("step ids are: {}", sorted.join(", ")),
                };
                return Err(format!(
                    "there is no step with id {id:?}{}; {known}",
                    hint(id, &ids)
                ));
            }
        }
        let keys = envelope_keys(self.flavor);
        let first = path.first().map(String::as_str).unwrap_or("");
        if !keys.contains(&first) {
            return Err(format!(
                "a {} body has no top-level {first:?}{}; it has: {}",
                self.flavor.as_str(),
                hint(first, keys),
                keys.join(", ")
            ));
        }
        Ok(())
    }
}
