//! Retry schedules: how long to wait before the next attempt of an activity,
//! and whether there is a next attempt at all.

use std::time::Duration;

use crate::journal::RetryPolicy;

/// The policy used when a call gives none: 3 attempts, 1 s doubling to at
/// most 30 s.
pub fn default_policy() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        initial_interval_ms: 1_000,
        backoff_coefficient: 2.0,
        max_interval_ms: 30_000,
        jitter: 0.0,
        horizon_ms: 0,
        non_retryable_codes: Vec::new(),
    }
}

/// The delay before attempt `attempt + 1`, after `attempt` attempts failed
/// and `elapsed` passed since the first one started; `None` when the policy
/// allows no further attempt. `unit_random` in `[0, 1)` drives the jitter.
pub fn next_delay(
    policy: &RetryPolicy,
    attempt: u32,
    elapsed: Duration,
    unit_random: f64,
) -> Option<Duration> {
    if policy.max_attempts != 0 && attempt >= policy.max_attempts {
        return None;
    }
    let coefficient = if policy.backoff_coefficient.is_finite() && policy.backoff_coefficient >= 1.0 {
        policy.backoff_coefficient
    } else {
        1.0
    };
    let exponent = attempt.saturating_sub(1).min(64) as i32;
    let mut delay = policy.initial_interval_ms as f64 * coefficient.powi(exponent);
    if policy.max_interval_ms > 0 {
        delay = delay.min(policy.max_interval_ms as f64);
    }
    let jitter = policy.jitter.clamp(0.0, 1.0);
    delay += delay * jitter * unit_random.clamp(0.0, 1.0);
    let delay = Duration::from_millis(delay.min(u64::MAX as f64 / 2.0) as u64);
    if policy.horizon_ms > 0 && elapsed + delay > Duration::from_millis(policy.horizon_ms) {
        return None;
    }
    Some(delay)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(max: u32, base: u64, coeff: f64, cap: u64, jitter: f64, horizon: u64) -> RetryPolicy {
        RetryPolicy {
            max_attempts: max,
            initial_interval_ms: base,
            backoff_coefficient: coeff,
            max_interval_ms: cap,
            jitter,
            horizon_ms: horizon,
            non_retryable_codes: Vec::new(),
        }
    }

    #[test]
    fn exponential_with_cap_and_max_attempts() {
        let p = policy(5, 100, 2.0, 500, 0.0, 0);
        let d: Vec<_> = (1..6).map(|a| next_delay(&p, a, Duration::ZERO, 0.0)).collect();
        assert_eq!(
            d,
            vec![
                Some(Duration::from_millis(100)),
                Some(Duration::from_millis(200)),
                Some(Duration::from_millis(400)),
                Some(Duration::from_millis(500)),
                None
            ]
        );
    }

    #[test]
    fn constant_backoff_jitter_and_horizon() {
        let p = policy(0, 100, 1.0, 0, 0.5, 1_000);
        assert_eq!(next_delay(&p, 7, Duration::ZERO, 0.0), Some(Duration::from_millis(100)));
        assert_eq!(next_delay(&p, 7, Duration::ZERO, 1.0), Some(Duration::from_millis(150)));
        assert_eq!(next_delay(&p, 7, Duration::from_millis(950), 0.0), None);
    }

    #[test]
    fn jitter_spreads_delays_over_the_whole_band() {
        // Exponential from 200 ms, third attempt: 800 ms, plus up to 25 %.
        let p = policy(0, 200, 2.0, 0, 0.25, 0);
        let samples: Vec<u64> = (0..10_000)
            .map(|_| next_delay(&p, 3, Duration::ZERO, rand::random::<f64>()).expect("a delay").as_millis() as u64)
            .collect();
        assert!(samples.iter().all(|d| (800..=1_000).contains(d)), "every delay within [800, 1000] ms");
        // Ten equal slices of the band each get a fair share (10 % each
        // when uniform; at least 7 % here), so the jitter is not stuck at
        // either end.
        let mut slices = [0usize; 10];
        for d in &samples {
            slices[(((d - 800) / 20) as usize).min(9)] += 1;
        }
        assert!(slices.iter().all(|n| *n > 700), "{slices:?}");
        let mean = samples.iter().sum::<u64>() as f64 / samples.len() as f64;
        assert!((880.0..920.0).contains(&mean), "mean {mean} near the band's middle");
        // The cap applies before the jitter: a capped delay still spreads.
        let capped = policy(0, 200, 2.0, 500, 0.5, 0);
        let d: Vec<u64> = (0..1_000)
            .map(|_| next_delay(&capped, 9, Duration::ZERO, rand::random::<f64>()).unwrap().as_millis() as u64)
            .collect();
        assert!(d.iter().all(|d| (500..=750).contains(d)) && d.iter().min() < Some(&550) && d.iter().max() > Some(&700), "{:?}", (d.iter().min(), d.iter().max()));
    }
}
