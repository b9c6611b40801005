//! `cakemock serve` as code under test meets it. `api`: the API's shapes, status codes,
//! tokens, FastAPI-style errors and the store shared with concurrent CLI commands.
//! `delivery`: the path a receiver's test suite takes (token, register, read the key,
//! trigger, verify), rate limits, the deliveries list and resends. This file: a small
//! API client and fixtures. Every server has its own store in a temp dir.

mod api;
mod delivery;

use std::time::Duration;

use bytes::Bytes;
use cakemock::api::{ServeConfig, Server};
use cakemock::receiver::{Receiver, ReceiverConfig};
use cakemock::retry::RetryPolicy;
use cakemock::sign::Secret;
use cakemock::store::Store;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use tokio::net::TcpListener;

/// A client of the mock API, logged in or not.
pub struct Api {
    pub base: String,
    pub client: Client<HttpConnector, Full<Bytes>>,
    pub token: Option<String>,
}

pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub json: Value,
}

impl Api {
    pub fn new(server: &Server) -> Api {
        Api {
            base: server.url(),
            client: Client::builder(TokioExecutor::new()).build_http(),
            token: None,
        }
    }

    pub async fn send(&self, method: Method, path: &str, ctype: &str, body: Vec<u8>) -> Answer {
        let mut req = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base))
            .header("content-type", ctype);
        if let Some(t) = &self.token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let res = self
            .client
            .request(req.body(Full::new(Bytes::from(body))).unwrap())
            .await
            .unwrap();
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            json,
        }
    }

    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Answer {
        let body = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        self.send(method, path, "application/json", body).await
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Answer {
        self.call(Method::POST, path, Some(body)).await
    }

    pub async fn token(&self, form: &str) -> Answer {
        let ctype = "application/x-www-form-urlencoded";
        self.send(Method::POST, "/token", ctype, form.as_bytes().to_vec())
            .await
    }

    pub async fn login(mut self) -> Api {
        let a = self
            .token("grant_type=password&username=dev%40example.com&password=x")
            .await;
        assert_eq!(a.status, 200, "{}", a.json);
        self.token = Some(a.json["access_token"].as_str().unwrap().to_string());
        self
    }
}

pub async fn serve(home: &std::path::Path) -> Server {
    let mut config = ServeConfig::new(Store::in_dir(home));
    config.retry = RetryPolicy::none();
    Server::start(TcpListener::bind("127.0.0.1:0").await.unwrap(), config)
        .await
        .unwrap()
}

/// Polls `/_mock/deliveries?QUERY` until `n` deliveries match.
pub async fn deliveries(api: &Api, query: &str, n: usize) -> Vec<Value> {
    let mut last = Value::Null;
    for _ in 0..400 {
        let a = api.get(&format!("/_mock/deliveries?{query}")).await;
        assert_eq!(a.status, 200, "{}", a.json);
        let data = a.json["data"].as_array().unwrap().clone();
        if data.len() >= n {
            return data;
        }
        last = api.get("/_mock/deliveries").await.json;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("fewer than {n} deliveries matched {query}: {last:#}");
}

/// A receiver answering 200 whatever the signature (the API generates the secrets).
pub async fn any_receiver() -> Receiver {
    let mut config = ReceiverConfig::new(Secret::new("unused"));
    config.accept_invalid = true;
    Receiver::start(TcpListener::bind("127.0.0.1:0").await.unwrap(), config)
        .await
        .unwrap()
}

pub fn header_map(pairs: &[(String, String)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.insert(
            HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_str(v).unwrap(),
        );
    }
    h
}
