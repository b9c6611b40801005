//! Scenario time onto real time: a pacer releases each scenario instant when it is
//! due at the run's `--speed` (real time, N times faster, or at once with `max`).
//! Waits go through `tokio::time`, so tests pause the clock instead of sleeping.

use std::time::Duration;

use tokio::time::Instant;

use crate::clock::Speed;

/// Releases scenario instants on time, measured from when the pacer was made.
#[derive(Debug, Clone, Copy)]
pub struct Pacer {
    origin: Instant,
    speed: Speed,
}

impl Pacer {
    pub fn new(speed: Speed) -> Self {
        Pacer {
            origin: Instant::now(),
            speed,
        }
    }

    pub fn speed(&self) -> Speed {
        self.speed
    }

    /// When scenario instant `at` (from scenario time zero) is due in real time.
    pub fn due(&self, at: Duration) -> Instant {
        self.origin + self.speed.wait(at)
    }

    /// Waits until scenario instant `at` is due; returns at once if it already is.
    pub async fn until(&self, at: Duration) {
        let due = self.due(at);
        if due > Instant::now() {
            tokio::time::sleep_until(due).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn speed_60_runs_a_minute_in_a_second() {
        let p = Pacer::new(Speed::Factor(60.0));
        let t0 = Instant::now();
        p.until(Duration::from_secs(60)).await;
        assert_eq!(t0.elapsed(), Duration::from_secs(1));
        // An instant already past is released at once.
        p.until(Duration::from_secs(30)).await;
        assert_eq!(t0.elapsed(), Duration::from_secs(1));
    }

    #[tokio::test(start_paused = true)]
    async fn max_never_waits() {
        let p = Pacer::new(Speed::Max);
        let t0 = Instant::now();
        p.until(Duration::from_secs(86_400)).await;
        assert_eq!(t0.elapsed(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn real_time_waits_the_scenario_time() {
        let p = Pacer::new(Speed::Factor(1.0));
        let t0 = Instant::now();
        p.until(Duration::from_millis(2500)).await;
        assert_eq!(t0.elapsed(), Duration::from_millis(2500));
    }
}
