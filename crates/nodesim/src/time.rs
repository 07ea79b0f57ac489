//! Time as the API stores it: `metav1.Time` keeps whole seconds, so every timestamp nodesim
//! writes is cut to the second, or a status written again would always look changed.

use std::time::Duration;

use k8s_openapi::jiff::{SignedDuration, Timestamp};

/// Now, cut to the second.
pub fn now_secs() -> Timestamp {
    truncate(Timestamp::now())
}

/// `t` cut to the second.
pub fn truncate(t: Timestamp) -> Timestamp {
    Timestamp::from_second(t.as_second()).unwrap_or(t)
}

/// `t + d`, saturating at the largest timestamp.
pub fn add(t: Timestamp, d: Duration) -> Timestamp {
    SignedDuration::try_from(d).ok().and_then(|d| t.checked_add(d).ok()).unwrap_or(Timestamp::MAX)
}

/// How long from `now` until `at` (zero when `at` has passed).
pub fn until(now: Timestamp, at: Timestamp) -> Duration {
    Duration::try_from(at.duration_since(now)).unwrap_or(Duration::ZERO)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic() {
        let t = Timestamp::from_second(100).unwrap();
        assert_eq!(add(t, Duration::from_millis(1500)).as_millisecond(), 101_500);
        assert_eq!(until(t, add(t, Duration::from_secs(2))), Duration::from_secs(2));
        assert_eq!(until(add(t, Duration::from_secs(2)), t), Duration::ZERO);
        assert_eq!(truncate(add(t, Duration::from_millis(999))), t);
    }
}
