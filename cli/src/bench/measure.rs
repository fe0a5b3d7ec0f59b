//! Time-bounded rate measurement: a short warm-up that also sizes batches, then batches of
//! calls until the budget is spent, so that reading the clock stays out of the measured cost.

use std::time::{Duration, Instant};

/// How long to warm up and how long to measure one (algorithm, backend, op, size).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Budget {
    warmup: Duration,
    measure: Duration,
}

/// Batches are sized so that a measurement reads the clock about this many times.
const BATCHES_PER_MEASUREMENT: u32 = 50;

impl Budget {
    /// Measures for `measure`, after a warm-up of a fifth of it (at most 50 ms).
    pub(crate) fn new(measure: Duration) -> Budget {
        Budget {
            warmup: (measure / 5).min(Duration::from_millis(50)),
            measure,
        }
    }

    /// Runs `op` repeatedly and returns completed calls per second.
    ///
    /// `op` should pass its results through [`std::hint::black_box`] so the optimiser keeps
    /// the work. The first error ends the measurement.
    pub(crate) fn rate<E>(&self, mut op: impl FnMut() -> Result<(), E>) -> Result<f64, E> {
        // Warm-up: double the batch until one batch takes ~1 ms or the warm-up is over.
        let warm_start = Instant::now();
        let mut batch: u64 = 1;
        let per_call_ns = loop {
            let t = Instant::now();
            for _ in 0..batch {
                op()?;
            }
            let took = t.elapsed();
            if warm_start.elapsed() >= self.warmup || took >= Duration::from_millis(1) {
                break took.as_nanos() / u128::from(batch);
            }
            batch = batch.saturating_mul(2);
        };
        let target = self.measure / BATCHES_PER_MEASUREMENT;
        let batch = match target.as_nanos().checked_div(per_call_ns) {
            Some(n) => u64::try_from(n.max(1)).unwrap_or(u64::MAX),
            None => batch,
        };

        let start = Instant::now();
        let mut calls: u64 = 0;
        loop {
            for _ in 0..batch {
                op()?;
            }
            calls += batch;
            let elapsed = start.elapsed();
            if elapsed >= self.measure {
                return Ok(calls as f64 / elapsed.as_secs_f64());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_counts_calls_over_real_time() {
        let budget = Budget::new(Duration::from_millis(30));
        let rate = budget
            .rate(|| {
                std::thread::sleep(Duration::from_millis(1));
                Ok::<(), ()>(())
            })
            .unwrap();
        // One call sleeps at least 1 ms, so at most 1000 calls per second.
        assert!(rate > 100.0 && rate <= 1000.0, "rate {rate}");
    }

    #[test]
    fn first_error_stops() {
        let budget = Budget::new(Duration::from_millis(10));
        let mut n = 0;
        let r = budget.rate(|| {
            n += 1;
            if n == 3 {
                Err("boom")
            } else {
                Ok(())
            }
        });
        assert_eq!(r, Err("boom"));
    }
}
