//! `cakemock trigger` as a user runs it: exit codes, errors that name the flag,
//! the embedded receiver, dry runs, interruption.

use std::process::{Command, Stdio};
use std::time::Duration;

use assert_cmd::cargo::CommandCargoExt;
use cakemock::receiver::{ReceiverConfig, Verdict};
use cakemock::sign::Secret;

/// The binary with no secret or target leaking in from the environment.
pub fn cakemock() -> Command {
    let mut c = Command::cargo_bin("cakemock").unwrap();
    for k in [
        "CAKEMOCK_SECRET",
        "WEBHOOK_SECRET",
        "CAKEMOCK_TARGET",
        "CAKEMOCK_HOME",
    ] {
        c.env_remove(k);
    }
    // An empty webhook store (never created: trigger only reads it), so stored webhooks
    // in the real home cannot turn these runs into fan-out.
    let no_store = std::env::temp_dir().join("cakemock-tests-empty-home");
    c.env("CAKEMOCK_HOME", no_store).env("NO_COLOR", "1");
    c
}

pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn run(args: &[&str]) -> Output {
    let o = cakemock().args(args).output().unwrap();
    Output {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

#[test]
fn unknown_event_exits_2_with_a_suggestion() {
    let o = run(&["trigger", "email.opend"]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(o.stderr.contains("email.opened"), "{}", o.stderr);
    assert!(
        o.stderr.to_lowercase().contains("did you mean"),
        "{}",
        o.stderr
    );
}

#[test]
fn bad_flags_exit_2_naming_the_flag_and_value() {
    let cases: &[(&[&str], &str)] = &[
        (
            &[
                "trigger",
                "email.sent",
                "--target",
                "localhost:3000/x",
                "--secret",
                "s",
            ],
            "--target",
        ),
        (
            &[
                "trigger",
                "email.sent",
                "--target",
                "ftp://h/x",
                "--secret",
                "s",
            ],
            "--target",
        ),
        (
            &["trigger", "email.sent", "--timeout", "5parsecs"],
            "--timeout",
        ),
        (
            &["trigger", "email.sent", "--retry", "1s,banana"],
            "--retry",
        ),
        (&["trigger", "email.sent", "--retry", "fsat"], "--retry"),
        (&["trigger", "email.sent", "--set", "data.nope=1"], "--set"),
        (
            &["trigger", "email.sent", "--start", "yesterday"],
            "--start",
        ),
        (
            &["trigger", "email.sent", "--concurrency", "0"],
            "--concurrency",
        ),
    ];
    for (args, flag) in cases {
        let o = run(args);
        assert_eq!(o.code, 2, "{args:?}: {}", o.stderr);
        assert!(o.stderr.contains(flag), "{args:?}: {}", o.stderr);
        assert!(!o.stderr.contains("panicked"), "{args:?}: {}", o.stderr);
    }
}

#[test]
fn a_real_target_without_a_secret_explains_where_secrets_come_from() {
    let o = run(&[
        "trigger",
        "email.sent",
        "--target",
        "http://127.0.0.1:9/hook",
    ]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    for word in ["--secret", "CAKEMOCK_SECRET", "WEBHOOK_SECRET"] {
        assert!(o.stderr.contains(word), "missing {word}: {}", o.stderr);
    }
}

#[test]
fn no_target_uses_the_embedded_receiver_and_shows_the_verdict() {
    let o = run(&["trigger", "email.opened"]);
    assert_eq!(o.code, 0, "{}\n{}", o.stdout, o.stderr);
    assert!(o.stdout.contains("email.opened"), "{}", o.stdout);
    assert!(o.stdout.contains("delivered"), "{}", o.stdout);
    assert!(o.stdout.contains("verified (cakemail-hex)"), "{}", o.stdout);
    assert!(
        o.stdout.contains("\"user_agent\""),
        "the received body is shown: {}",
        o.stdout
    );
    assert!(
        o.stderr.contains("seed"),
        "the seed is printed: {}",
        o.stderr
    );

    let o = run(&[
        "trigger",
        "Email.Clicked",
        "--flavor",
        "api",
        "--count",
        "5",
        "--signature",
        "standard",
    ]);
    assert_eq!(o.code, 0, "{}\n{}", o.stdout, o.stderr);
    assert_eq!(o.stdout.matches("delivered").count(), 5, "{}", o.stdout);
    assert_eq!(
        o.stdout.matches("verified (standard)").count(),
        5,
        "{}",
        o.stdout
    );
}

#[test]
fn dry_run_prints_the_exact_request_and_is_reproducible() {
    let args = |seed: &'static str| {
        vec![
            "trigger",
            "email.bounced",
            "--dry-run",
            "--seed",
            seed,
            "--start",
            "2024-03-15T10:30:00Z",
            "--secret",
            "s3cret",
            "--target",
            "http://127.0.0.1:9/hook",
        ]
    };
    let a = run(&args("1"));
    let b = run(&args("1"));
    let c = run(&args("2"));
    assert_eq!(a.code, 0, "{}", a.stderr);
    assert_eq!(a.stdout, b.stdout, "same seed and start, other bytes");
    assert_ne!(a.stdout, c.stdout, "another seed, same bytes");
    assert!(
        a.stdout.starts_with("POST http://127.0.0.1:9/hook"),
        "{}",
        a.stdout
    );
    for h in [
        "content-type: application/json",
        "x-cakemail-signature: ",
        "x-cakemail-event: email.bounced",
        "x-cakemail-delivery: ",
        "x-cakemail-attempt: 1",
    ] {
        assert!(a.stdout.contains(h), "missing {h}: {}", a.stdout);
    }
    // The printed signature is the one `cakemock verify` accepts for the printed body.
    let body = a.stdout.lines().find(|l| l.starts_with('{')).unwrap();
    let sig = a
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("x-cakemail-signature: "))
        .unwrap();
    let signer = cakemock::sign::Signer::new(
        cakemock::sign::Scheme::CakemailHex,
        Secret::new("s3cret"),
        None,
    )
    .unwrap();
    let mut h = http::HeaderMap::new();
    h.insert("x-cakemail-signature", sig.parse().unwrap());
    assert_eq!(
        signer.verify(&h, body.as_bytes(), 0, Duration::ZERO),
        Ok(())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivers_to_a_real_target_and_exits_1_when_not_delivered() {
    let secret = Secret::new("s3cret");
    let rx = crate::deliver::receiver(ReceiverConfig::new(secret.clone())).await;
    let url = rx.url().to_string();
    let o = tokio::task::spawn_blocking(move || {
        run(&[
            "trigger",
            "email.unsubscribed",
            "--target",
            &url,
            "--secret",
            "s3cret",
            "--count",
            "3",
        ])
    })
    .await
    .unwrap();
    assert_eq!(o.code, 0, "{}\n{}", o.stdout, o.stderr);
    let got = rx.received();
    assert_eq!(got.len(), 3);
    assert!(
        got.iter()
            .all(|r| matches!(r.verdict, Verdict::Verified { .. }))
    );

    let mut config = ReceiverConfig::new(secret);
    config.respond = "400".parse().unwrap();
    let rx = crate::deliver::receiver(config).await;
    let url = rx.url().to_string();
    let o = tokio::task::spawn_blocking(move || {
        run(&[
            "trigger",
            "email.sent",
            "--target",
            &url,
            "--secret",
            "s3cret",
        ])
    })
    .await
    .unwrap();
    assert_eq!(o.code, 1, "{}\n{}", o.stdout, o.stderr);
    assert!(o.stdout.contains("rejected"), "{}", o.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_cancels_the_rest_logs_every_terminal_and_exits_130() {
    let mut config = ReceiverConfig::new(Secret::new("s3cret"));
    config.respond = "delay=300ms".parse().unwrap();
    let rx = crate::deliver::receiver(config).await;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("attempts.jsonl");
    let mut child = cakemock()
        .args([
            "trigger",
            "email.sent",
            "--count",
            "500",
            "--concurrency",
            "2",
            "--secret",
            "s3cret",
            "--target",
        ])
        .arg(rx.url())
        .arg("--log")
        .arg(&log)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until deliveries are flowing, then interrupt.
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

    let records = cakemock::record::read_log(&log).unwrap();
    let mut terminal = std::collections::HashMap::new();
    let mut seqs = std::collections::BTreeSet::new();
    for r in &records {
        match r {
            cakemock::record::Record::Attempt(a) => {
                seqs.insert(a.seq);
            }
            cakemock::record::Record::Terminal(t) => {
                seqs.insert(t.seq);
                assert!(
                    terminal.insert(t.seq, t.state).is_none(),
                    "two terminal lines for event {}",
                    t.seq
                );
            }
            _ => {}
        }
    }
    assert!(
        seqs.iter().all(|s| terminal.contains_key(s)),
        "an event without a terminal line"
    );
    let cancelled = terminal
        .values()
        .filter(|s| **s == cakemock::record::TerminalState::Cancelled)
        .count();
    assert!(cancelled > 0, "nothing was cancelled: {terminal:?}");
    // Queued events get `cancelled` lines too, so the interruption shows in what was delivered.
    let delivered = terminal
        .values()
        .filter(|s| **s == cakemock::record::TerminalState::Delivered)
        .count();
    assert!(delivered < 500, "the run was not interrupted");
}
