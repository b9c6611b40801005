//! `POST /_mock/scenarios`: plays a scenario in the background through the server's
//! delivery engine, fanning each event out to the stored webhooks subscribed to it
//! (those of the scenario's flavor, since the bodies are in that format). The
//! scenario's own `target:` is not used: under `serve` the webhooks are the targets.
//! Results show in `GET /_mock/deliveries`; expectations are not judged here.

use std::sync::Arc;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::control::{ScenarioRequest, ScenarioRunner};
use crate::drive::{Job, Target};
use crate::pace::Pacer;
use crate::play::{PlayConfig, play};
use crate::scenario;
use crate::sign::{Scheme, Secret, Signer};

/// The runner `serve` uses: validates the YAML (a bad scenario is a 422 naming the
/// line and column), then plays it on the engine. Returns `run_<uuid>`.
pub fn runner() -> ScenarioRunner {
    Arc::new(|req: ScenarioRequest| {
        let scenario = scenario::load_str(&req.yaml, "<POST /_mock/scenarios>")?;
        let id = format!("run_{}", uuid::Uuid::new_v4().simple());
        let run = id.clone();
        tokio::spawn(async move {
            if let Err(e) = play_on(scenario, req).await {
                eprintln!("scenario {run}: {e:#}");
            }
        });
        Ok(id)
    })
}

async fn play_on(scenario: scenario::Scenario, req: ScenarioRequest) -> anyhow::Result<()> {
    let flavor = scenario.flavor;
    let seed = scenario.seed.unwrap_or_else(rand::random);
    // Jobs are made for a stand-in target and re-signed per webhook by `retarget`.
    let stand_in = Arc::new(Target {
        url: http::Uri::from_static("http://127.0.0.1/"),
        signer: Signer::new(
            Scheme::CakemailHex,
            Secret::generate(Scheme::CakemailHex),
            None,
        )?,
    });
    let config = PlayConfig {
        seed,
        start: chrono::Utc::now(),
        target: stand_in,
        pacer: Pacer::new(req.speed),
        route: None,
    };
    let (tx, mut rx) = mpsc::channel::<Job>(256);
    let player = tokio::spawn(play(
        Arc::new(scenario),
        config,
        tx,
        CancellationToken::new(),
    ));
    let engine = req.engine;
    engine.refresh().await?;
    while let Some(job) = rx.recv().await {
        for (copy, webhook) in engine.retarget(&job, flavor) {
            engine.submit(copy, Some(webhook)).await;
        }
    }
    player.await??;
    Ok(())
}
