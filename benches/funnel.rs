//! Throughput and memory of the `campaign:` timeline: events per second for 10k, 100k
//! and 1M contacts, and proof that memory does not grow with the campaign (the size of
//! the stream, and the process's peak RSS from /proc/self/status before and after).
//! Run with `cargo bench --bench funnel`; figures vary with the machine, compare ratios.

use std::hint::black_box;
use std::time::{Duration, Instant};

use cakemock::funnel::{CampaignPlan, Funnel, FunnelStream, Stage};

/// A `VmHWM:` or `VmRSS:` figure of this process in KiB (None off Linux).
fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn show(kib: Option<u64>) -> String {
    kib.map_or_else(|| "n/a".into(), |k| format!("{:.1} MiB", k as f64 / 1024.0))
}

fn main() {
    let funnel = Funnel {
        bounced: 0.02,
        opened: 0.45,
        clicked: 0.12,
        unsubscribed: 0.005,
        spam_complaint: 0.001,
    };
    println!(
        "size_of::<FunnelStream>() = {} bytes (plus one lane and one heap entry per lane)",
        std::mem::size_of::<FunnelStream>()
    );
    for contacts in [10_000u64, 100_000, 1_000_000] {
        let plan = CampaignPlan {
            contacts,
            over: Duration::from_secs(48 * 3600),
            funnel,
            seed: 42,
        };
        let hwm_before = status_kib("VmHWM:");
        let start = Instant::now();
        let (mut events, mut opens, mut checksum) = (0u64, 0u64, 0u64);
        for e in plan.events() {
            events += 1;
            opens += u64::from(e.stage == Stage::Opened);
            checksum = checksum.wrapping_add(e.at.as_nanos() as u64);
        }
        let elapsed = start.elapsed();
        black_box(checksum);
        println!(
            "{contacts:>9} contacts: {events:>9} events ({opens} opens) in {:>8.1?} = {:>6.2} M events/s; \
             peak RSS {} -> {}",
            elapsed,
            events as f64 / elapsed.as_secs_f64() / 1e6,
            show(hwm_before),
            show(status_kib("VmHWM:")),
        );
    }
}
