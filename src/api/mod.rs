//! The mock Cakemail API (`cakemock serve`): `POST /token`, `/webhooks` with the API's
//! shapes and FastAPI-style errors, and cakemock's `/_mock/` control endpoints. It
//! shares the webhook store with the CLI and runs one delivery loop for all its
//! deliveries, each webhook held to its own rate limit. `auth` issues and checks
//! tokens, `webhooks` and `control` answer, `engine` delivers, `scenarios` plays
//! scenarios on it, `error` shapes errors.

mod auth;
mod control;
mod engine;
mod error;
mod scenarios;
mod webhooks;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Result;
use axum::Router;
use axum::routing::{get, post};
use axum::serve::ListenerExt;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

pub use auth::{Credentials, EXPIRES_IN};
pub use control::{ScenarioRequest, ScenarioRunner};
pub use engine::{Delivery, Engine};
pub use error::{ApiError, Detail};
pub use scenarios::runner as scenario_runner;
pub use webhooks::api_json;

use crate::deliver::{ClientConfig, HttpClient};
use crate::drive::{self, DriveConfig};
use crate::record::Recorder;
use crate::retry::RetryPolicy;
use crate::store::{Store, Subscriptions};

/// The account id `/token` reports and `account_id` parameters must match.
pub const ACCOUNT_ID: u64 = 100_123;

/// How the server runs.
pub struct ServeConfig {
    pub store: Store,
    pub client: ClientConfig,
    pub retry: RetryPolicy,
    /// Deliveries in flight at once, across webhooks. Attempts waiting for their
    /// webhook's rate limit hold a slot, so this is generous.
    pub concurrency: usize,
    /// Write every attempt as JSON Lines here.
    pub log: Option<PathBuf>,
    pub credentials: Credentials,
    /// Runs `POST /_mock/scenarios` ([`scenario_runner`] by default); `None` answers 501.
    pub scenarios: Option<ScenarioRunner>,
    /// Seeds generated bodies and retry jitter.
    pub seed: u64,
}

impl ServeConfig {
    /// Defaults: `fast` retries, 256 deliveries in flight, anyone may log in,
    /// scenarios played on the stored webhooks.
    pub fn new(store: Store) -> ServeConfig {
        ServeConfig {
            store,
            client: ClientConfig::default(),
            retry: RetryPolicy::preset("fast").unwrap_or_else(RetryPolicy::none),
            concurrency: 256,
            log: None,
            credentials: Credentials::default(),
            scenarios: Some(scenarios::runner()),
            seed: rand::random(),
        }
    }
}

/// What every handler shares.
pub struct AppState {
    pub engine: Arc<Engine>,
    tokens: auth::Tokens,
    credentials: Credentials,
    account_id: u64,
    scenarios: Option<ScenarioRunner>,
}

/// A running server. Call [`Server::shutdown`] to stop it.
pub struct Server {
    addr: SocketAddr,
    engine: Arc<Engine>,
    stop: CancellationToken,
    http: tokio::task::JoinHandle<()>,
    loop_cancel: CancellationToken,
    delivery: tokio::task::JoinHandle<()>,
}

fn router(state: Arc<AppState>) -> Router {
    let guarded = Router::new()
        .route("/webhooks", get(webhooks::list).post(webhooks::create))
        .route("/webhooks/{id}", get(webhooks::get).patch(webhooks::patch))
        .route("/webhooks/{id}/archive", post(webhooks::archive))
        .route("/webhooks/{id}/unarchive", post(webhooks::unarchive))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require_bearer,
        ));
    Router::new()
        .route("/token", post(auth::token))
        .route("/_mock/trigger", post(control::trigger))
        .route("/_mock/scenarios", post(control::scenarios))
        .route("/_mock/deliveries", get(control::deliveries))
        .route("/_mock/deliveries/{id}/resend", post(control::resend))
        .merge(guarded)
        .fallback(|| async {
            error::ApiError::not_found(
                &["path"],
                "Not Found: see `cakemock serve --help` for the endpoints",
            )
        })
        .with_state(state)
}

impl Server {
    /// Serves on an already-bound listener (tests bind port 0).
    pub async fn start(listener: tokio::net::TcpListener, config: ServeConfig) -> Result<Server> {
        let addr = listener.local_addr()?;
        let client = Arc::new(HttpClient::new(&config.client)?);
        let recorder = Arc::new(Recorder::new(config.log.as_deref())?);
        let subs = Subscriptions::default();
        let gate = subs.gate();
        let (tx, rx) = mpsc::channel(1024);
        let engine = Arc::new(Engine::new(tx, config.store.clone(), subs, config.seed));
        recorder.observe(engine.observer());
        let drive_config = DriveConfig {
            concurrency: config.concurrency.max(1),
            retry: config.retry,
            seed: config.seed,
            gate: Some(gate),
            ..DriveConfig::default()
        };
        let loop_cancel = CancellationToken::new();
        let delivery = tokio::spawn(drive::drive(
            rx,
            client,
            drive_config,
            recorder,
            loop_cancel.clone(),
        ));
        let state = Arc::new(AppState {
            engine: engine.clone(),
            tokens: auth::Tokens::default(),
            credentials: config.credentials,
            account_id: ACCOUNT_ID,
            scenarios: config.scenarios,
        });
        let stop = CancellationToken::new();
        let listener = listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let app = router(state);
        let shutdown = stop.clone();
        let http = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move { shutdown.cancelled().await })
                .await;
        });
        Ok(Server {
            addr,
            engine,
            stop,
            http,
            loop_cancel,
            delivery,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT` (a wildcard bind shows as loopback).
    pub fn url(&self) -> String {
        let ip = match self.addr.ip() {
            std::net::IpAddr::V4(v4) if v4.is_unspecified() => std::net::Ipv4Addr::LOCALHOST.into(),
            std::net::IpAddr::V6(v6) if v6.is_unspecified() => std::net::Ipv6Addr::LOCALHOST.into(),
            ip => ip,
        };
        format!("http://{}", SocketAddr::new(ip, self.addr.port()))
    }

    /// The delivery engine (for scenario runners and tests).
    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    /// Stops taking requests, then stops the delivery loop (in-flight attempts get the
    /// loop's grace period; queued ones end `cancelled`).
    pub async fn shutdown(self) {
        self.stop.cancel();
        let _ = self.http.await;
        self.loop_cancel.cancel();
        drop(self.engine);
        let _ = self.delivery.await;
    }
}
