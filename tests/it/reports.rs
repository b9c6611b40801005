//! Reports as a user gets them: every `--report` format written and parsed back, `-`
//! owning stdout, the JSON Schema, exit 1 with a failing JUnit case, Ctrl-C still
//! writing every report, `cakemock report` merging shards, and broken pipes.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use cakemock::receiver::{Receiver, ReceiverConfig};
use cakemock::record::{Record, read_log};
use cakemock::sign::Secret;
use serde_json::Value;

use crate::deliver::receiver;
use crate::trigger::{Output, cakemock, run};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// A receiver answering by `respond`.
async fn scripted(respond: &str) -> Receiver {
    let mut config = ReceiverConfig::new(Secret::new(SECRET));
    config.respond = respond.parse().unwrap();
    receiver(config).await
}

/// Runs the binary off the async runtime (the receiver lives on it).
async fn run_async(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run(&args)
    })
    .await
    .unwrap()
}

fn s(p: &Path) -> String {
    p.to_str().unwrap().to_string()
}

fn json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn junit(path: &Path) -> quick_junit::Report {
    quick_junit::Report::deserialize_from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// `trigger --count N` into the embedded receiver, with a log and the given reports.
fn trigger(dir: &Path, log: &str, count: u32, reports: &[String]) -> Output {
    let log = s(&dir.join(log));
    let count = count.to_string();
    let mut args = vec!["trigger", "email.opened", "--count", &count, "--log", &log];
    args.extend(reports.iter().map(String::as_str));
    run(&args)
}

#[test]
fn every_format_is_written_and_parses_back() {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n);
    let o = trigger(
        dir.path(),
        "a.jsonl",
        3,
        &[
            format!("--report=json={}", s(&p("r.json"))),
            format!("--report=junit={}", s(&p("r.xml"))),
            format!("--report=markdown={}", s(&p("r.md"))),
            format!("--report=text={}", s(&p("r.txt"))),
        ],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);

    let j = json(&p("r.json"));
    assert_eq!(j["schema_version"], 1);
    assert_eq!(j["passed"], true);
    assert_eq!(j["totals"]["events"], 3);
    assert_eq!(j["totals"]["states"]["delivered"], 3);
    assert_eq!(j["totals"]["statuses"]["200"], 3);
    assert_eq!(j["runs"][0]["command"], "trigger email.opened");
    assert!(j["totals"]["latency_ms"]["p99"].as_f64().unwrap() > 0.0);
    assert_eq!(j["steps"][0]["name"], "email.opened");
    assert_eq!(j["expectations"][0]["name"], "delivered: 100%");

    let x = junit(&p("r.xml"));
    assert_eq!(x.failures, 0);
    let names: Vec<String> = x.test_suites[0]
        .test_cases
        .iter()
        .map(|c| c.name.to_string())
        .collect();
    assert_eq!(names, ["delivered: 100%", "email.opened"]);

    let md = std::fs::read_to_string(p("r.md")).unwrap();
    assert!(
        md.starts_with("### cakemock: trigger email.opened ✅ passed"),
        "{md}"
    );
    assert!(md.contains("| 3 | 3 | 0 | 0 | 0 | 0 | 0 | 3 | 0 |"), "{md}");

    let txt = std::fs::read_to_string(p("r.txt")).unwrap();
    assert!(txt.contains("events     3 generated = 3 ended"), "{txt}");
    assert!(txt.contains("✓ delivered: 100%"), "{txt}");
}

#[test]
fn a_report_on_stdout_is_all_that_stdout_carries() {
    let dir = tempfile::tempdir().unwrap();
    let o = trigger(dir.path(), "a.jsonl", 2, &["--report=json=-".into()]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let j: Value = serde_json::from_str(&o.stdout).expect("stdout is exactly the JSON report");
    assert_eq!(j["totals"]["events"], 2);
    // The per-delivery lines moved to stderr.
    assert!(o.stderr.contains("✓ email.opened"), "{}", o.stderr);

    let o = run(&[
        "report",
        &s(&dir.path().join("a.jsonl")),
        "--report",
        "junit=-",
    ]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.starts_with("<?xml"), "{}", o.stdout);
    quick_junit::Report::deserialize_from_str(&o.stdout).unwrap();
}

#[test]
fn report_flags_are_checked_before_anything_is_sent() {
    let o = run(&["trigger", "email.sent", "--report", "jsno=r.json"]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(o.stderr.contains("did you mean json"), "{}", o.stderr);
    assert!(
        o.stderr.contains("json, junit, markdown, text"),
        "{}",
        o.stderr
    );
    let o = run(&[
        "trigger",
        "email.sent",
        "--report",
        "json=-",
        "--report",
        "junit=-",
    ]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(o.stderr.contains("only one report"), "{}", o.stderr);
    assert!(
        !o.stderr.contains("delivered"),
        "nothing may be sent: {}",
        o.stderr
    );
}

/// `schema/report.schema.json` is generated from the report's types; a real report must match it.
#[test]
fn the_json_report_matches_the_committed_schema() {
    let path = Path::new("schema/report.schema.json");
    let mut generated =
        serde_json::to_string_pretty(&cakemock::report::json::json_schema()).unwrap();
    generated.push('\n');
    if std::env::var_os("CAKEMOCK_UPDATE_FIXTURES").is_some() {
        std::fs::write(path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(path).unwrap();
    assert!(
        committed == generated,
        "schema/report.schema.json is stale: regenerate it with \
         `CAKEMOCK_UPDATE_FIXTURES=1 cargo test --test it the_json_report_matches_the_committed_schema`"
    );
    let schema: Value = serde_json::from_str(&committed).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("a valid JSON Schema");

    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.json");
    let o = trigger(
        dir.path(),
        "a.jsonl",
        2,
        &[format!("--report=json={}", s(&out))],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    let report = json(&out);
    let errors: Vec<String> = validator
        .iter_errors(&report)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    // And the schema can fail: a report without its totals does not match.
    let mut broken = report.clone();
    broken.as_object_mut().unwrap().remove("totals");
    assert!(!validator.is_valid(&broken));
}

const FAILING: &str = "version: 1\ndelivery: { retry: none }\nsteps:\n  - id: greet\n    event: email.sent\n    expect: { status: 2xx }\n  - id: later\n    event: email.opened\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_step_expectation_exits_1_with_a_failing_junit_case() {
    let rx = scripted("400").await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.yaml");
    std::fs::write(&file, FAILING).unwrap();
    let xml = dir.path().join("r.xml");
    let md = dir.path().join("r.md");
    let o = run_async(vec![
        "run".into(),
        s(&file),
        "--speed".into(),
        "max".into(),
        "--target".into(),
        rx.url().to_string(),
        "--secret".into(),
        SECRET.into(),
        "--report".into(),
        format!("junit={}", s(&xml)),
        "--report".into(),
        format!("markdown={}", s(&md)),
    ])
    .await;
    assert_eq!(o.code, 1, "{}\n{}", o.stdout, o.stderr);

    let x = junit(&xml);
    let cases = &x.test_suites[0].test_cases;
    let failed: Vec<&quick_junit::TestCase> = cases
        .iter()
        .filter(|c| !matches!(c.status, quick_junit::TestCaseStatus::Success { .. }))
        .collect();
    let names: Vec<String> = failed
        .iter()
        .map(|c| {
            format!(
                "{}/{}",
                c.classname.as_deref().unwrap_or(""),
                c.name.as_str()
            )
        })
        .collect();
    // The step's expectation, the default delivered: 100%, and the step itself; not `later`.
    assert!(
        names.contains(&"expectations/step greet: status 2xx".to_string()),
        "{names:?}"
    );
    assert!(names.contains(&"steps/greet".to_string()), "{names:?}");
    assert!(!names.iter().any(|n| n == "steps/later"), "{names:?}");
    let greet = failed.iter().find(|c| c.name.as_str() == "greet").unwrap();
    match &greet.status {
        quick_junit::TestCaseStatus::NonSuccess {
            message,
            description,
            ..
        } => {
            let all = format!("{message:?} {description:?}");
            assert!(all.contains("answered 400, expected 2xx"), "{all}");
        }
        other => panic!("{other:?}"),
    }
    let md = std::fs::read_to_string(&md).unwrap();
    assert!(md.contains("❌ failed"), "{md}");
    assert!(md.contains("| ❌ | step greet: status 2xx |"), "{md}");
}

/// A scenario long enough to interrupt: 200 events, two at a time, each answered after 300ms.
const LONG: &str = "version: 1\nname: long\ndelivery: { retry: none, concurrency: 2 }\nsteps:\n  - repeat:\n      times: 200\n      steps:\n        - event: email.sent\n          expect: { status: 2xx }\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_mid_run_exits_130_closes_the_log_and_writes_every_report() {
    let rx = scripted("delay=300ms").await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("long.yaml");
    std::fs::write(&file, LONG).unwrap();
    let p = |n: &str| dir.path().join(n);
    let mut child = cakemock()
        .args([
            "run",
            &s(&file),
            "--speed",
            "max",
            "--secret",
            SECRET,
            "--target",
        ])
        .arg(rx.url())
        .arg("--log")
        .arg(p("log.jsonl"))
        .args(["--report", &format!("json={}", s(&p("r.json")))])
        .args(["--report", &format!("junit={}", s(&p("r.xml")))])
        .args(["--report", &format!("markdown={}", s(&p("r.md")))])
        .args(["--report", &format!("text={}", s(&p("r.txt")))])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    rx.wait_for(2, Duration::from_secs(20)).await;
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status.code(), Some(130));

    let records = read_log(&p("log.jsonl")).unwrap();
    let mut attempted = std::collections::BTreeSet::new();
    let mut ended = std::collections::BTreeSet::new();
    for r in &records {
        match r {
            Record::Attempt(a) => {
                attempted.insert(a.seq);
            }
            Record::Terminal(t) => assert!(ended.insert(t.seq), "two terminal lines for {}", t.seq),
            _ => {}
        }
    }
    assert!(!ended.is_empty());
    assert!(
        attempted.is_subset(&ended),
        "attempted but never ended: {:?}",
        attempted.difference(&ended).collect::<Vec<_>>()
    );
    match records.last() {
        Some(Record::End(e)) => assert!(e.interrupted),
        other => panic!("the log must end with its end line, got {other:?}"),
    }

    let j = json(&p("r.json"));
    assert_eq!(j["interrupted"], true);
    assert_eq!(j["passed"], false);
    assert_eq!(j["totals"]["events"], ended.len());
    let delivered = j["totals"]["states"]["delivered"].as_u64().unwrap();
    assert!(
        delivered < 200,
        "the run was not cut short: {}",
        j["totals"]
    );
    let x = junit(&p("r.xml"));
    assert!(
        x.test_suites[0]
            .test_cases
            .iter()
            .any(|c| c.name.as_str() == "completed"
                && !matches!(c.status, quick_junit::TestCaseStatus::Success { .. })),
        "an interrupted run has a failing `completed` case"
    );
    assert!(
        std::fs::read_to_string(p("r.md"))
            .unwrap()
            .contains("interrupted")
    );
    assert!(
        std::fs::read_to_string(p("r.txt"))
            .unwrap()
            .contains("interrupted")
    );
}

/// Splits a log's events in two by seq parity; each half keeps the run, judgement and end lines.
fn split(log: &Path, a: &Path, b: &Path) {
    let text = std::fs::read_to_string(log).unwrap();
    let (mut left, mut right) = (String::new(), String::new());
    for line in text.lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        let line = format!("{line}\n");
        match v["seq"].as_u64() {
            Some(seq) if seq % 2 == 0 => left.push_str(&line),
            Some(_) => right.push_str(&line),
            None => {
                left.push_str(&line);
                right.push_str(&line);
            }
        }
    }
    std::fs::write(a, left).unwrap();
    std::fs::write(b, right).unwrap();
}

/// The summary's numbers, without the seed line (shards keep their own).
fn numbers(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter(|l| {
            ["events", "attempts", "latency", "answers"]
                .iter()
                .any(|k| l.starts_with(k))
        })
        .map(str::to_string)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_merges_shards_into_the_summary_of_one_run() {
    // Every event is retried once, so attempts, retries and statuses all count.
    let rx = scripted("503,200").await;
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n);
    let o = run_async(
        [
            "trigger",
            "email.opened",
            "--count",
            "30",
            "--retry",
            "0s,0s",
            "--secret",
            SECRET,
            "--concurrency",
            "1",
            "--target",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain([rx.url().to_string(), "--log".into(), s(&p("all.jsonl"))])
        .collect(),
    )
    .await;
    assert_eq!(o.code, 0, "{}", o.stderr);
    split(&p("all.jsonl"), &p("a.jsonl"), &p("b.jsonl"));

    let whole = run(&[
        "report",
        &s(&p("all.jsonl")),
        "--report",
        &format!("json={}", s(&p("whole.json"))),
    ]);
    let merged = run(&[
        "report",
        &s(&p("a.jsonl")),
        &s(&p("b.jsonl")),
        "--report",
        &format!("json={}", s(&p("merged.json"))),
    ]);
    assert_eq!(whole.code, 0, "{}", whole.stderr);
    assert_eq!(merged.code, 0, "{}", merged.stderr);
    let w = numbers(&whole.stdout);
    assert_eq!(w.len(), 4, "{}", whole.stdout);
    assert_eq!(w, numbers(&merged.stdout));
    let (w, m) = (json(&p("whole.json")), json(&p("merged.json")));
    assert_eq!(w["totals"], m["totals"]);
    assert_eq!(w["steps"], m["steps"]);
    assert!(
        w["totals"]["retries"].as_u64().unwrap() > 0,
        "{}",
        w["totals"]
    );
    assert_eq!(w["totals"]["statuses"]["503"], 30);
    assert_eq!(m["runs"].as_array().unwrap().len(), 2);

    // Two separate runs add up; the second's receiver rejects everything.
    let rejecting = scripted("400").await;
    let second = run_async(
        [
            "trigger",
            "email.opened",
            "--count",
            "4",
            "--secret",
            SECRET,
            "--target",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain([
            rejecting.url().to_string(),
            "--log".into(),
            s(&p("other.jsonl")),
        ])
        .collect(),
    )
    .await;
    assert_eq!(second.code, 1, "{}", second.stderr);
    let both = run(&[
        "report",
        &s(&p("all.jsonl")),
        &s(&p("other.jsonl")),
        "--report",
        "json=-",
    ]);
    let b: Value = serde_json::from_str(&both.stdout).unwrap();
    assert_eq!(b["totals"]["events"], 34);
    assert_eq!(
        b["totals"]["attempts"].as_u64().unwrap(),
        w["totals"]["attempts"].as_u64().unwrap() + 4
    );
    assert_eq!(b["totals"]["states"]["rejected"], 4);
    // The second log's failed expectation fails the merge.
    assert_eq!(both.code, 1);
    assert_eq!(b["expectations"][0]["passed"], false);
}

#[test]
fn report_names_the_bad_line_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let log: PathBuf = dir.path().join("a.jsonl");
    std::fs::write(&log, "{\"type\":\"run\",\"tool\":\"t\",\"command\":\"c\",\"seed\":1,\"started_at\":\"2024-03-15T10:30:00Z\"}\nnot json\n").unwrap();
    let o = run(&["report", &s(&log)]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(o.stderr.contains("a.jsonl:2:"), "{}", o.stderr);
    let o = run(&["report", &s(&dir.path().join("missing.jsonl"))]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(o.stderr.contains("missing.jsonl"), "{}", o.stderr);
}

#[test]
fn a_closed_stdout_is_not_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let o = trigger(dir.path(), "a.jsonl", 5, &[]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let log = s(&dir.path().join("a.jsonl"));
    for args in [
        vec!["report", &log],
        vec!["report", &log, "--report", "json=-"],
    ] {
        // The reading end is closed before cakemock starts: its first write gets EPIPE.
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let o = cakemock()
            .args(&args)
            .stdout(writer)
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(!stderr.contains("error"), "{stderr}");
    }
}
