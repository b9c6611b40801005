//! `cakemock webhooks` and store-mode `trigger` as a user runs them: the guide's own
//! command lines, the store file, refusals, and fan-out to stored webhooks. Every test
//! has its own `CAKEMOCK_HOME` in a temporary directory.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use assert_cmd::cargo::CommandCargoExt;
use cakemock::receiver::{Receiver, ReceiverConfig, Verdict};
use cakemock::sign::Secret;
use tokio::net::TcpListener;

/// The binary with its own store in `home` and nothing leaking in from the environment.
pub fn cakemock(home: &Path) -> Command {
    let mut c = Command::cargo_bin("cakemock").unwrap();
    for k in [
        "CAKEMOCK_SECRET",
        "WEBHOOK_SECRET",
        "CAKEMOCK_TARGET",
        "CAKEMAIL_OUTPUT_FORMAT",
    ] {
        c.env_remove(k);
    }
    c.env("CAKEMOCK_HOME", home).env("NO_COLOR", "1");
    c
}

pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn run(home: &Path, args: &[&str]) -> Output {
    let o = cakemock(home).args(args).output().unwrap();
    Output {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

/// Runs the binary off the async threads (the receivers live on them).
async fn run_async(home: &Path, args: &[&str]) -> Output {
    let home = home.to_path_buf();
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        run(&home, &a)
    })
    .await
    .unwrap()
}

/// The secret `create` printed.
fn secret_of(created: &Output) -> String {
    created
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("Secret: "))
        .expect("create prints the secret")
        .to_string()
}

async fn receiver(secret: &str, respond: &str) -> Receiver {
    let mut config = ReceiverConfig::new(Secret::new(secret));
    config.respond = respond.parse().unwrap();
    Receiver::start(TcpListener::bind("127.0.0.1:0").await.unwrap(), config)
        .await
        .unwrap()
}

#[test]
fn create_prints_the_guides_block_then_the_secret_once() {
    let home = tempfile::tempdir().unwrap();
    let o = run(
        home.path(),
        &[
            "webhooks",
            "create",
            "-u",
            "https://api.yourapp.com/webhooks/cakemail",
            "-e",
            "email.sent,email.opened,email.clicked",
            "-n",
            "Production Webhook",
        ],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    let guide = "\
✓ Webhook created successfully
ID: 123
URL: https://api.yourapp.com/webhooks/cakemail
Events: email.sent, email.opened, email.clicked
Status: active
";
    assert!(o.stdout.starts_with(guide), "{}", o.stdout);
    let secret = secret_of(&o);
    assert!(
        secret.starts_with("whsec_") && secret.len() > 20,
        "{secret}"
    );
    // Shown once: neither `get` nor `list` shows it again.
    for args in [
        &["webhooks", "get", "123"][..],
        &["webhooks", "list", "-f", "json"],
        &["webhooks", "list"],
    ] {
        let again = run(home.path(), args);
        assert_eq!(again.code, 0, "{}", again.stderr);
        assert!(
            again.stdout.contains("Production Webhook"),
            "{}",
            again.stdout
        );
        assert!(
            !again.stdout.contains(&secret),
            "{args:?} showed the secret"
        );
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let file = home.path().join("webhooks.json");
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the store must be private");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guides_management_lines_work_as_printed() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let created = run_async(
        h,
        &[
            "webhooks",
            "create",
            "-u",
            "https://api.yourapp.com/webhooks/cakemail",
            "-e",
            "email.sent,email.opened,email.clicked",
            "-n",
            "Production Webhook",
        ],
    )
    .await;
    assert_eq!(created.code, 0, "{}", created.stderr);
    let rx = receiver(&secret_of(&created), "200").await;
    // Not in the guide: point the webhook at a receiver that exists.
    let moved = run_async(h, &["webhooks", "update", "123", "-u", rx.url()]).await;
    assert_eq!(moved.code, 0, "{}", moved.stderr);

    // $ cakemail webhooks list
    let list = run_async(h, &["webhooks", "list"]).await;
    assert_eq!(list.code, 0, "{}", list.stderr);
    assert!(
        list.stdout
            .lines()
            .any(|l| l.starts_with("123 ") && l.contains(rx.url())),
        "{}",
        list.stdout
    );

    // $ cakemail webhooks update 123 -e "email.sent,email.opened,email.clicked,email.bounced"
    let up = run_async(
        h,
        &[
            "webhooks",
            "update",
            "123",
            "-e",
            "email.sent,email.opened,email.clicked,email.bounced",
        ],
    )
    .await;
    assert_eq!(up.code, 0, "{}", up.stderr);
    assert!(up.stdout.starts_with("✓ "), "{}", up.stdout);
    assert!(
        up.stdout
            .contains("Events: email.sent, email.opened, email.clicked, email.bounced"),
        "{}",
        up.stdout
    );

    // $ cakemail webhooks test 123
    let test = run_async(h, &["webhooks", "test", "123"]).await;
    assert_eq!(test.code, 0, "{}\n{}", test.stdout, test.stderr);
    assert!(
        test.stdout.starts_with("✓ Test event email.sent delivered"),
        "{}",
        test.stdout
    );
    assert!(
        test.stdout.contains("Status: 200") && test.stdout.contains("Latency: "),
        "{}",
        test.stdout
    );
    assert!(test.stdout.contains("Response: \"OK\""), "{}", test.stdout);
    let got = rx.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(got.len(), 1);
    assert!(
        matches!(got[0].verdict, Verdict::Verified { .. }),
        "{:?}",
        got[0].verdict
    );
    assert_eq!(got[0].event.as_deref(), Some("email.sent"));

    // $ cakemail webhooks delete 123 --force
    let del = run_async(h, &["webhooks", "delete", "123", "--force"]).await;
    assert_eq!(del.code, 0, "{}", del.stderr);
    assert_eq!(del.stdout.trim(), "✓ Webhook 123 deleted");
    let gone = run_async(h, &["webhooks", "get", "123"]).await;
    assert_eq!(gone.code, 2);
    assert!(
        gone.stderr.starts_with("✗ no webhook with id \"123\""),
        "{}",
        gone.stderr
    );
    rx.shutdown().await;
}

#[test]
fn bad_events_and_urls_are_refused_with_what_is_valid() {
    let home = tempfile::tempdir().unwrap();
    let o = run(
        home.path(),
        &[
            "webhooks",
            "create",
            "-u",
            "https://h/x",
            "-e",
            "email.sent,email.opend",
        ],
    );
    assert_eq!(o.code, 2);
    assert!(
        o.stderr
            .starts_with("✗ -e/--events: unknown event \"email.opend\""),
        "{}",
        o.stderr
    );
    assert!(
        o.stderr.contains("did you mean email.opened"),
        "{}",
        o.stderr
    );
    assert!(
        o.stderr.contains("campaign.cancelled"),
        "lists the valid events: {}",
        o.stderr
    );
    let o = run(
        home.path(),
        &["webhooks", "create", "-u", "ftp://h/x", "-e", "email.sent"],
    );
    assert_eq!(o.code, 2);
    assert!(
        o.stderr.contains("-u/--url") && o.stderr.contains("http"),
        "{}",
        o.stderr
    );
    // Nothing was stored by the refused commands.
    assert!(!home.path().join("webhooks.json").exists());
    let o = run(
        home.path(),
        &["webhooks", "update", "123", "-e", "email.sent"],
    );
    assert_eq!(o.code, 2);
    assert!(
        o.stderr.contains("no webhook with id \"123\""),
        "{}",
        o.stderr
    );
}

#[test]
fn delete_without_force_refuses_off_a_terminal() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    assert_eq!(
        run(
            h,
            &[
                "webhooks",
                "create",
                "-u",
                "https://h/x",
                "-e",
                "email.sent"
            ]
        )
        .code,
        0
    );
    let o = cakemock(h)
        .args(["webhooks", "delete", "123"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.starts_with("✗ refusing to delete webhook 123") && err.contains("--force"),
        "{err}"
    );
    assert_eq!(
        run(h, &["webhooks", "get", "123"]).code,
        0,
        "the webhook must still be there"
    );
}

#[test]
fn archive_hides_a_webhook_until_unarchived() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    for url in ["https://a/x", "https://b/x"] {
        assert_eq!(
            run(h, &["webhooks", "create", "-u", url, "-e", "email.sent"]).code,
            0
        );
    }
    let o = run(h, &["webhooks", "archive", "123"]);
    assert_eq!((o.code, o.stdout.trim()), (0, "✓ Webhook 123 archived"));
    let list = run(h, &["webhooks", "list", "-f", "compact"]);
    assert_eq!(list.stdout.lines().count(), 1, "{}", list.stdout);
    assert!(
        list.stdout.starts_with("124\tactive\thttps://b/x"),
        "{}",
        list.stdout
    );
    assert!(list.stderr.contains("1 archived"), "{}", list.stderr);
    let all = run(h, &["webhooks", "list", "-f", "compact", "--with-archived"]);
    assert!(
        all.stdout.contains("123\tarchived\thttps://a/x"),
        "{}",
        all.stdout
    );
    let page = run(
        h,
        &[
            "webhooks",
            "list",
            "-f",
            "compact",
            "--with-archived",
            "-l",
            "1",
            "-p",
            "2",
        ],
    );
    assert_eq!(page.stdout.trim(), "124\tactive\thttps://b/x\temail.sent");
    let o = run(h, &["webhooks", "unarchive", "123"]);
    assert_eq!((o.code, o.stdout.trim()), (0, "✓ Webhook 123 unarchived"));
    assert_eq!(
        run(h, &["webhooks", "list", "-f", "compact"])
            .stdout
            .lines()
            .count(),
        2
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_reports_a_failing_receiver_and_exits_1() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let rx = receiver("unused", "500").await;
    let created = run_async(
        h,
        &[
            "webhooks",
            "create",
            "-u",
            rx.url(),
            "-e",
            "email.bounced",
            "-s",
            "unused",
        ],
    )
    .await;
    assert_eq!(created.code, 0, "{}", created.stderr);
    let test = run_async(h, &["webhooks", "test", "123"]).await;
    assert_eq!(test.code, 1, "{}", test.stdout);
    assert!(
        test.stdout
            .starts_with("✗ Test event email.bounced not delivered"),
        "{}",
        test.stdout
    );
    assert!(test.stdout.contains("Status: 500"), "{}", test.stdout);
    let bad = run_async(h, &["webhooks", "test", "123", "--event", "email.bouncd"]).await;
    assert_eq!(bad.code, 2);
    assert!(
        bad.stderr.contains("did you mean email.bounced"),
        "{}",
        bad.stderr
    );
    rx.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trigger_fans_out_to_subscribed_active_webhooks_each_with_its_secret() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let docs_rx = receiver("docs-secret", "200").await;
    let api_rx = receiver("api-secret", "200").await;
    let other_rx = receiver("other", "200").await;
    let create = |url: String, events: &'static str, secret: &'static str| {
        let h = h.to_path_buf();
        async move {
            run_async(
                &h,
                &["webhooks", "create", "-u", &url, "-e", events, "-s", secret],
            )
            .await
        }
    };
    assert_eq!(
        create(
            docs_rx.url().into(),
            "email.sent,email.opened",
            "docs-secret"
        )
        .await
        .code,
        0
    );
    assert_eq!(
        create(api_rx.url().into(), "Email.Opened", "api-secret")
            .await
            .code,
        0
    );
    assert_eq!(
        create(other_rx.url().into(), "email.clicked", "other")
            .await
            .code,
        0
    );
    assert_eq!(
        create(other_rx.url().into(), "email.opened", "other")
            .await
            .code,
        0
    );
    assert_eq!(run_async(h, &["webhooks", "archive", "126"]).await.code, 0);

    let o = run_async(h, &["trigger", "email.opened", "--count", "2"]).await;
    assert_eq!(o.code, 0, "{}\n{}", o.stdout, o.stderr);
    assert!(
        o.stderr.contains("2 stored webhooks")
            && o.stderr.contains("123")
            && o.stderr.contains("124"),
        "{}",
        o.stderr
    );
    assert_eq!(
        o.stdout.lines().filter(|l| l.starts_with("✓ ")).count(),
        4,
        "{}",
        o.stdout
    );

    let docs = docs_rx.wait_for(2, Duration::from_secs(5)).await;
    let api = api_rx.wait_for(2, Duration::from_secs(5)).await;
    assert_eq!((docs.len(), api.len()), (2, 2));
    for r in docs.iter().chain(&api) {
        assert!(
            matches!(r.verdict, Verdict::Verified { .. }),
            "{:?}",
            r.verdict
        );
    }
    // Each webhook gets its own flavor: the guide's format, or the API's.
    assert_eq!(docs[0].event.as_deref(), Some("email.opened"));
    assert!(docs[0].header("x-cakemail-signature").is_some());
    assert_eq!(api[0].event.as_deref(), Some("Email.Opened"));
    assert!(api[0].header("x-signature").is_some());
    // Not subscribed (125) and archived (126): nothing.
    assert!(other_rx.received().is_empty());

    // --dry-run shows each webhook's request and sends nothing.
    let dry = run_async(h, &["trigger", "email.opened", "--dry-run"]).await;
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert!(
        dry.stdout.contains("# webhook 123\nPOST http://"),
        "{}",
        dry.stdout
    );
    assert!(
        dry.stdout.contains("# webhook 124\nPOST http://"),
        "{}",
        dry.stdout
    );
    assert!(dry.stdout.contains("x-signature: "), "{}", dry.stdout);
    assert_eq!(docs_rx.received().len(), 2, "a dry run sends nothing");

    // No subscriber for the event: the embedded receiver, as without a store.
    let o = run_async(h, &["trigger", "campaign.sent"]).await;
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stderr.contains("embedded receiver"), "{}", o.stderr);
    for r in [docs_rx, api_rx, other_rx] {
        r.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_answering_410_is_archived() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let rx = receiver("s", "410").await;
    assert_eq!(
        run_async(
            h,
            &[
                "webhooks",
                "create",
                "-u",
                rx.url(),
                "-e",
                "email.sent",
                "-s",
                "s"
            ]
        )
        .await
        .code,
        0
    );
    let o = run_async(h, &["trigger", "email.sent"]).await;
    assert_eq!(o.code, 1, "{}", o.stdout);
    assert!(
        o.stderr.contains("webhook 123 answered 410 Gone: archived"),
        "{}",
        o.stderr
    );
    let get = run_async(h, &["webhooks", "get", "123"]).await;
    assert!(get.stdout.contains("Status: archived"), "{}", get.stdout);
    rx.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fan_out_honours_faults_and_writes_reports() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let rx = receiver("hook-secret", "200").await;
    let created = run_async(
        h,
        &[
            "webhooks",
            "create",
            "-u",
            rx.url(),
            "-e",
            "email.sent",
            "-s",
            "hook-secret",
        ],
    )
    .await;
    assert_eq!(created.code, 0, "{}", created.stderr);
    let report = h.join("report.json");
    let report_arg = format!("json={}", report.display());
    let o = run_async(
        h,
        &[
            "trigger",
            "email.sent",
            "--count",
            "3",
            "--fault",
            "bad_signature:first=1",
            "--report",
            &report_arg,
        ],
    )
    .await;
    // The forged delivery is refused (401) by the receiver, so trigger exits 1...
    assert_eq!(o.code, 1, "{}\n{}", o.stdout, o.stderr);
    let got = rx.received();
    assert_eq!(got.len(), 3);
    assert_eq!(got.iter().filter(|r| !r.verdict.is_verified()).count(), 1);
    // ...and the report names the fault and the failed expectation.
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let text = json.to_string();
    assert!(text.contains("bad_signature"), "{text}");
    assert!(text.contains("delivered: 100%"), "{text}");
}
