//! `cakemock run` as a user runs it: every shipped scenario against the in-process
//! receiver, each step kind and template form judged by what the receiver got, scenario
//! time and `--speed`, reproducibility, and the exit code of a missed expectation.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use cakemock::receiver::{Received, ReceiverConfig, Verdict};
use cakemock::sign::Secret;
use serde_json::Value;

use crate::deliver::receiver;
use crate::trigger::{Output, run};

/// A `whsec_` secret works in every scheme (the hex schemes key HMAC with its text).
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// Runs `cakemock run FILE --speed max` against a fresh in-process receiver.
async fn run_against(
    file: &std::path::Path,
    respond: &str,
    extra: &[&str],
) -> (Output, Vec<Received>) {
    let mut config = ReceiverConfig::new(Secret::new(SECRET));
    config.respond = respond.parse().unwrap();
    let rx = receiver(config).await;
    let url = rx.url().to_string();
    let file = file.to_str().unwrap().to_string();
    let extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
    let o = tokio::task::spawn_blocking(move || {
        let mut args = vec![
            "run", &file, "--speed", "max", "--target", &url, "--secret", SECRET,
        ];
        args.extend(extra.iter().map(String::as_str));
        run(&args)
    })
    .await
    .unwrap();
    (o, rx.received())
}

fn write(dir: &tempfile::TempDir, name: &str, yaml: &str) -> std::path::PathBuf {
    let p = dir.path().join(name);
    std::fs::write(&p, yaml).unwrap();
    p
}

fn bodies(got: &[Received]) -> Vec<Value> {
    got.iter()
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect()
}

/// The number after `events` in the summary: what the run says it generated.
fn generated(stdout: &str) -> usize {
    let line = stdout.lines().find(|l| l.starts_with("events")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_shipped_scenario_runs_clean_against_the_receiver() {
    let mut files: Vec<_> = std::fs::read_dir("scenarios")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        // Fault scenarios (chaos, ci-contract) send forgeries on purpose: tests/it/faults.rs runs them.
        .filter(|p| !std::fs::read_to_string(p).unwrap().contains("faults:"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 6,
        "expected the six shipped scenarios, found {files:?}"
    );
    for file in files {
        let (o, got) = run_against(&file, "200", &[]).await;
        assert_eq!(o.code, 0, "{}:\n{}\n{}", file.display(), o.stdout, o.stderr);
        assert!(!got.is_empty(), "{}: nothing arrived", file.display());
        assert_eq!(
            got.len(),
            generated(&o.stdout),
            "{}: received != generated",
            file.display()
        );
        assert!(
            got.iter().all(|r| r.verdict.is_verified()),
            "{}: a signature failed",
            file.display()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn step_kinds_and_templates_do_what_the_spec_says() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        &dir,
        "kinds.yaml",
        r#"
version: 1
seed: 5
vars:
  campaign_id: 790
  label: "campaign-{{ vars.campaign_id }}"
  region: '{{ env.CAKEMOCK_TEST_UNSET_VAR | default("north") }}'
steps:
  - id: first
    event: email.sent
    contact: alice
    data: { campaign_id: "{{ vars.campaign_id }}", tag: "{{ vars.label }}", region: "{{ vars.region }}" }
  - wait: 1h
  - event: email.opened
    contact: alice
    after: 30s
    data: { message_id: "{{ steps.first.data.message_id }}", seen: "{{ now }}", ref: "{{ uuid }}", by: "{{ fake.email }}" }
  - repeat:
      times: 3
      steps:
        - event: email.clicked
          contact: alice
          after: 1m
  - parallel:
      - event: email.unsubscribed
        contact: alice
      - event: email.spam_complaint
        contact: bob
  - raw:
      body: '{"event":"email.opened","timestamp":"2024-03-15T11:45:00Z","data":{}}'
"#,
    );
    let (o, got) = run_against(&file, "200", &["--start", "2024-03-15T10:00:00Z"]).await;
    assert_eq!(o.code, 0, "{}\n{}", o.stdout, o.stderr);
    let mut got = got;
    got.sort_by_key(|r| r.seq);
    let b = bodies(&got);
    let events: Vec<&str> = b.iter().map(|v| v["event"].as_str().unwrap()).collect();
    assert_eq!(events.len(), 8, "{events:?}");
    let sent = b.iter().find(|v| v["event"] == "email.sent").unwrap();
    // A value that is exactly one template keeps its type; inside a string it interpolates.
    assert_eq!(sent["data"]["campaign_id"], Value::from(790));
    assert_eq!(sent["data"]["tag"], "campaign-790");
    assert_eq!(sent["data"]["region"], "north");
    assert_eq!(sent["timestamp"], "2024-03-15T10:00:00Z");
    let opened = b
        .iter()
        .find(|v| v["event"] == "email.opened" && v["data"].get("seen").is_some())
        .unwrap();
    // wait 1h + after 30s of scenario time, and `now` is scenario time.
    assert_eq!(opened["timestamp"], "2024-03-15T11:00:30Z");
    assert_eq!(opened["data"]["seen"], "2024-03-15T11:00:30Z");
    assert_eq!(opened["data"]["message_id"], sent["data"]["message_id"]);
    assert_eq!(opened["data"]["ref"].as_str().unwrap().len(), 36);
    assert!(opened["data"]["by"].as_str().unwrap().contains('@'));
    // The same contact across steps: one contact_id and email.
    let alice: Vec<&Value> = b
        .iter()
        .filter(|v| v["data"]["contact_id"] == sent["data"]["contact_id"])
        .collect();
    assert_eq!(alice.len(), 6, "sent, opened, 3 clicks, unsubscribed");
    assert!(
        alice
            .iter()
            .all(|v| v["data"]["email"] == sent["data"]["email"])
    );
    let clicks: Vec<&str> = b
        .iter()
        .filter(|v| v["event"] == "email.clicked")
        .map(|v| v["timestamp"].as_str().unwrap())
        .collect();
    assert_eq!(
        clicks,
        [
            "2024-03-15T11:01:30Z",
            "2024-03-15T11:02:30Z",
            "2024-03-15T11:03:30Z"
        ]
    );
    // Parallel branches start at the same scenario time; bob is someone else.
    let unsub = b
        .iter()
        .find(|v| v["event"] == "email.unsubscribed")
        .unwrap();
    let spam = b
        .iter()
        .find(|v| v["event"] == "email.spam_complaint")
        .unwrap();
    assert_eq!(unsub["timestamp"], spam["timestamp"]);
    assert_ne!(spam["data"]["contact_id"], sent["data"]["contact_id"]);
    // raw: the exact bytes, signed.
    let raw = got.iter().find(|r| {
        r.body.as_ref()
            == br#"{"event":"email.opened","timestamp":"2024-03-15T11:45:00Z","data":{}}"#
    });
    assert!(raw.is_some_and(|r| r.verdict.is_verified()));
    // No literal template ever reaches the wire.
    assert!(
        got.iter()
            .all(|r| !String::from_utf8_lossy(&r.body).contains("{{"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_campaign_keeps_each_contact_causal_at_the_receiver() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        &dir,
        "campaign.yaml",
        "version: 1\nseed: 11\nsteps:\n  - campaign:\n      id: 790\n      contacts: 2000\n      over: 6h\n      funnel: { bounced: 3%, opened: 50%, clicked: 20%, unsubscribed: 2%, spam_complaint: 1% }\n",
    );
    let (o, got) = run_against(&file, "200", &["--concurrency", "16"]).await;
    assert_eq!(o.code, 0, "{}\n{}", o.stdout, o.stderr);
    let mut got = got;
    got.sort_by_key(|r| r.seq);
    let rank = |e: &str| match e {
        "email.sent" => 0,
        "email.bounced" | "email.opened" => 1,
        "email.clicked" => 2,
        _ => 3,
    };
    let mut per_contact: HashMap<u64, Vec<(String, String)>> = HashMap::new();
    let mut counts: HashMap<String, usize> = HashMap::new();
    for v in bodies(&got) {
        let event = v["event"].as_str().unwrap().to_string();
        *counts.entry(event.clone()).or_default() += 1;
        if let Some(id) = v["data"]["contact_id"].as_u64()
            && event.starts_with("email.")
        {
            per_contact
                .entry(id)
                .or_default()
                .push((event, v["timestamp"].as_str().unwrap().to_string()));
        }
    }
    assert_eq!(counts["email.sent"], 2000);
    assert_eq!(counts["campaign.scheduled"], 1);
    assert_eq!(counts["campaign.sent"], 1);
    for (id, events) in &per_contact {
        assert_eq!(events[0].0, "email.sent", "contact {id}: {events:?}");
        for w in events.windows(2) {
            assert!(
                w[0].1 <= w[1].1,
                "contact {id}: time went backwards in arrival order: {events:?}"
            );
            assert!(
                rank(&w[0].0) <= rank(&w[1].0),
                "contact {id}: arrived out of causal order: {events:?}"
            );
        }
        let bounced = events.iter().any(|e| e.0 == "email.bounced");
        assert!(
            !(bounced && events.iter().any(|e| e.0 == "email.opened")),
            "contact {id} bounced and opened"
        );
    }
}

#[test]
fn funnel_shares_hold_for_ten_thousand_contacts() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        &dir,
        "big.yaml",
        "version: 1\nseed: 3\nsteps:\n  - campaign:\n      id: 1\n      contacts: 10000\n      over: 24h\n      funnel: { bounced: 2%, opened: 45%, clicked: 12%, unsubscribed: 0.5%, spam_complaint: 0.1% }\n",
    );
    let o = run(&["run", file.to_str().unwrap(), "--dry-run", "--secret", "s"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let mut counts: HashMap<String, f64> = HashMap::new();
    for line in o.stdout.lines().filter(|l| l.starts_with('{')) {
        let v: Value = serde_json::from_str(line).unwrap();
        *counts
            .entry(v["event"].as_str().unwrap().to_string())
            .or_default() += 1.0;
    }
    let n = 10_000f64;
    assert_eq!(counts["email.sent"], n);
    for (event, p) in [
        ("email.bounced", 0.02),
        ("email.opened", 0.45),
        ("email.clicked", 0.12),
        ("email.unsubscribed", 0.005),
    ] {
        let got = counts.get(event).copied().unwrap_or(0.0);
        let sigma = (n * p * (1.0 - p)).sqrt();
        assert!(
            (got - n * p).abs() <= 5.0 * sigma,
            "{event}: {got} for an expected {}",
            n * p
        );
    }
}

#[test]
fn same_seed_same_bytes_and_speed_max_skips_hours() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        &dir,
        "long.yaml",
        "version: 1\nsteps:\n  - event: email.sent\n    contact: a\n  - wait: 5h\n  - event: email.opened\n    contact: a\n  - wait: 20h\n  - event: email.clicked\n    contact: a\n",
    );
    let f = file.to_str().unwrap();
    let dry = |seed: &str| {
        run(&[
            "run",
            f,
            "--dry-run",
            "--seed",
            seed,
            "--start",
            "2024-03-15T10:00:00Z",
            "--secret",
            "s",
        ])
    };
    let (a, b, c) = (dry("1"), dry("1"), dry("2"));
    assert_eq!(a.code, 0, "{}", a.stderr);
    let body_lines = |o: &Output| {
        o.stdout
            .lines()
            .filter(|l| l.starts_with('{'))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        body_lines(&a),
        body_lines(&b),
        "same seed and start, other bytes"
    );
    assert_ne!(body_lines(&a), body_lines(&c), "another seed, same bytes");

    // 25 hours of scenario time at --speed max: seconds of real time, hours of timestamps.
    let started = Instant::now();
    let o = run(&["run", f, "--speed", "max"]);
    assert_eq!(o.code, 0, "{}\n{}", o.stdout, o.stderr);
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "--speed max waited: {:?}",
        started.elapsed()
    );
    let stamps: Vec<String> = body_lines(&a)
        .iter()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["timestamp"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        stamps,
        [
            "2024-03-15T10:00:00Z",
            "2024-03-15T15:00:00Z",
            "2024-03-16T11:00:00Z"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missed_expectation_exits_1_and_says_which() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        &dir,
        "strict.yaml",
        "version: 1\ndelivery: { retry: none }\nsteps:\n  - id: greet\n    event: email.sent\n    expect: { status: 2xx }\nexpect:\n  delivered: 100%\n",
    );
    let (o, got) = run_against(&file, "400", &[]).await;
    assert_eq!(o.code, 1, "{}\n{}", o.stdout, o.stderr);
    assert_eq!(got.len(), 1);
    assert!(matches!(got[0].verdict, Verdict::Verified { .. }));
    assert!(o.stdout.contains("✗ delivered: 100%"), "{}", o.stdout);
    assert!(
        o.stdout.contains("✗ step greet: status 2xx"),
        "{}",
        o.stdout
    );
    assert!(
        o.stdout.contains("answered 400, expected 2xx"),
        "{}",
        o.stdout
    );

    // The same file against a receiver that answers 200 passes.
    let (o, _) = run_against(&file, "200", &[]).await;
    assert_eq!(o.code, 0, "{}\n{}", o.stdout, o.stderr);
}

#[tokio::test]
async fn the_library_runs_a_scenario_against_a_url_and_returns_the_summary() {
    use cakemock::drive::Target;
    use cakemock::record::TerminalState;
    use cakemock::runner::{RunOptions, run_scenario};
    use cakemock::sign::{Scheme, Signer};

    let rx = receiver(ReceiverConfig::new(Secret::new(SECRET))).await;
    let scenario = cakemock::scenario::load_str(
        "version: 1\nseed: 9\nsteps:\n  - event: email.sent\n    contact: a\n    expect: { status: 2xx }\n  - event: email.opened\n    contact: a\n    after: 1h\nexpect:\n  delivered: 100%\n",
        "inline.yaml",
    )
    .unwrap();
    let target = Target {
        url: rx.url().parse().unwrap(),
        signer: Signer::new(Scheme::CakemailHex, Secret::new(SECRET), None).unwrap(),
    };
    let report = run_scenario(scenario, target, RunOptions::default())
        .await
        .unwrap();
    assert!(report.passed(), "{:?}", report.judgements);
    assert_eq!(report.summary.count(TerminalState::Delivered), 2);
    assert_eq!(report.judgements.len(), 2);
    assert_eq!(report.seed, 9);
    assert_eq!(rx.received().len(), 2);
}

/// `schema/scenario.schema.json` is what editors point at; it must be what `cakemock schema` prints.
#[test]
fn the_committed_schema_is_current() {
    let o = run(&["schema"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let path = std::path::Path::new("schema/scenario.schema.json");
    if std::env::var_os("CAKEMOCK_UPDATE_FIXTURES").is_some() {
        std::fs::write(path, &o.stdout).unwrap();
    }
    let committed = std::fs::read_to_string(path).unwrap();
    assert!(
        committed == o.stdout,
        "schema/scenario.schema.json is stale: regenerate it with \
         `CAKEMOCK_UPDATE_FIXTURES=1 cargo test --test it the_committed_schema_is_current`"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_no_target_a_run_fans_out_to_the_stored_webhooks() {
    let home = tempfile::tempdir().unwrap();
    let hook_secret = "whsec_c3RvcmVkIHdlYmhvb2sgc2VjcmV0IDEyMzQ1";
    let rx = receiver(ReceiverConfig::new(Secret::new(hook_secret))).await;
    let cli = |args: Vec<String>| {
        let home = home.path().to_path_buf();
        async move {
            tokio::task::spawn_blocking(move || {
                let o = crate::trigger::cakemock()
                    .env("CAKEMOCK_HOME", &home)
                    .args(&args)
                    .output()
                    .unwrap();
                (
                    o.status.code(),
                    String::from_utf8_lossy(&o.stdout).into_owned(),
                    String::from_utf8_lossy(&o.stderr).into_owned(),
                )
            })
            .await
            .unwrap()
        }
    };
    let (code, out, err) = cli(vec![
        "webhooks".into(),
        "create".into(),
        "-u".into(),
        rx.url().into(),
        "-e".into(),
        "email.sent,email.opened".into(),
        "-n".into(),
        "test".into(),
        "-s".into(),
        hook_secret.into(),
    ])
    .await;
    assert_eq!(code, Some(0), "{out}\n{err}");
    let (code, out, err) = cli(vec![
        "run".into(),
        "scenarios/quickstart.yaml".into(),
        "--speed".into(),
        "max".into(),
    ])
    .await;
    // quickstart sends sent, opened, clicked; the webhook subscribes to the first two only.
    assert!(err.contains("active webhooks"), "{err}");
    let got = rx.received();
    let events: Vec<_> = got
        .iter()
        .map(|r| r.event.clone().unwrap_or_default())
        .collect();
    assert_eq!(events, ["email.sent", "email.opened"], "{out}\n{err}");
    assert!(
        got.iter().all(|r| r.verdict.is_verified()),
        "signed with the webhook's own secret"
    );
    assert_eq!(code, Some(0), "{out}\n{err}");
}
