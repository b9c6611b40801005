//! Scenario files as a user meets them: the SPEC example loads as written, every broken
//! file in fixtures/invalid-scenarios/ gets its snapshotted message (never a panic),
//! huge and explosive inputs are refused early, shipped scenarios match the JSON Schema,
//! and `validate` / `schema` behave on the command line.
//!
//! Event names are checked against the catalogue (`events::catalogue`), so the tests
//! that load docs events need the real catalogue.

use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;
use cakemock::scenario::{self, FaultKind, LoadOptions, Pick, StatusSpec, StepKind, TValue};
use predicates::prelude::*;
use serde_json::json;

/// The YAML block of SPEC section 4, verbatim.
const SPEC_EXAMPLE: &str = r##"version: 1                      # required; any other value is an error
name: campaign lifecycle
seed: 42                        # --seed overrides; absent = random, printed in the summary
flavor: docs                    # docs | api
target:                         # --target / --secret override; no target = embedded receiver
  url: http://localhost:3000/webhooks/cakemail
  secret_env: WEBHOOK_SECRET    # or secret: "..."
vars:
  campaign_id: 790              # --set vars.campaign_id=791 overrides; an unknown path is an error
delivery:
  timeout: 5s
  retry: fast                   # preset name, or a list: [0s, 1s, 5s]
  concurrency: 8
faults:                         # run-wide fault rules (section 6)
  - { kind: duplicate, p: 5% }
steps:
  - event: campaign.scheduled
    data: { campaign_id: "{{ vars.campaign_id }}" }
  - wait: 2s
  - id: first                   # later steps can read what this step sent
    event: email.sent
    contact: alice              # steps naming the same contact share its identity
    data: { campaign_id: "{{ vars.campaign_id }}" }
  - event: email.opened
    contact: alice              # same contact_id, email and message_id as above
    after: 30s                  # scenario time after the previous step
    expect: { status: 2xx, within: 1s }
  - event: email.clicked
    data: { url: "https://shop.example/sale?utm_source=cakemail", message_id: "{{ steps.first.data.message_id }}" }
  - campaign:                   # a generator: N contacts through a funnel
      id: "{{ vars.campaign_id }}"
      contacts: 1000
      over: 10m                 # spread of the events in scenario time
      funnel: { bounced: 2%, opened: 45%, clicked: 12%, unsubscribed: 0.5%, spam_complaint: 0.1% }
  - repeat:
      times: 3
      steps:
        - event: email.opened
  - parallel:
      - event: email.unsubscribed
      - event: email.spam_complaint
  - raw:                        # sent verbatim, signed: "just sign this and send it"
      body: '{"event":"email.opened","timestamp":"2024-03-15T11:45:00Z","data":{}}'
expect:                         # checked at the end; any miss = exit code 1
  delivered: 100%               # share of events that ended `delivered`
  p99_latency: 200ms
  faults: { bad_signature: 401, duplicate: 2xx }
"##;
const INVALID_DIR: &str = "fixtures/invalid-scenarios";
/// Set to regenerate the `.err` snapshots from the current messages.
const BLESS_ENV: &str = "CAKEMOCK_BLESS";

fn cakemock() -> Command {
    Command::cargo_bin("cakemock").unwrap()
}

#[test]
fn the_spec_example_loads_as_written() {
    let s = scenario::load_str(SPEC_EXAMPLE, "spec.yaml").unwrap();
    assert_eq!(s.name.as_deref(), Some("campaign lifecycle"));
    assert_eq!(s.seed, Some(42));
    assert_eq!(s.delivery.timeout, Some(Duration::from_secs(5)));
    assert_eq!(
        s.delivery.retry.as_ref().and_then(|r| r.name()),
        Some("fast")
    );
    assert_eq!(s.delivery.concurrency, Some(8));
    assert_eq!(s.faults[0].kind, FaultKind::Duplicate);
    assert_eq!(s.faults[0].selector.pick, Pick::Probability(0.05));
    assert_eq!(s.steps.len(), 9);
    assert!(matches!(s.steps[1].kind, StepKind::Wait(d) if d == Duration::from_secs(2)));
    assert_eq!(s.steps[2].id.as_deref(), Some("first"));
    let StepKind::Event(opened) = &s.steps[3].kind else {
        panic!("step 4 is an event")
    };
    assert_eq!(opened.event.name, "email.opened");
    assert_eq!(opened.contact.as_deref(), Some("alice"));
    assert_eq!(s.steps[3].after, Duration::from_secs(30));
    let expect = s.steps[3].expect.as_ref().unwrap();
    assert_eq!(expect.status, Some(StatusSpec::Class(2)));
    assert_eq!(expect.within, Some(Duration::from_secs(1)));
    let StepKind::Campaign(c) = &s.steps[5].kind else {
        panic!("step 6 is a campaign")
    };
    assert_eq!((c.contacts, c.over), (1000, Duration::from_secs(600)));
    assert!(
        (c.funnel.opened - 0.45).abs() < 1e-12 && (c.funnel.spam_complaint - 0.001).abs() < 1e-12
    );
    assert!(matches!(&s.steps[6].kind, StepKind::Repeat { times: 3, steps } if steps.len() == 1));
    assert!(matches!(&s.steps[7].kind, StepKind::Parallel(p) if p.len() == 2));
    let StepKind::Raw(raw) = &s.steps[8].kind else {
        panic!("step 9 is raw")
    };
    assert!(raw.body.source().starts_with(r#"{"event":"email.opened""#));
    assert_eq!(s.expect.delivered, Some(1.0));
    assert_eq!(s.expect.latency[0].key, "p99_latency");
    assert_eq!(s.expect.latency[0].max, Duration::from_millis(200));
    assert_eq!(
        s.expect.faults[0],
        (FaultKind::BadSignature, StatusSpec::Exact(401))
    );
    // The literal JSON body of the raw step is not mistaken for a template.
    assert!(raw.body.is_plain());
}

fn invalid_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(INVALID_DIR)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_invalid_scenario_gets_its_snapshotted_message() {
    let files = invalid_files();
    assert!(files.len() >= 25, "the corpus has {} files", files.len());
    let bless = std::env::var_os(BLESS_ENV).is_some();
    let mut failures = Vec::new();
    for file in &files {
        let err = match scenario::load_file(file) {
            Ok(_) => {
                failures.push(format!(
                    "{}: loaded, but it should be refused",
                    file.display()
                ));
                continue;
            }
            Err(e) => e.to_string(),
        };
        assert!(
            err.starts_with(&file.display().to_string()),
            "{}: the message must start with the file name:\n{err}",
            file.display()
        );
        let snap = file.with_extension("err");
        if bless {
            std::fs::write(&snap, format!("{err}\n")).unwrap();
            continue;
        }
        let want = std::fs::read_to_string(&snap).unwrap_or_default();
        if want.trim_end() != err {
            failures.push(format!(
                "{}:\n--- expected ({})\n{}\n--- got\n{err}\n",
                file.display(),
                snap.display(),
                want.trim_end()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{}\n{} file(s) differ. If the new messages are right, regenerate the snapshots with\n  \
         {BLESS_ENV}=1 cargo test --test it scenario_load\nand review the diff of {INVALID_DIR}/*.err",
        failures.join("\n"),
        failures.len()
    );
}

#[test]
fn snapshots_have_no_orphans() {
    for entry in std::fs::read_dir(INVALID_DIR).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "err") {
            assert!(
                p.with_extension("yaml").exists(),
                "{} has no .yaml",
                p.display()
            );
        }
    }
}

#[test]
fn errors_point_at_the_place_and_suggest() {
    let e = scenario::load_file(Path::new("fixtures/invalid-scenarios/unknown-top-key.yaml"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("unknown-top-key.yaml:2:1:"), "{e}");
    assert!(e.contains("did you mean `steps`"), "{e}");
    let e = scenario::load_file(Path::new("fixtures/invalid-scenarios/funnel-over-100.yaml"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("bounced + opened must be at most 100%"), "{e}");
    assert!(
        e.contains("\n6 |       funnel:"),
        "the offending line is shown: {e}"
    );
}

#[test]
fn a_20_mib_file_is_refused_before_it_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.yaml");
    let mut text = String::from("version: 1\nsteps:\n");
    while text.len() < 20 * 1024 * 1024 {
        text.push_str("  - event: email.sent\n    data: { note: \"padding padding padding padding padding\" }\n");
    }
    std::fs::write(&path, &text).unwrap();
    let e = scenario::load_file(&path).unwrap_err().to_string();
    assert!(e.contains("limited to 10 MiB"), "{e}");
    // The same text given in memory is refused by size, not parsed.
    let e = scenario::load_str(&text, "huge.yaml")
        .unwrap_err()
        .to_string();
    assert!(e.contains("limited to 10 MiB"), "{e}");
}

#[test]
fn the_alias_bomb_and_deep_nesting_are_refused_by_the_budget() {
    let e = scenario::load_file(Path::new("fixtures/invalid-scenarios/alias-bomb.yaml"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("billion laughs") || e.contains("alias"), "{e}");
    let e = scenario::load_file(Path::new("fixtures/invalid-scenarios/deep-nesting.yaml"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("nested"), "{e}");
}

#[test]
fn one_anchor_reused_many_times_is_fine() {
    // The alias/anchor ratio heuristic is off: this is ordinary YAML reuse.
    let mut text = String::from("version: 1\nvars:\n  base: &base { body: '{\"a\":1}' }\nsteps:\n");
    for _ in 0..300 {
        text.push_str("  - raw: *base\n");
    }
    let s = scenario::load_str(&text, "reuse.yaml").unwrap();
    assert_eq!(s.steps.len(), 300);
}

#[test]
fn event_count_limits_can_be_raised() {
    let text = "version: 1\nsteps:\n  - repeat: { times: 20, steps: [ { raw: { body: x } } ] }\n";
    let opts = LoadOptions {
        max_events: 10,
        ..LoadOptions::default()
    };
    let e = scenario::load_str_with(text, "r.yaml", &opts)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("up to 20 events") && e.contains("--max-events"),
        "{e}"
    );
    let opts = LoadOptions {
        max_events: 20,
        ..LoadOptions::default()
    };
    assert!(scenario::load_str_with(text, "r.yaml", &opts).is_ok());
}

const WITH_VARS: &str = r#"version: 1
vars:
  campaign_id: 790
  campaign: { id: "{{ vars.campaign_id }}", name: Spring }
  label: "campaign {{ vars.campaign_id }}"
steps:
  - raw: { body: "{{ vars.campaign.id }} {{ vars.label }}" }
"#;

#[test]
fn set_overrides_vars_and_refuses_unknown_paths() {
    let mut s = scenario::load_str(WITH_VARS, "v.yaml").unwrap();
    scenario::apply_set(&mut s, "vars.campaign_id=791").unwrap();
    assert_eq!(
        s.vars.get("campaign_id"),
        Some(&TValue::Literal(json!(791)))
    );
    scenario::apply_set(&mut s, "vars.campaign.name=Autumn sale").unwrap();
    scenario::apply_set(&mut s, "vars.label={{ fake.name }}").unwrap();
    let e = scenario::apply_set(&mut s, "vars.campaign_di=1")
        .unwrap_err()
        .0;
    assert!(e.contains("did you mean `campaign_id`"), "{e}");
    let e = scenario::apply_set(&mut s, "vars.campaign.nmae=x")
        .unwrap_err()
        .0;
    assert!(e.contains("did you mean `name`"), "{e}");
    let e = scenario::apply_set(&mut s, "data.x=1").unwrap_err().0;
    assert!(e.contains("start with vars."), "{e}");
    let e = scenario::apply_set(&mut s, "vars.campaign_id")
        .unwrap_err()
        .0;
    assert!(e.contains("PATH=VALUE"), "{e}");
    // A value that breaks a reference elsewhere is refused, and nothing changes.
    let e = scenario::apply_set(&mut s, "vars.campaign=5")
        .unwrap_err()
        .0;
    assert!(e.contains("vars.campaign"), "{e}");
    assert!(s.vars.get("campaign").unwrap().is_map());
    let e = scenario::apply_set(&mut s, "vars.campaign_id={{ vars.campaign.id }}")
        .unwrap_err()
        .0;
    assert!(e.contains("template cycle"), "{e}");
    // Through LoadOptions too, before the checks.
    let opts = LoadOptions {
        sets: vec!["vars.campaign_id=42".into()],
        ..LoadOptions::default()
    };
    let s = scenario::load_str_with(WITH_VARS, "v.yaml", &opts).unwrap();
    assert_eq!(s.vars.get("campaign_id"), Some(&TValue::Literal(json!(42))));
}

/// Every file in scenarios/ (shipped by the project) loads and matches the JSON Schema.
#[test]
fn shipped_scenarios_load_and_match_the_schema() {
    let schema = scenario::json_schema();
    let validator = jsonschema::validator_for(&schema).expect("the schema is valid JSON Schema");
    let mut checked = vec![("spec example".to_string(), SPEC_EXAMPLE.to_string())];
    if let Ok(dir) = std::fs::read_dir("scenarios") {
        for entry in dir {
            let p = entry.unwrap().path();
            if p.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                scenario::load_file(&p).unwrap_or_else(|e| panic!("{e}"));
                checked.push((
                    p.display().to_string(),
                    std::fs::read_to_string(&p).unwrap(),
                ));
            }
        }
    }
    for (name, text) in checked {
        let doc: serde_json::Value = serde_saphyr_json(&text);
        let errors: Vec<String> = validator
            .iter_errors(&doc)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{name} does not match the schema:\n{}",
            errors.join("\n")
        );
    }
}

/// YAML -> JSON for the schema validator, through the same parser.
fn serde_saphyr_json(text: &str) -> serde_json::Value {
    serde_saphyr::from_str(text).unwrap()
}

#[test]
fn the_schema_refuses_what_the_loader_refuses() {
    let schema = scenario::json_schema();
    let validator = jsonschema::validator_for(&schema).unwrap();
    for (why, text) in [
        (
            "unknown key",
            "version: 1\nstpes: []\nsteps: [ { event: email.sent } ]",
        ),
        ("no version", "steps: [ { event: email.sent } ]"),
        ("version 2", "version: 2\nsteps: [ { event: email.sent } ]"),
        (
            "two kinds",
            "version: 1\nsteps: [ { event: email.sent, wait: 1s } ]",
        ),
        ("bad duration", "version: 1\nsteps: [ { wait: 5 } ]"),
        (
            "bad percent",
            "version: 1\nfaults: [ { kind: drop, p: 0.5 } ]\nsteps: [ { event: email.sent } ]",
        ),
        (
            "unknown fault",
            "version: 1\nfaults: [ { kind: dorp } ]\nsteps: [ { event: email.sent } ]",
        ),
    ] {
        let doc = serde_saphyr_json(text);
        assert!(!validator.is_valid(&doc), "the schema accepts: {why}");
        assert!(
            scenario::load_str(text, "x.yaml").is_err(),
            "the loader accepts: {why}"
        );
    }
}

#[test]
fn schema_command_prints_the_schema() {
    let out = cakemock()
        .arg("schema")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v, scenario::json_schema());
    assert_eq!(v["title"], "cakemock scenario");
}

#[test]
fn validate_command_checks_each_file() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.yaml");
    std::fs::write(&good, SPEC_EXAMPLE).unwrap();
    cakemock()
        .arg("validate")
        .arg(&good)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("✓").and(predicate::str::contains("good.yaml")));
    cakemock()
        .arg("validate")
        .arg(&good)
        .arg("fixtures/invalid-scenarios/unknown-event.yaml")
        .assert()
        .code(2)
        .stdout(predicate::str::contains("good.yaml"))
        .stderr(
            predicate::str::contains("unknown-event.yaml:3:12")
                .and(predicate::str::contains("email.opened")),
        );
    cakemock()
        .arg("validate")
        .arg(dir.path().join("missing.yaml"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("missing.yaml"));
}

/// Mangled versions of the SPEC example (characters deleted, YAML punctuation inserted)
/// are refused or loaded, never a panic.
#[test]
fn mangled_files_never_panic() {
    let base: Vec<char> = SPEC_EXAMPLE.chars().collect();
    let noise: Vec<char> = "{}[]:,\"'-&*!|>#%\n \t{{}}\u{0}é".chars().collect();
    let mut seed: u64 = 0x5eed;
    let mut next = move |n: usize| {
        // xorshift: deterministic, so a failure reproduces.
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    for round in 0..400 {
        let mut text = base.clone();
        for _ in 0..1 + next(4) {
            let at = next(text.len());
            match next(3) {
                0 => {
                    text.remove(at);
                }
                1 => text.insert(at, noise[next(noise.len())]),
                _ => text[at] = noise[next(noise.len())],
            }
        }
        let text: String = text.into_iter().collect();
        let result = std::panic::catch_unwind(|| scenario::load_str(&text, "m.yaml").map(|_| ()));
        assert!(result.is_ok(), "round {round} panicked on:\n{text}");
        if let Ok(Err(e)) = result {
            assert!(e.0.starts_with("m.yaml"), "round {round}: {e}");
        }
    }
}

#[test]
fn a_flavor_override_rechecks_event_names() {
    let opts = LoadOptions {
        flavor: Some(cakemock::events::Flavor::Api),
        ..LoadOptions::default()
    };
    let e = scenario::load_str_with(SPEC_EXAMPLE, "spec.yaml", &opts)
        .unwrap_err()
        .0;
    assert!(
        e.contains("spec.yaml:17:12:") && e.contains("is a docs event"),
        "{e}"
    );
    let api = "version: 1\nflavor: api\nsteps:\n  - event: Email.Opened\n";
    let s = scenario::load_str(api, "api.yaml").unwrap();
    assert_eq!(s.flavor, cakemock::events::Flavor::Api);
    assert!(s.event_bound() == 1);
}
