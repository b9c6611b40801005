//! Deliveries through `serve`: a receiver's own test suite end to end, rate limits,
//! the deliveries list with its filters, and resends.

use std::time::Duration;

use cakemock::receiver::{Receiver, ReceiverConfig, Verdict};
use cakemock::sign::{Scheme, Secret, Signer};
use http::Method;
use serde_json::{Value, json};
use tokio::net::TcpListener;

use super::{Api, any_receiver, deliveries, header_map, serve};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receivers_test_suite_registers_triggers_and_verifies_with_the_key() {
    let home = tempfile::tempdir().unwrap();
    let server = serve(home.path()).await;
    let api = Api::new(&server).login().await;

    // The receiver's address is known before its secret: register, then read the key.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/webhooks/cakemail",
        listener.local_addr().unwrap()
    );
    let created = api
        .post("/webhooks", json!({"event": "Email.Opened", "url": url}))
        .await;
    assert_eq!(created.status, 201, "{}", created.json);
    let id = created.json["id"]
        .as_str()
        .expect("ids are strings")
        .to_string();
    assert!(
        created.json.get("signature").is_none(),
        "no secret at creation"
    );
    let got = api.get(&format!("/webhooks/{id}")).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.json["signature"]["hash_function"], "sha256");
    let key = got.json["signature"]["key"].as_str().unwrap().to_string();
    let rx = Receiver::start(listener, ReceiverConfig::new(Secret::new(key.clone())))
        .await
        .unwrap();

    let t = api
        .post(
            "/_mock/trigger",
            json!({"event": "Email.Opened", "data": {"email": "ana@example.com"}}),
        )
        .await;
    assert_eq!(t.status, 202, "{}", t.json);
    assert_eq!(t.json["deliveries"][0]["webhook_id"], id.as_str());
    let received = rx.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(received.len(), 1);
    let r = &received[0];
    assert!(
        matches!(r.verdict, Verdict::Verified { .. }),
        "{:?}",
        r.verdict
    );
    // What a receiver's own code does: HMAC-SHA256 of the raw body, base64, in x-signature.
    let signer = Signer::new(Scheme::CakemailBase64, Secret::new(key), None).unwrap();
    let now = chrono::Utc::now().timestamp();
    signer
        .verify(
            &header_map(&r.headers),
            &r.body,
            now,
            Duration::from_secs(300),
        )
        .expect("the delivery verifies with signature.key");
    let body: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(body["event"], "Email.Opened");
    assert_eq!(body["data"]["email"], "ana@example.com");

    let done = deliveries(&api, &format!("webhook={id}&state=delivered"), 1).await;
    assert_eq!(done[0]["attempts"][0]["status"], 200);
    rx.shutdown().await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limit_of_5_per_second_holds_50_events_to_it() {
    let home = tempfile::tempdir().unwrap();
    let server = serve(home.path()).await;
    let api = Api::new(&server).login().await;
    let rx = any_receiver().await;
    let a = api
        .post(
            "/webhooks",
            json!({"event": "Email.Sent", "url": rx.url(), "rate_limit": 5, "rate_limit_period": "second"}),
        )
        .await;
    let id = a.json["id"].as_str().unwrap().to_string();
    for _ in 0..50 {
        let t = api
            .post("/_mock/trigger", json!({"event": "Email.Sent"}))
            .await;
        assert_eq!(t.status, 202);
    }
    let done = deliveries(&api, &format!("webhook={id}&state=delivered"), 50).await;
    let mut sent: Vec<chrono::DateTime<chrono::Utc>> = done
        .iter()
        .map(|d| serde_json::from_value(d["attempts"][0]["sent_at"].clone()).unwrap())
        .collect();
    sent.sort();
    // No 6 attempts within one second. (A few ms of slack: `sent_at` is read just
    // after the gate lets an attempt through.)
    let slack = chrono::Duration::milliseconds(25);
    for w in sent.windows(6) {
        assert!(
            w[5] - w[0] >= chrono::Duration::seconds(1) - slack,
            "6 deliveries within {:?}",
            w[5] - w[0]
        );
    }
    assert!(sent[49] - sent[0] >= chrono::Duration::seconds(9) - slack);
    assert_eq!(rx.received().len(), 50);
    rx.shutdown().await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_can_be_listed_filtered_and_resent() {
    let home = tempfile::tempdir().unwrap();
    let server = serve(home.path()).await;
    let api = Api::new(&server).login().await;
    let rx = any_receiver().await;
    api.post(
        "/webhooks",
        json!({"event": "Email.Bounced", "url": rx.url()}),
    )
    .await;
    let a = api
        .post("/_mock/trigger", json!({"event": "email.bounced"}))
        .await;
    assert_eq!(a.json["event"], "email.bounced");
    let id = a.json["deliveries"][0]["id"].as_str().unwrap().to_string();
    let done = deliveries(&api, "state=delivered&event=Email.Bounced", 1).await;
    assert_eq!(done[0]["id"], id.as_str());
    assert_eq!(done[0]["payload"]["event"], "Email.Bounced");

    let r = api
        .post(&format!("/_mock/deliveries/{id}/resend"), json!({}))
        .await;
    assert_eq!(r.status, 202, "{}", r.json);
    let got = rx.wait_for(2, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 2);
    assert_eq!(
        got[0].delivery_id, got[1].delivery_id,
        "a resend keeps the delivery id"
    );
    assert_eq!(got[0].body, got[1].body);

    let a = api.get("/_mock/deliveries?state=lost").await;
    assert_eq!(a.status, 422);
    assert!(
        a.json["detail"][0]["msg"]
            .as_str()
            .unwrap()
            .contains("exhausted")
    );
    let a = api.post("/_mock/deliveries/nope/resend", json!({})).await;
    assert_eq!(a.status, 404);
    let a = api
        .post("/_mock/trigger", json!({"event": "email.opend"}))
        .await;
    assert_eq!(a.status, 422);
    assert!(
        a.json["detail"][0]["msg"]
            .as_str()
            .unwrap()
            .contains("email.opened")
    );
    let a = api
        .post("/_mock/trigger", json!({"event": "List.Created"}))
        .await;
    assert_eq!((a.status, a.json["deliveries"].clone()), (202, json!([])));
    assert!(
        a.json["note"]
            .as_str()
            .unwrap()
            .contains("no active webhook")
    );
    rx.shutdown().await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scenario_posted_to_serve_plays_on_the_stored_webhooks() {
    let home = tempfile::tempdir().unwrap();
    let server = serve(home.path()).await;
    let api = Api::new(&server).login().await;
    let opened = any_receiver().await;
    let spam = any_receiver().await;
    for (event, url) in [
        ("Email.Opened", opened.url()),
        ("Email.ReportedAsSpam", spam.url()),
    ] {
        let a = api
            .post("/webhooks", json!({"event": event, "url": url}))
            .await;
        assert_eq!(a.status, 201);
    }
    let yaml = "version: 1\nflavor: api\nsteps:\n  - event: Email.Opened\n    contact: ana\n  - wait: 1h\n  - event: Email.Opened\n    contact: ana\n  - event: Email.Clicked\n";
    let a = api
        .send(
            Method::POST,
            "/_mock/scenarios?speed=max",
            "application/yaml",
            yaml.as_bytes().to_vec(),
        )
        .await;
    assert_eq!(a.status, 202, "{}", a.json);
    assert!(a.json["id"].as_str().unwrap().starts_with("run_"));
    let got = opened.wait_for(2, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 2);
    assert!(
        got.iter()
            .all(|r| r.event.as_deref() == Some("Email.Opened"))
    );
    let bodies: Vec<Value> = got
        .iter()
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    assert_eq!(
        bodies[0]["data"]["email"], bodies[1]["data"]["email"],
        "one contact"
    );
    assert!(
        spam.received().is_empty(),
        "not subscribed to what the scenario sent"
    );

    // A bad scenario is refused with where the problem is.
    let bad = "version: 1\nsteps:\n  - event: email.opend\n";
    let a = api
        .send(
            Method::POST,
            "/_mock/scenarios",
            "application/yaml",
            bad.as_bytes().to_vec(),
        )
        .await;
    assert_eq!(a.status, 422);
    let msg = a.json["detail"][0]["msg"].as_str().unwrap();
    assert!(msg.contains(":3:") && msg.contains("email.opened"), "{msg}");
    let a = api
        .send(
            Method::POST,
            "/_mock/scenarios?speed=slow",
            "application/yaml",
            yaml.as_bytes().to_vec(),
        )
        .await;
    assert_eq!(a.status, 422);
    opened.shutdown().await;
    spam.shutdown().await;
    server.shutdown().await;
}
