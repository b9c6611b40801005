//! Per-webhook rate limits (`rate_limit` per `rate_limit_period`), enforced on every
//! attempt, retries included: a sliding window lets at most N attempts start in any
//! period-long stretch of time, so a burst of N goes at once and the rest wait for a
//! slot. [`RateGate`] is the [`Gate`](crate::drive::Gate) the delivery loop consults:
//! it finds a job's window by its target.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use tokio::time::Instant;

use crate::drive::{Gate, Job, Target};

/// At most `limit` starts in any window of `period` (on tokio time, so tests can
/// pause the clock).
#[derive(Debug)]
pub struct Window {
    limit: usize,
    period: Duration,
    starts: Mutex<VecDeque<Instant>>,
}

impl Window {
    /// A limit of 0 is taken as 1: a webhook always gets its deliveries, slowly.
    pub fn new(limit: u32, period: Duration) -> Window {
        let limit = usize::try_from(limit.max(1)).unwrap_or(usize::MAX);
        Window {
            limit,
            period,
            starts: Mutex::new(VecDeque::with_capacity(limit.min(1024))),
        }
    }

    /// Waits for a slot and takes it.
    pub async fn acquire(&self) {
        loop {
            let wait_until = {
                let mut starts = self.starts.lock().unwrap_or_else(|p| p.into_inner());
                let now = Instant::now();
                while starts
                    .front()
                    .is_some_and(|t| now.duration_since(*t) >= self.period)
                {
                    starts.pop_front();
                }
                if starts.len() < self.limit {
                    starts.push_back(now);
                    return;
                }
                // Full: the oldest start leaves the window first.
                starts.front().map(|t| *t + self.period)
            };
            if let Some(t) = wait_until {
                tokio::time::sleep_until(t).await;
            }
        }
    }
}

/// The gate the delivery loop consults before each attempt: the window of the job's
/// target, if it has one. Targets are matched by identity (the `Arc` they travel in),
/// held weakly so the address cannot be reused while an entry refers to it.
#[derive(Debug, Default)]
pub struct RateGate {
    windows: Mutex<HashMap<usize, Entry>>,
}

/// A target (held weakly) and its window.
type Entry = (Weak<Target>, Arc<Window>);

impl RateGate {
    pub fn new() -> RateGate {
        RateGate::default()
    }

    /// Limits deliveries to `target` by `window`.
    pub fn limit(&self, target: &Arc<Target>, window: Arc<Window>) {
        let mut w = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        // Forget targets nobody holds any more.
        w.retain(|_, (t, _)| t.strong_count() > 0);
        w.insert(key(target), (Arc::downgrade(target), window));
    }

    fn window_for(&self, target: &Arc<Target>) -> Option<Arc<Window>> {
        let w = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        let (t, window) = w.get(&key(target))?;
        t.upgrade()
            .filter(|t| Arc::ptr_eq(t, target))
            .map(|_| window.clone())
    }
}

fn key(target: &Arc<Target>) -> usize {
    Arc::as_ptr(target) as usize
}

impl Gate for RateGate {
    fn ready<'a>(&'a self, job: &'a Job) -> Pin<Box<dyn Future<Output = ()> + Send + 'a>> {
        let window = self.window_for(&job.target);
        Box::pin(async move {
            if let Some(w) = window {
                w.acquire().await;
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn never_more_than_the_limit_in_any_window() {
        let w = Arc::new(Window::new(5, Duration::from_secs(1)));
        let t0 = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..50 {
            let w = w.clone();
            tasks.push(tokio::spawn(async move {
                w.acquire().await;
                Instant::now()
            }));
        }
        let mut at = Vec::new();
        for t in tasks {
            at.push(t.await.unwrap());
        }
        at.sort();
        for pair in at.windows(6) {
            assert!(
                pair[5] - pair[0] >= Duration::from_secs(1),
                "6 starts within a second"
            );
        }
        // 50 starts at 5 per second: the last one 9 seconds after the first, not later.
        assert_eq!(at[49] - t0, Duration::from_secs(9));
        assert_eq!(at[4] - t0, Duration::ZERO);
    }
}
