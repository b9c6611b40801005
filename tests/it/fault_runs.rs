//! Fault runs from the command line: `expect.faults` judged against a correct receiver
//! and one that accepts forgeries (exit 1 with the offending deliveries), `--fault` on
//! a scenario, and the shipped `chaos.yaml` and `ci-contract.yaml`.

use std::collections::HashMap;

use cakemock::receiver::ReceiverConfig;
use cakemock::record::Record;

use crate::deliver::receiver;
use crate::faults::{SECRET, cfg};
use crate::trigger::{Output, run};

/// `cakemock run FILE --speed max` against an in-process receiver, with a log.
async fn run_file(file: &str, config: ReceiverConfig, extra: &[&str]) -> (Output, Vec<Record>) {
    let rx = receiver(config).await;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log.jsonl");
    let (url, log_s) = (rx.url().to_string(), log.to_str().unwrap().to_string());
    let mut args: Vec<String> = [
        "run", file, "--speed", "max", "--target", &url, "--secret", SECRET, "--log", &log_s,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(extra.iter().map(|s| s.to_string()));
    let o = tokio::task::spawn_blocking(move || {
        run(&args.iter().map(String::as_str).collect::<Vec<_>>())
    })
    .await
    .unwrap();
    let records = cakemock::record::read_log(&log).unwrap_or_default();
    (o, records)
}

fn contract(dir: &tempfile::TempDir) -> String {
    let p = dir.path().join("contract.yaml");
    std::fs::write(
        &p,
        "version: 1\nfaults:\n  - { kind: bad_signature, every: 2 }\nsteps:\n  - repeat:\n      times: 4\n      steps:\n        - event: email.opened\nexpect:\n  faults:\n    bad_signature: 401\n",
    )
    .unwrap();
    p.to_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_accepting_bad_signatures_fails_expect_faults() {
    let dir = tempfile::tempdir().unwrap();
    let file = contract(&dir);
    let (o, _) = run_file(&file, cfg(), &[]).await;
    assert_eq!(
        o.code, 0,
        "a correct receiver passes:\n{}\n{}",
        o.stdout, o.stderr
    );
    assert!(
        o.stdout.contains("✓ faults.bad_signature: 401"),
        "{}",
        o.stdout
    );

    let mut lax = cfg();
    lax.accept_invalid = true; // answers 200 whatever the signature
    let junit = dir.path().join("contract.xml");
    let junit_arg = format!("junit={}", junit.display());
    let (o, records) = run_file(&file, lax, &["--report", &junit_arg]).await;
    // The JUnit report carries a failing case for the fault expectation, with its evidence.
    let xml = std::fs::read_to_string(&junit).unwrap();
    let case = xml
        .split("<testcase")
        .find(|c| c.contains("faults.bad_signature"))
        .unwrap_or_else(|| panic!("no testcase for faults.bad_signature:\n{xml}"));
    assert!(case.contains("<failure"), "the case did not fail:\n{case}");
    assert!(case.contains("answered 200, expected 401"), "{case}");
    assert_eq!(o.code, 1, "{}\n{}", o.stdout, o.stderr);
    assert!(
        o.stdout.contains("✗ faults.bad_signature: 401"),
        "{}",
        o.stdout
    );
    assert!(o.stdout.contains("0 of 2 answers"), "{}", o.stdout);
    assert!(
        o.stdout.contains("answered 200, expected 401"),
        "{}",
        o.stdout
    );
    assert!(
        o.stdout.contains("faults     bad_signature ×2"),
        "{}",
        o.stdout
    );
    let faulted = records
        .iter()
        .filter(|r| matches!(r, Record::Attempt(a) if a.fault.as_deref() == Some("bad_signature")))
        .count();
    assert_eq!(faulted, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn command_line_faults_apply_to_a_scenario() {
    let (o, records) = run_file(
        "scenarios/quickstart.yaml",
        cfg(),
        &["--fault", "missing_signature:first=1", "--seed", "3"],
    )
    .await;
    assert_eq!(
        o.code, 1,
        "the implicit delivered: 100% fails:\n{}",
        o.stdout
    );
    let first = records.iter().find_map(|r| match r {
        Record::Attempt(a) if a.seq == 1 => Some(a.clone()),
        _ => None,
    });
    assert_eq!(first.unwrap().fault.as_deref(), Some("missing_signature"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shipped_fault_scenarios_run_and_name_every_fault() {
    let (o, _) = run_file("scenarios/ci-contract.yaml", cfg(), &[]).await;
    assert_eq!(
        o.code, 0,
        "a correct receiver meets the contract:\n{}\n{}",
        o.stdout, o.stderr
    );

    let (o, records) = run_file("scenarios/chaos.yaml", cfg(), &["--timeout", "10s"]).await;
    assert!(o.code == 0 || o.code == 1, "{}\n{}", o.stdout, o.stderr);
    let mut by_kind: HashMap<String, usize> = HashMap::new();
    let mut ended = 0;
    for r in &records {
        if let Record::Terminal(t) = r {
            ended += 1;
            for k in t.fault.iter().flat_map(|f| f.split(',')) {
                *by_kind.entry(k.to_string()).or_default() += 1;
            }
        }
    }
    for (_, kind) in cakemock::scenario::FaultKind::ALL {
        assert!(
            by_kind.contains_key(kind),
            "chaos.yaml never applied {kind}: {by_kind:?}"
        );
    }
    let line = o.stdout.lines().find(|l| l.starts_with("events")).unwrap();
    assert!(
        line.starts_with(&format!("events     {ended} generated = {ended} ended")),
        "{line}"
    );
}
