//! The delivery loop against the in-process receiver: retries, classification,
//! Retry-After, timeouts, refused connections, garbage answers, TLS and HTTP/2.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use cakemock::clock::Speed;
use cakemock::deliver::{ClientConfig, ErrorKind, HttpClient};
use cakemock::drive::{self, DriveConfig, Job, Target};
use cakemock::receiver::{Receiver, ReceiverConfig, Verdict};
use cakemock::record::{AttemptRecord, Record, Recorder, TerminalRecord, TerminalState};
use cakemock::sign::{Scheme, Secret, Signer};
use cakemock::summary::Summary;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// What a delivery run left behind.
pub struct Run {
    pub summary: Summary,
    pub records: Vec<Record>,
}

impl Run {
    pub fn attempts(&self) -> Vec<&AttemptRecord> {
        self.records
            .iter()
            .filter_map(|r| match r {
                Record::Attempt(a) => Some(a),
                _ => None,
            })
            .collect()
    }

    pub fn terminals(&self) -> Vec<&TerminalRecord> {
        self.records
            .iter()
            .filter_map(|r| match r {
                Record::Terminal(t) => Some(t),
                _ => None,
            })
            .collect()
    }

    /// The accounting invariant: every generated event has exactly one terminal state.
    pub fn assert_accounted(&self) {
        assert_eq!(
            self.summary.generated,
            self.summary.terminal_total(),
            "generated != sum of terminal states"
        );
        let mut seqs: Vec<u64> = self.terminals().iter().map(|t| t.seq).collect();
        seqs.sort_unstable();
        let n = seqs.len();
        seqs.dedup();
        assert_eq!(seqs.len(), n, "an event has two terminal records");
        assert_eq!(n as u64, self.summary.generated);
    }
}

pub struct Setup {
    pub retry: &'static str,
    pub client: ClientConfig,
    pub speed: Speed,
    pub concurrency: usize,
    /// Seeds retry jitter and fault decisions.
    pub seed: u64,
    pub faults: cakemock::fault::FaultPlan,
}

impl Default for Setup {
    fn default() -> Self {
        Setup {
            retry: "none",
            client: ClientConfig::default(),
            speed: Speed::Factor(1.0),
            concurrency: 4,
            seed: 1,
            faults: cakemock::fault::FaultPlan::default(),
        }
    }
}

/// Delivers `bodies` (event name, body) to `url` through the real loop.
pub async fn deliver(url: &str, signer: Signer, bodies: Vec<(String, Bytes)>, setup: Setup) -> Run {
    let recorder = Arc::new(Recorder::new(None).unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    recorder.observe(move |r, _| sink.lock().unwrap().push(r.clone()));
    let client = Arc::new(HttpClient::new(&setup.client).unwrap());
    let target = Arc::new(Target {
        url: url.parse().unwrap(),
        signer,
    });
    let (tx, rx) = mpsc::channel(16);
    let feeder = tokio::spawn(async move {
        for (i, (event, body)) in bodies.into_iter().enumerate() {
            let seq = i as u64 + 1;
            let job = Job {
                seq,
                event,
                delivery_id: format!("dlv_{seq}"),
                body,
                target: target.clone(),
                lane: None,
                step: None,
            };
            tx.send(job).await.unwrap();
        }
    });
    let config = DriveConfig {
        concurrency: setup.concurrency,
        retry: setup.retry.parse().unwrap(),
        speed: setup.speed,
        seed: setup.seed,
        grace: Duration::from_millis(200),
        faults: setup.faults,
        ..DriveConfig::default()
    };
    drive::drive(
        rx,
        client,
        config,
        recorder.clone(),
        CancellationToken::new(),
    )
    .await;
    feeder.await.unwrap();
    let summary = recorder.summary();
    let records = seen.lock().unwrap().clone();
    Run { summary, records }
}

pub async fn receiver(config: ReceiverConfig) -> Receiver {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    Receiver::start(listener, config).await.unwrap()
}

fn hex_signer(secret: &Secret) -> Signer {
    Signer::new(Scheme::CakemailHex, secret.clone(), None).unwrap()
}

fn one(event: &str) -> Vec<(String, Bytes)> {
    let body = format!(
        r#"{{"event":"{event}","timestamp":"2024-03-15T10:30:00Z","data":{{"campaign_id":790}}}}"#
    );
    vec![(event.to_string(), Bytes::from(body))]
}

fn scripted(secret: &Secret, script: &str) -> ReceiverConfig {
    let mut c = ReceiverConfig::new(secret.clone());
    c.respond = script.parse().unwrap();
    c
}

#[tokio::test]
async fn retried_until_delivered_with_one_delivery_id() {
    let secret = Secret::new("s3cret");
    let rx = receiver(scripted(&secret, "503x2,200")).await;
    let setup = Setup {
        retry: "0s,0s,0s",
        ..Setup::default()
    };
    let run = deliver(rx.url(), hex_signer(&secret), one("email.opened"), setup).await;
    run.assert_accounted();
    let t = run.terminals();
    assert_eq!(t[0].state, TerminalState::Delivered);
    assert_eq!(t[0].attempts, 3);
    let got = rx.received();
    assert_eq!(
        got.iter().map(|r| r.reply.as_str()).collect::<Vec<_>>(),
        ["503", "503", "200"]
    );
    let ids: Vec<_> = got
        .iter()
        .map(|r| r.header("x-cakemail-delivery").unwrap().to_string())
        .collect();
    assert!(
        ids.iter().all(|id| id == &ids[0]),
        "delivery id changed across retries: {ids:?}"
    );
    let attempts: Vec<_> = got
        .iter()
        .map(|r| r.header("x-cakemail-attempt").unwrap().to_string())
        .collect();
    assert_eq!(attempts, ["1", "2", "3"]);
    assert!(
        got.iter()
            .all(|r| matches!(r.verdict, Verdict::Verified { .. }))
    );
    assert_eq!(run.summary.retries, 2);
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let secret = Secret::new("s3cret");
    let rx = receiver(scripted(&secret, "429:retry-after=2,200")).await;
    // `fast` alone would wait 100ms; Retry-After asks for 2s. At speed 20 that is 100ms real.
    let setup = Setup {
        retry: "fast",
        speed: Speed::Factor(20.0),
        ..Setup::default()
    };
    let run = deliver(rx.url(), hex_signer(&secret), one("email.sent"), setup).await;
    run.assert_accounted();
    let a = run.attempts();
    assert_eq!(a[0].status, Some(429));
    assert_eq!(a[0].retry_after.as_deref(), Some("2"));
    let wait = a[0].next_retry_ms.unwrap();
    assert!(
        (2000..=2200).contains(&wait),
        "scheduled wait {wait}ms, expected Retry-After's 2s (+ at most 10% jitter)"
    );
    assert_eq!(run.terminals()[0].state, TerminalState::Delivered);
    let got = rx.received();
    let gap = (got[1].at - got[0].at).to_std().unwrap();
    assert!(
        gap >= Duration::from_millis(100),
        "second attempt came {gap:?} after the first"
    );
}

#[tokio::test]
async fn client_errors_are_rejected_without_retry_and_410_is_gone() {
    let secret = Secret::new("s3cret");
    for (script, state) in [
        ("400", TerminalState::Rejected),
        ("410", TerminalState::Gone),
        ("302", TerminalState::Rejected),
    ] {
        let rx = receiver(scripted(&secret, script)).await;
        let run = deliver(
            rx.url(),
            hex_signer(&secret),
            one("email.sent"),
            Setup {
                retry: "fast",
                ..Setup::default()
            },
        )
        .await;
        run.assert_accounted();
        assert_eq!(run.terminals()[0].state, state, "{script}");
        assert_eq!(run.attempts().len(), 1, "{script} must not be retried");
        assert_eq!(rx.received().len(), 1);
    }
}

#[tokio::test]
async fn refused_connection_is_retried_then_exhausted() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}/hook");
    let run = deliver(
        &url,
        hex_signer(&Secret::new("s")),
        one("email.sent"),
        Setup {
            retry: "0s,0s",
            ..Setup::default()
        },
    )
    .await;
    run.assert_accounted();
    let a = run.attempts();
    assert_eq!(a.len(), 3);
    assert!(
        a.iter().all(|a| a.error == Some(ErrorKind::Connect)),
        "{a:?}"
    );
    assert_eq!(run.terminals()[0].state, TerminalState::Exhausted);
}

#[tokio::test]
async fn slow_receiver_times_out_and_is_exhausted() {
    let secret = Secret::new("s3cret");
    let rx = receiver(scripted(&secret, "delay=10s")).await;
    let client = ClientConfig {
        timeout: Duration::from_millis(300),
        ..ClientConfig::default()
    };
    let started = std::time::Instant::now();
    let run = deliver(
        rx.url(),
        hex_signer(&secret),
        one("email.sent"),
        Setup {
            retry: "0s",
            client,
            ..Setup::default()
        },
    )
    .await;
    run.assert_accounted();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the timeout did not cut the attempts short"
    );
    let a = run.attempts();
    assert_eq!(a.len(), 2);
    assert!(a.iter().all(|a| a.error == Some(ErrorKind::Timeout)));
    assert_eq!(run.terminals()[0].state, TerminalState::Exhausted);
}

/// A TCP server that answers every connection with `reply` (and then, optionally, bytes forever).
async fn raw_server(reply: &'static [u8], endless: bool) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = sock.read(&mut buf).await;
                let _ = sock.write_all(reply).await;
                if endless {
                    let chunk = [b'x'; 8192];
                    while sock.write_all(&chunk).await.is_ok() {}
                }
            });
        }
    });
    format!("http://{addr}/hook")
}

#[tokio::test]
async fn garbage_answers_are_transport_errors_and_endless_bodies_are_capped() {
    let url = raw_server(b"this is not http\r\n\r\n", false).await;
    let run = deliver(
        &url,
        hex_signer(&Secret::new("s")),
        one("email.sent"),
        Setup {
            retry: "0s",
            ..Setup::default()
        },
    )
    .await;
    run.assert_accounted();
    assert!(
        run.attempts()
            .iter()
            .all(|a| a.error == Some(ErrorKind::Transport)),
        "{:?}",
        run.attempts()
    );
    assert_eq!(run.terminals()[0].state, TerminalState::Exhausted);

    let url = raw_server(b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\n", true).await;
    let client = ClientConfig {
        timeout: Duration::from_secs(5),
        ..ClientConfig::default()
    };
    let run = deliver(
        &url,
        hex_signer(&Secret::new("s")),
        one("email.sent"),
        Setup {
            client,
            ..Setup::default()
        },
    )
    .await;
    run.assert_accounted();
    let a = run.attempts();
    assert_eq!(a[0].status, Some(200));
    assert_eq!(
        a[0].response_excerpt.as_deref().map(str::len),
        Some(cakemock::deliver::EXCERPT_CHARS)
    );
    assert_eq!(run.terminals()[0].state, TerminalState::Delivered);
}

#[tokio::test]
async fn receiver_reset_is_retried() {
    let secret = Secret::new("s3cret");
    let rx = receiver(scripted(&secret, "reset,200")).await;
    let run = deliver(
        rx.url(),
        hex_signer(&secret),
        one("email.sent"),
        Setup {
            retry: "0s",
            ..Setup::default()
        },
    )
    .await;
    run.assert_accounted();
    let a = run.attempts();
    assert_eq!(a[0].error, Some(ErrorKind::Transport), "{a:?}");
    assert_eq!(a[1].status, Some(200));
    assert_eq!(run.terminals()[0].state, TerminalState::Delivered);
}

#[tokio::test]
async fn h2c_by_prior_knowledge() {
    let secret = Secret::new("s3cret");
    let rx = receiver(ReceiverConfig::new(secret.clone())).await;
    let client = ClientConfig {
        http2: true,
        ..ClientConfig::default()
    };
    let run = deliver(
        rx.url(),
        hex_signer(&secret),
        one("email.sent"),
        Setup {
            client,
            ..Setup::default()
        },
    )
    .await;
    run.assert_accounted();
    assert_eq!(run.attempts()[0].http_version.as_deref(), Some("HTTP/2.0"));
    assert_eq!(rx.received()[0].version, "HTTP/2.0");
    assert!(matches!(rx.received()[0].verdict, Verdict::Verified { .. }));
}

#[tokio::test]
async fn tls_with_a_private_ca_negotiates_h2_by_alpn() {
    let (tls, ca_pem) = crate::support::tls_pair();
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, ca_pem).unwrap();
    let secret = Secret::new("s3cret");
    let mut config = ReceiverConfig::new(secret.clone());
    config.tls = Some(tls);
    let rx = receiver(config).await;
    assert!(rx.url().starts_with("https://"), "{}", rx.url());
    let url = rx.url().replace("127.0.0.1", "localhost");

    let client = ClientConfig {
        cacert: Some(ca.clone()),
        ..ClientConfig::default()
    };
    let run = deliver(
        &url,
        hex_signer(&secret),
        one("email.sent"),
        Setup {
            client,
            ..Setup::default()
        },
    )
    .await;
    run.assert_accounted();
    assert_eq!(
        run.terminals()[0].state,
        TerminalState::Delivered,
        "{:?}",
        run.attempts()
    );
    assert_eq!(run.attempts()[0].http_version.as_deref(), Some("HTTP/2.0"));

    // Without the CA the certificate is refused, and that is a connect error.
    let run = deliver(
        &url,
        hex_signer(&secret),
        one("email.sent"),
        Setup::default(),
    )
    .await;
    assert_eq!(run.attempts()[0].error, Some(ErrorKind::Connect));
    assert!(
        run.attempts()[0]
            .message
            .as_deref()
            .unwrap_or("")
            .to_lowercase()
            .contains("certificate"),
        "{:?}",
        run.attempts()
    );

    // --insecure skips the check.
    let client = ClientConfig {
        insecure: true,
        ..ClientConfig::default()
    };
    let run = deliver(
        &url,
        hex_signer(&secret),
        one("email.sent"),
        Setup {
            client,
            ..Setup::default()
        },
    )
    .await;
    assert_eq!(run.terminals()[0].state, TerminalState::Delivered);
}

#[tokio::test]
async fn many_events_are_all_accounted_for_under_mixed_answers() {
    let secret = Secret::new("s3cret");
    let rx = receiver(scripted(&secret, "503,200")).await;
    let bodies: Vec<_> = (0..200).flat_map(|_| one("email.clicked")).collect();
    let run = deliver(
        rx.url(),
        hex_signer(&secret),
        bodies,
        Setup {
            retry: "0s",
            concurrency: 16,
            ..Setup::default()
        },
    )
    .await;
    run.assert_accounted();
    assert_eq!(run.summary.count(TerminalState::Delivered), 200);
    assert_eq!(run.summary.attempts, 400);
    assert_eq!(rx.received().len(), 400);
}

#[tokio::test]
async fn every_event_of_both_flavors_verifies_in_every_scheme() {
    use cakemock::events::{Flavor, catalogue};
    use cakemock::payload::{Generator, to_bytes};
    for flavor in [Flavor::Docs, Flavor::Api] {
        let mut g = Generator::new(flavor, 42);
        let campaign = g.campaign();
        let start = chrono::DateTime::parse_from_rfc3339("2024-03-15T10:30:00Z")
            .unwrap()
            .to_utc();
        let bodies: Vec<(String, Bytes)> = catalogue(flavor)
            .iter()
            .map(|kind| {
                let contact = g.contact();
                (
                    kind.name.to_string(),
                    to_bytes(&g.event(kind, start, &contact, &campaign)),
                )
            })
            .collect();
        assert_eq!(bodies.len(), if flavor == Flavor::Docs { 9 } else { 59 });
        for scheme in Scheme::ALL {
            let secret = Secret::generate(scheme);
            let rx = receiver(ReceiverConfig::new(secret.clone())).await;
            let signer = Signer::new(scheme, secret, None).unwrap();
            let run = deliver(rx.url(), signer, bodies.clone(), Setup::default()).await;
            run.assert_accounted();
            assert_eq!(
                run.summary.count(TerminalState::Delivered),
                bodies.len() as u64,
                "{flavor:?} {scheme}"
            );
            let got = rx.received();
            assert_eq!(got.len(), bodies.len());
            for r in &got {
                assert_eq!(
                    r.verdict,
                    Verdict::Verified { scheme },
                    "{flavor:?} {:?}",
                    r.event
                );
                let (_, sent) = bodies
                    .iter()
                    .find(|(name, _)| Some(name) == r.event.as_ref())
                    .unwrap();
                assert_eq!(
                    &r.body, sent,
                    "the receiver got other bytes than were signed"
                );
                assert_eq!(r.header("content-type"), Some("application/json"));
                assert!(r.header("user-agent").unwrap().starts_with("cakemock/"));
            }
        }
    }
}
