//! Generation speed per docs event: `event_bytes` alone, `event_bytes` + HMAC
//! signature (the load path, target >= 500,000/s on one core), and for comparison
//! the `Value` path (`event` + `to_bytes`) and a fresh contact per event.
//! Run: `cargo bench --bench payload` (plain `Instant` loop, no harness).

use std::hint::black_box;
use std::time::{Duration, Instant};

use cakemock::events::{Flavor, catalogue};
use cakemock::payload::{Generator, to_bytes};
use cakemock::sign::{Scheme, Secret, Signer};
use chrono::{DateTime, Utc};

const BUDGET: Duration = Duration::from_millis(300);

/// Events per second of `f`, run in batches until the time budget is spent.
fn rate(mut f: impl FnMut()) -> f64 {
    for _ in 0..1_000 {
        f();
    }
    let (start, mut n) = (Instant::now(), 0u64);
    while start.elapsed() < BUDGET {
        for _ in 0..1_000 {
            f();
        }
        n += 1_000;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let at: DateTime<Utc> = DateTime::from_timestamp(1_710_498_600, 0).unwrap_or_default();
    let signer = match Signer::new(Scheme::CakemailHex, Secret::new("whsec-bench-secret"), None) {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    };
    println!(
        "{:22} {:>12} {:>14} {:>14} {:>16}",
        "docs event", "bytes/s", "bytes+sign/s", "value+bytes/s", "contact+bytes/s"
    );
    for kind in catalogue(Flavor::Docs) {
        let mut g = Generator::new(Flavor::Docs, 1);
        let (contact, campaign) = (g.contact(), g.campaign());
        let fast = rate(|| {
            black_box(g.event_bytes(kind, at, &contact, &campaign));
        });
        let signed = rate(|| {
            let body = g.event_bytes(kind, at, &contact, &campaign);
            black_box(signer.sign("msg", 1_710_498_600, &body));
        });
        let value = rate(|| {
            black_box(to_bytes(&g.event(kind, at, &contact, &campaign)));
        });
        let fresh = rate(|| {
            let c = g.contact();
            black_box(g.event_bytes(kind, at, &c, &campaign));
        });
        println!(
            "{:22} {:>12.0} {:>14.0} {:>14.0} {:>16.0}",
            kind.name, fast, signed, value, fresh
        );
    }
}
