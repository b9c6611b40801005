//! The API's shapes: tokens, errors (401, 422, 404), webhook objects, pagination,
//! patch and archive, and one store shared with the CLI, concurrently.

use http::Method;
use serde_json::{Value, json};

use super::{Api, serve};
use crate::webhooks::run as cli;
use cakemock::store::Store;

#[tokio::test]
async fn tokens_errors_and_unknown_ids_answer_like_the_api() {
    let home = tempfile::tempdir().unwrap();
    let server = serve(home.path()).await;
    let anon = Api::new(&server);

    // 401 without a token, or with one the server never issued.
    let a = anon.get("/webhooks").await;
    assert_eq!(a.status, 401);
    assert_eq!(a.json["detail"][0]["type"], "unauthorized");
    assert_eq!(a.headers["www-authenticate"], "Bearer");
    let forged = Api {
        token: Some("forged".into()),
        ..Api::new(&server)
    };
    assert_eq!(forged.get("/webhooks").await.status, 401);
    let a = anon.post("/webhooks", json!({})).await;
    assert_eq!(a.status, 401, "auth is checked before the body");

    // /token: a missing field is a 422; a refresh token works once.
    let a = anon.token("grant_type=password&username=me").await;
    assert_eq!(a.status, 422);
    assert_eq!(a.json["detail"][0]["loc"], json!(["body", "password"]));
    let a = anon
        .token("grant_type=password&username=me&password=p")
        .await;
    assert_eq!(a.json["token_type"], "bearer");
    assert_eq!(a.json["expires_in"], 3600);
    let refresh = a.json["refresh_token"].as_str().unwrap().to_string();
    let form = format!("grant_type=refresh_token&refresh_token={refresh}");
    assert_eq!(anon.token(&form).await.status, 200);
    assert_eq!(anon.token(&form).await.status, 401);

    // 422 with every problem of the body, in FastAPI's shape.
    let api = anon.login().await;
    let a = api
        .post(
            "/webhooks",
            json!({"event": "email.opened", "rate_limit": "fast", "rate_limit_period": "hour"}),
        )
        .await;
    assert_eq!(a.status, 422, "{}", a.json);
    let detail = a.json["detail"].as_array().unwrap();
    let locs: Vec<&Value> = detail.iter().map(|d| &d["loc"][1]).collect();
    assert_eq!(
        locs,
        ["event", "url", "rate_limit", "rate_limit_period"],
        "{detail:?}"
    );
    assert_eq!(detail[0]["type"], "type_error.enum");
    assert!(
        detail[0]["msg"].as_str().unwrap().contains("Email.Opened"),
        "points at the API name: {}",
        detail[0]["msg"]
    );
    assert_eq!(detail[1]["msg"], "field required");
    assert!(
        detail
            .iter()
            .all(|d| d["msg"].is_string() && d["type"].is_string())
    );
    let a = api
        .send(
            Method::POST,
            "/webhooks",
            "application/json",
            b"{oops".to_vec(),
        )
        .await;
    assert_eq!(a.status, 422);
    assert_eq!(a.json["detail"][0]["loc"], json!(["body"]));

    // 404 for an unknown id, on every webhook route.
    for (m, path) in [
        (Method::GET, "/webhooks/nope"),
        (Method::PATCH, "/webhooks/999"),
        (Method::POST, "/webhooks/999/archive"),
        (Method::POST, "/webhooks/999/unarchive"),
    ] {
        let a = api.call(m, path, Some(json!({"url": "https://h/x"}))).await;
        assert_eq!(a.status, 404, "{path}: {}", a.json);
        assert_eq!(a.json["detail"][0]["type"], "not_found");
    }
    server.shutdown().await;
}

#[tokio::test]
async fn webhook_shapes_pagination_patch_and_archive() {
    let home = tempfile::tempdir().unwrap();
    let server = serve(home.path()).await;
    let api = Api::new(&server).login().await;
    for (i, event) in ["Email.Sent", "Email.Opened", "Contact.Added"]
        .iter()
        .enumerate()
    {
        let a = api
            .post(
                "/webhooks",
                json!({"event": event, "url": format!("https://h/{i}"), "rate_limit": 10}),
            )
            .await;
        assert_eq!(a.status, 201);
        assert_eq!(
            a.json,
            json!({"id": (123 + i).to_string(), "data": {
                "id": (123 + i).to_string(), "status": "active", "event": event,
                "url": format!("https://h/{i}"), "archived_at": null,
                "rate_limit": 10, "rate_limit_period": "second"}})
        );
    }
    let a = api
        .call(
            Method::PATCH,
            "/webhooks/124",
            Some(json!({"url": "https://new/", "rate_limit_period": "minute"})),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.json);
    assert_eq!(
        (&a.json["object"], &a.json["patched"]),
        (&json!("Webhook"), &json!(true))
    );
    assert_eq!(a.json["data"]["url"], "https://new/");
    assert_eq!(a.json["data"]["rate_limit_period"], "minute");
    let a = api
        .call(
            Method::PATCH,
            "/webhooks/124",
            Some(json!({"event": "Email.Sent"})),
        )
        .await;
    assert_eq!(a.status, 422, "the event cannot change");

    let a = api.post("/webhooks/123/archive", json!({})).await;
    assert_eq!(a.status, 200);
    assert_eq!(a.json["archived"], true);
    assert_eq!(a.json["data"]["status"], "archived");
    assert!(a.json["data"]["archived_at"].is_i64());

    let a = api.get("/webhooks").await;
    let ids: Vec<&str> = a.json["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["124", "125"], "archived hidden by default");
    assert_eq!(a.json["pagination"], json!({"page": 1, "per_page": 50}));
    let a = api
        .get("/webhooks?with_archived=true&with_count=true&per_page=2&page=2")
        .await;
    assert_eq!(
        a.json["pagination"],
        json!({"page": 2, "per_page": 2, "count": 3})
    );
    assert_eq!(a.json["data"][0]["id"], "125");
    let a = api.get("/webhooks?page=0&per_page=x").await;
    assert_eq!(a.status, 422);
    assert_eq!(a.json["detail"].as_array().unwrap().len(), 2);
    let a = api.post("/webhooks/123/unarchive", json!({})).await;
    assert_eq!(
        (
            a.json["archived"].clone(),
            a.json["data"]["archived_at"].clone()
        ),
        (json!(false), Value::Null)
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_and_the_api_share_one_store() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path().to_path_buf();
    let o = tokio::task::spawn_blocking({
        let h = h.clone();
        move || {
            cli(
                &h,
                &[
                    "webhooks",
                    "create",
                    "-u",
                    "https://cli/x",
                    "-e",
                    "email.spam_complaint,email.sent",
                    "-s",
                    "cli-secret",
                ],
            )
        }
    })
    .await
    .unwrap();
    assert_eq!(o.code, 0, "{}", o.stderr);
    let server = serve(&h).await;
    let api = Api::new(&server).login().await;
    let a = api.get("/webhooks/123").await;
    assert_eq!(
        a.json["data"]["event"], "Email.ReportedAsSpam",
        "the first event, by its API name"
    );
    assert_eq!(a.json["signature"]["key"], "cli-secret");
    assert_eq!(
        api.post(
            "/webhooks",
            json!({"event": "Email.Clicked", "url": "https://api/x"})
        )
        .await
        .status,
        201
    );
    let list = tokio::task::spawn_blocking(move || cli(&h, &["webhooks", "list", "-f", "compact"]))
        .await
        .unwrap();
    assert!(
        list.stdout
            .contains("124\tactive\thttps://api/x\tEmail.Clicked"),
        "{}",
        list.stdout
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_api_creates_and_cli_updates_lose_nothing() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path().to_path_buf();
    let store = Store::in_dir(&h);
    for i in 0..5 {
        let o = cli(
            &h,
            &[
                "webhooks",
                "create",
                "-u",
                &format!("https://before/{i}"),
                "-e",
                "email.sent",
            ],
        );
        assert_eq!(o.code, 0, "{}", o.stderr);
    }
    let server = serve(&h).await;
    let api = std::sync::Arc::new(Api::new(&server).login().await);
    let creates: Vec<_> = (0..50)
        .map(|i| {
            let api = api.clone();
            tokio::spawn(async move {
                let a = api
                    .post(
                        "/webhooks",
                        json!({"event": "Email.Opened", "url": format!("https://api/{i}")}),
                    )
                    .await;
                assert_eq!(a.status, 201, "{}", a.json);
                a.json["id"].as_str().unwrap().to_string()
            })
        })
        .collect();
    let updates: Vec<_> = (0..5)
        .map(|i| {
            let h = h.clone();
            tokio::task::spawn_blocking(move || {
                let id = (123 + i).to_string();
                let name = format!("updated-{i}");
                let url = format!("https://after/{i}");
                let events = "email.sent,email.bounced";
                cli(
                    &h,
                    &[
                        "webhooks", "update", &id, "-n", &name, "-u", &url, "-e", events,
                    ],
                )
            })
        })
        .collect();
    let mut ids = Vec::new();
    for c in creates {
        ids.push(c.await.unwrap());
    }
    for u in updates {
        let o = u.await.unwrap();
        assert_eq!(o.code, 0, "{}", o.stderr);
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 50, "every create got its own id");

    let doc = store.load().unwrap();
    assert_eq!(doc.webhooks.len(), 55);
    for i in 0..50 {
        let url = format!("https://api/{i}");
        assert_eq!(
            doc.webhooks.iter().filter(|w| w.url == url).count(),
            1,
            "{url} lost"
        );
    }
    for i in 0..5 {
        let w = doc.get(&(123 + i).to_string()).unwrap();
        assert_eq!(w.name.as_deref(), Some(format!("updated-{i}").as_str()));
        assert_eq!(w.url, format!("https://after/{i}"));
        assert_eq!(w.events, ["email.sent", "email.bounced"]);
    }
    server.shutdown().await;
}
