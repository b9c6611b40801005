//! The embedded receiver over real loopback sockets: verification in every scheme,
//! response scripts per delivery, resets, HTTP/2, TLS, `--verify-json`, the JSON Lines
//! log, and the `cakemock listen` binary.

use std::time::Duration;

use cakemock::receiver::{Receiver, ReceiverConfig, Script, Verdict};
use cakemock::sign::{Scheme, Secret, Signer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{Conn, body, delivery_headers, post, tls_pair};

/// A secret every scheme can use (Standard Webhooks needs base64 after `whsec_`).
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const PATH: &str = "/webhooks/cakemail";
const WAIT: Duration = Duration::from_secs(5);

async fn start(config: ReceiverConfig) -> Receiver {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    Receiver::start(listener, config).await.unwrap()
}

fn config() -> ReceiverConfig {
    ReceiverConfig::new(Secret::new(SECRET))
}

fn scripted(script: &str) -> ReceiverConfig {
    ReceiverConfig {
        respond: script.parse::<Script>().unwrap(),
        ..config()
    }
}

fn signer(scheme: Scheme) -> Signer {
    Signer::new(scheme, Secret::new(SECRET), None).unwrap()
}

#[tokio::test]
async fn every_scheme_verifies_and_a_tampered_body_gets_401() {
    let rx = start(config()).await;
    for scheme in Scheme::ALL {
        let b = body("email.opened");
        let h = delivery_headers(&signer(scheme), "email.opened", "d1", 1, &b);
        let ok = post(rx.addr(), PATH, &h, &b).await.unwrap();
        assert_eq!(ok.status, 200, "{scheme}");
        let tampered = post(rx.addr(), PATH, &h, &body("email.clicked"))
            .await
            .unwrap();
        assert_eq!(tampered.status, 401, "{scheme}");
        assert_eq!(&tampered.body[..], b"Invalid signature");
    }
    let got = rx.wait_for(6, WAIT).await;
    let verdicts: Vec<_> = got.iter().map(|r| r.verdict.clone()).collect();
    for (i, scheme) in Scheme::ALL.into_iter().enumerate() {
        assert_eq!(verdicts[2 * i], Verdict::Verified { scheme });
        assert!(
            matches!(&verdicts[2 * i + 1], Verdict::Failed { scheme: Some(s), reason } if *s == scheme && reason.contains("mismatch")),
            "{:?}",
            verdicts[2 * i + 1]
        );
    }
    let first = &got[0];
    assert_eq!(first.seq, 1);
    assert_eq!(first.event.as_deref(), Some("email.opened"));
    assert_eq!(first.delivery_id.as_deref(), Some("d1"));
    assert_eq!(first.attempt, Some(1));
    assert_eq!(first.version, "HTTP/1.1");
    assert_eq!(first.reply, "200");
    assert_eq!(got[1].reply, "401");
    rx.shutdown().await;
}

#[tokio::test]
async fn unsigned_deliveries_are_refused_unless_accept_invalid() {
    let strict = start(config()).await;
    let b = body("email.sent");
    let res = post(strict.addr(), PATH, &[], &b).await.unwrap();
    assert_eq!(res.status, 401);
    let got = strict.wait_for(1, WAIT).await;
    let Verdict::Failed {
        scheme: None,
        reason,
    } = &got[0].verdict
    else {
        panic!("{:?}", got[0].verdict);
    };
    assert!(reason.contains("X-Cakemail-Signature"), "{reason}");
    // Without the header, the event name comes from the body.
    assert_eq!(got[0].event.as_deref(), Some("email.sent"));

    let lenient = start(ReceiverConfig {
        accept_invalid: true,
        ..scripted("202")
    })
    .await;
    let res = post(lenient.addr(), PATH, &[], &b).await.unwrap();
    assert_eq!(res.status, 202);
    assert!(!lenient.wait_for(1, WAIT).await[0].verdict.is_verified());
}

#[tokio::test]
async fn scripts_count_per_delivery_over_one_keep_alive_connection() {
    let rx = start(scripted("503x2,200")).await;
    let s = signer(Scheme::CakemailHex);
    let b = body("email.opened");
    let mut conn = Conn::open(rx.addr(), false).await.unwrap();
    let mut statuses = Vec::new();
    // Two events' attempts interleaved: each gets 503, 503, then 200.
    for attempt in 1..=3 {
        for id in ["a", "b"] {
            let h = delivery_headers(&s, "email.opened", id, attempt, &b);
            statuses.push(conn.post(PATH, &h, &b).await.unwrap().status.as_u16());
        }
    }
    assert_eq!(statuses, [503, 503, 503, 503, 200, 200]);
    let replies: Vec<_> = rx
        .wait_for(6, WAIT)
        .await
        .into_iter()
        .map(|r| r.reply)
        .collect();
    assert_eq!(replies, ["503", "503", "503", "503", "200", "200"]);
}

#[tokio::test]
async fn requests_without_a_delivery_id_share_one_counter() {
    let rx = start(scripted("503x2,200")).await;
    let s = signer(Scheme::CakemailHex);
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let b = body("email.sent");
        let h = s.sign("", 0, &b);
        statuses.push(post(rx.addr(), PATH, &h, &b).await.unwrap().status.as_u16());
    }
    assert_eq!(statuses, [503, 503, 200, 200]);
}

#[tokio::test]
async fn standard_deliveries_are_keyed_by_webhook_id() {
    let rx = start(scripted("500,204")).await;
    let s = signer(Scheme::Standard);
    let b = body("email.sent");
    let mut statuses = Vec::new();
    for id in ["msg_1", "msg_2", "msg_1"] {
        let h = s.sign(id, chrono::Utc::now().timestamp(), &b);
        statuses.push(post(rx.addr(), PATH, &h, &b).await.unwrap().status.as_u16());
    }
    assert_eq!(statuses, [500, 500, 204]);
}

#[tokio::test]
async fn retry_after_is_sent_as_scripted() {
    let rx = start(scripted(
        "429:retry-after=2,503:retry-after=Wed, 21 Oct 2015 07:28:00 GMT",
    ))
    .await;
    let s = signer(Scheme::CakemailHex);
    let b = body("email.sent");
    let mut conn = Conn::open(rx.addr(), false).await.unwrap();
    let first = conn
        .post(PATH, &delivery_headers(&s, "email.sent", "x", 1, &b), &b)
        .await
        .unwrap();
    assert_eq!(first.status, 429);
    assert_eq!(first.headers["retry-after"], "2");
    let second = conn
        .post(PATH, &delivery_headers(&s, "email.sent", "x", 2, &b), &b)
        .await
        .unwrap();
    assert_eq!(second.status, 503);
    assert_eq!(
        second.headers["retry-after"],
        "Wed, 21 Oct 2015 07:28:00 GMT"
    );
}

#[tokio::test]
async fn a_delayed_answer_outlasts_an_impatient_client_and_is_still_recorded() {
    let rx = start(scripted("200:delay=30s,201")).await;
    let s = signer(Scheme::CakemailHex);
    let b = body("email.sent");
    let h1 = delivery_headers(&s, "email.sent", "slow", 1, &b);
    let gave_up =
        tokio::time::timeout(Duration::from_millis(300), post(rx.addr(), PATH, &h1, &b)).await;
    assert!(
        gave_up.is_err(),
        "answered before its 30s delay: {gave_up:?}"
    );
    assert_eq!(rx.wait_for(1, WAIT).await[0].reply, "200");
    let h2 = delivery_headers(&s, "email.sent", "slow", 2, &b);
    assert_eq!(post(rx.addr(), PATH, &h2, &b).await.unwrap().status, 201);
    // Shutdown does not wait out the 30s delay of the abandoned request.
    tokio::time::timeout(WAIT, rx.shutdown()).await.unwrap();
}

#[tokio::test]
async fn reset_closes_the_connection_with_a_tcp_rst() {
    let rx = start(scripted("reset,200")).await;
    let s = signer(Scheme::CakemailHex);
    let b = body("email.sent");
    let h = delivery_headers(&s, "email.sent", "r", 1, &b);
    let mut raw = format!(
        "POST {PATH} HTTP/1.1\r\nhost: x\r\ncontent-length: {}\r\n",
        b.len()
    );
    for (k, v) in &h {
        raw.push_str(&format!("{k}: {v}\r\n"));
    }
    raw.push_str("\r\n");
    let mut tcp = tokio::net::TcpStream::connect(rx.addr()).await.unwrap();
    tcp.write_all(raw.as_bytes()).await.unwrap();
    tcp.write_all(&b).await.unwrap();
    let mut buf = Vec::new();
    let read = tcp.read_to_end(&mut buf).await;
    assert_eq!(
        read.as_ref().map_err(|e| e.kind()),
        Err(std::io::ErrorKind::ConnectionReset),
        "got {:?}",
        String::from_utf8_lossy(&buf)
    );
    // A hyper client sees an error, not a response; the next attempt gets the next item.
    assert_eq!(rx.wait_for(1, WAIT).await[0].reply, "reset");
    let h2 = delivery_headers(&s, "email.sent", "r", 2, &b);
    assert_eq!(post(rx.addr(), PATH, &h2, &b).await.unwrap().status, 200);
    let again = start(scripted("reset")).await;
    assert!(post(again.addr(), PATH, &h, &b).await.is_err());
}

#[tokio::test]
async fn http2_prior_knowledge_is_served_and_recorded() {
    let rx = start(config()).await;
    let s = signer(Scheme::CakemailBase64);
    let b = body("email.clicked");
    let mut conn = Conn::open(rx.addr(), true).await.unwrap();
    let res = conn
        .post(
            PATH,
            &delivery_headers(&s, "email.clicked", "h2", 1, &b),
            &b,
        )
        .await
        .unwrap();
    assert_eq!(res.status, 200);
    let got = rx.wait_for(1, WAIT).await;
    assert_eq!(got[0].version, "HTTP/2.0");
    assert_eq!(
        got[0].verdict,
        Verdict::Verified {
            scheme: Scheme::CakemailBase64
        }
    );
}

#[tokio::test]
async fn tls_serves_h2_and_http1_by_alpn() {
    let (server, cert_pem) = tls_pair();
    let rx = start(ReceiverConfig {
        tls: Some(server),
        ..config()
    })
    .await;
    assert!(rx.url().starts_with("https://127.0.0.1:"), "{}", rx.url());
    let s = signer(Scheme::CakemailHex);
    let b = body("email.sent");
    for alpn in [&b"h2"[..], b"http/1.1"] {
        let mut conn = Conn::open_tls(rx.addr(), &cert_pem, &[alpn]).await.unwrap();
        let res = conn
            .post(PATH, &delivery_headers(&s, "email.sent", "t", 1, &b), &b)
            .await
            .unwrap();
        assert_eq!(res.status, 200);
    }
    let versions: Vec<_> = rx
        .wait_for(2, WAIT)
        .await
        .into_iter()
        .map(|r| r.version)
        .collect();
    assert_eq!(versions, ["HTTP/2.0", "HTTP/1.1"]);
}

#[tokio::test]
async fn verify_json_checks_the_reserialized_body_like_the_guide() {
    let spaced = br#"{ "event": "email.opened", "data": { "campaign_id": 790 } }"#;
    let compact = br#"{"event":"email.opened","data":{"campaign_id":790}}"#;
    let s = signer(Scheme::CakemailHex);
    let rejson = start(ReceiverConfig {
        verify_json: true,
        ..config()
    })
    .await;
    let raw = start(config()).await;
    let send = async |rx: &Receiver, b: &[u8]| {
        let h = delivery_headers(&s, "email.opened", "j", 1, b);
        post(rx.addr(), PATH, &h, b).await.unwrap().status.as_u16()
    };
    assert_eq!(send(&rejson, compact).await, 200);
    // Signed over the bytes sent, but the guide's receiver verifies JSON.stringify(body).
    assert_eq!(send(&rejson, spaced).await, 401);
    assert_eq!(send(&raw, spaced).await, 200);
    // express.json answers 400 to a body that is not JSON.
    assert_eq!(send(&rejson, b"{\"event\":").await, 400);
    let got = rejson.wait_for(3, WAIT).await;
    let Verdict::Failed { reason, .. } = &got[2].verdict else {
        panic!("{:?}", got[2].verdict)
    };
    assert!(reason.contains("not JSON"), "{reason}");
}

#[tokio::test]
async fn wrong_path_method_and_oversized_bodies_are_refused() {
    let rx = start(config()).await;
    let mut strays = rx.subscribe_strays();
    assert_eq!(
        post(rx.addr(), "/other", &[], b"{}").await.unwrap().status,
        404
    );
    let mut conn = Conn::open(rx.addr(), false).await.unwrap();
    let get = conn.send("GET", PATH, &[], b"").await.unwrap();
    assert_eq!(get.status, 405);
    assert_eq!(get.headers["allow"], "POST");
    assert_eq!(strays.recv().await.unwrap().path, "/other");
    // A declared length over the cap is refused before any of the body is read.
    let mut tcp = tokio::net::TcpStream::connect(rx.addr()).await.unwrap();
    let head = format!("POST {PATH} HTTP/1.1\r\nhost: x\r\ncontent-length: 20000000\r\n\r\n");
    tcp.write_all(head.as_bytes()).await.unwrap();
    let mut buf = [0u8; 12];
    tcp.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"HTTP/1.1 413");
    let got = rx.wait_for(1, WAIT).await;
    assert_eq!(got.len(), 1, "404 and 405 are not deliveries");
    assert_eq!(got[0].reply, "413");
}

#[tokio::test]
async fn the_log_gets_one_json_line_per_delivery_and_subscribers_see_them_live() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("inbox.jsonl");
    let rx = start(ReceiverConfig {
        log: Some(log.clone()),
        ..scripted("503,200")
    })
    .await;
    let mut live = rx.subscribe();
    let s = signer(Scheme::CakemailHex);
    let b = body("email.bounced");
    for attempt in 1..=2 {
        let h = delivery_headers(&s, "email.bounced", "logged", attempt, &b);
        post(rx.addr(), PATH, &h, &b).await.unwrap();
    }
    assert_eq!(live.recv().await.unwrap().reply, "503");
    assert_eq!(live.recv().await.unwrap().reply, "200");
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["event"], "email.bounced");
    assert_eq!(lines[0]["delivery_id"], "logged");
    assert_eq!(lines[1]["attempt"], 2);
    assert_eq!(lines[0]["verdict"], "verified");
    assert_eq!(lines[0]["scheme"], "cakemail-hex");
    assert_eq!(lines[0]["reply"], "503");
    assert_eq!(lines[0]["body"], String::from_utf8(b.clone()).unwrap());
    assert_eq!(lines[0]["method"], "POST");
}

#[tokio::test]
async fn shutdown_stops_accepting() {
    let rx = start(config()).await;
    let addr = rx.addr();
    let _idle = tokio::net::TcpStream::connect(addr).await.unwrap();
    tokio::time::timeout(WAIT, rx.shutdown()).await.unwrap();
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

/// Kills the child if a test fails midway.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn listen_prints_its_url_and_deliveries_and_exits_130_on_ctrl_c() {
    use std::io::BufRead;
    let mut child = Child(
        std::process::Command::new(env!("CARGO_BIN_EXE_cakemock"))
            .args(["listen", "--port", "0", "--secret", SECRET])
            .env("NO_COLOR", "1")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    // Lines arrive on a thread, so a silent binary fails the test instead of hanging it.
    let stdout = child.0.stdout.take().unwrap();
    let (tx, lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            if tx.send(line.unwrap()).is_err() {
                break;
            }
        }
    });
    let next = || {
        lines
            .recv_timeout(WAIT)
            .expect("a line from cakemock listen")
    };
    let mut banner = Vec::new();
    let url = loop {
        let line = next();
        banner.push(line.clone());
        if let Some(at) = line.find("http://127.0.0.1:") {
            break line[at..].split_whitespace().next().unwrap().to_string();
        }
    };
    assert!(url.ends_with(PATH), "{url}");
    let banner = banner.join("\n");
    while let Ok(line) = lines.recv_timeout(Duration::from_millis(200)) {
        if line.starts_with("Ctrl-C") {
            break;
        }
        assert!(
            !line.contains(SECRET),
            "a secret given by flag is not echoed: {line}"
        );
        if line.contains("secret") {
            assert!(line.contains("from --secret"), "{line}");
        }
    }
    assert!(!banner.contains(SECRET), "{banner}");

    let addr: std::net::SocketAddr = url["http://".len()..url.len() - PATH.len()]
        .parse()
        .unwrap();
    let b = body("email.opened");
    let h = delivery_headers(
        &signer(Scheme::CakemailHex),
        "email.opened",
        "d_12345678",
        1,
        &b,
    );
    assert_eq!(post(addr, PATH, &h, &b).await.unwrap().status, 200);
    let line = loop {
        let line = next();
        if line.contains("email.opened") {
            break line;
        }
    };
    assert!(
        line.contains("✓ cakemail-hex") && line.contains("→ 200"),
        "{line}"
    );
    assert!(
        next().contains("email=alice@example.com"),
        "the data follows the line"
    );

    let pid = child.0.id().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = std::time::Instant::now() + WAIT;
    let status = loop {
        if let Some(status) = child.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still running after Ctrl-C"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(status.code(), Some(130));
}

#[test]
fn listen_refuses_a_bad_script_with_exit_2() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cakemock"))
        .args(["listen", "--port", "0", "--respond", "503y2"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("503y2") && err.contains("ITEM[,ITEM...]"),
        "{err}"
    );
}

/// `listen` and `serve` on a port already taken: exit 3 (environment) with advice, at once.
#[test]
fn a_port_in_use_is_a_clear_error_for_listen_and_serve() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    for cmd in ["listen", "serve"] {
        let home = tempfile::tempdir().unwrap();
        let out = assert_cmd::Command::cargo_bin("cakemock")
            .unwrap()
            .env("CAKEMOCK_HOME", home.path())
            .args([cmd, "--port", &port])
            .timeout(std::time::Duration::from_secs(20))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{cmd}: {stderr}");
        assert!(stderr.contains("already in use"), "{cmd}: {stderr}");
        assert!(stderr.contains("--port"), "{cmd}: {stderr}");
    }
}
