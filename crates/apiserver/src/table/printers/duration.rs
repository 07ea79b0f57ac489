//! kube's `duration.HumanDuration` and the `translateTimestampSince` helpers built on it.
//!
//! Every AGE-like cell kube-apiserver prints goes through
//! `k8s.io/apimachinery/pkg/util/duration.HumanDuration`, which keeps ~2-3
//! significant figures ("5s", "3m2s", "10m", "2d3h", "2y1d"). kubectl shows the
//! string verbatim, so the thresholds below must match Go's byte for byte.

use chrono::{DateTime, Utc};

const SECOND: i64 = 1_000_000_000;
const MINUTE: i64 = 60 * SECOND;
const HOUR: i64 = 60 * MINUTE;

/// Formats a Go `time.Duration` (nanoseconds) like kube's `duration.HumanDuration`.
pub fn human_duration(nanos: i64) -> String {
    // Go: `int(d.Seconds())` truncates toward zero; kube tolerates up to 2s of clock
    // skew (anything in (-2s, 0) is "0s") before calling a future time "<invalid>".
    let seconds = nanos / SECOND;
    if seconds < -1 {
        return "<invalid>".to_string();
    } else if seconds < 0 {
        return "0s".to_string();
    } else if seconds < 60 * 2 {
        return format!("{seconds}s");
    }
    let minutes = nanos / MINUTE;
    if minutes < 10 {
        let s = (nanos / SECOND) % 60;
        if s == 0 {
            return format!("{minutes}m");
        }
        return format!("{minutes}m{s}s");
    } else if minutes < 60 * 3 {
        return format!("{minutes}m");
    }
    let hours = nanos / HOUR;
    if hours < 8 {
        let m = (nanos / MINUTE) % 60;
        if m == 0 {
            return format!("{hours}h");
        }
        return format!("{hours}h{m}m");
    } else if hours < 48 {
        return format!("{hours}h");
    } else if hours < 24 * 8 {
        let h = hours % 24;
        if h == 0 {
            return format!("{}d", hours / 24);
        }
        return format!("{}d{}h", hours / 24, h);
    } else if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    } else if hours < 24 * 365 * 8 {
        let dy = (hours / 24) % 365;
        if dy == 0 {
            return format!("{}y", hours / 24 / 365);
        }
        return format!("{}y{}d", hours / 24 / 365, dy);
    }
    format!("{}y", hours / 24 / 365)
}

/// `later - earlier` in nanoseconds, saturating like Go's `Time.Sub`.
pub fn nanos_between(later: DateTime<Utc>, earlier: DateTime<Utc>) -> i64 {
    let diff = later.signed_duration_since(earlier);
    diff.num_nanoseconds().unwrap_or(if diff > chrono::TimeDelta::zero() { i64::MAX } else { i64::MIN })
}

/// kube's `translateTimestampSince`: "<unknown>" for an unset (zero) time, else the
/// human duration since it.
pub fn since(timestamp: Option<DateTime<Utc>>, now: DateTime<Utc>) -> String {
    match timestamp {
        None => "<unknown>".to_string(),
        Some(t) => human_duration(nanos_between(now, t)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: i64 = 1_000_000;
    const DAY: i64 = 24 * HOUR;

    // Expected values: staging/src/k8s.io/apimachinery/pkg/util/duration/duration_test.go
    // (TestHumanDuration).
    #[test]
    fn human_duration_matches_go() {
        let cases = [
            (SECOND, "1s"),
            (70 * SECOND, "70s"),
            (190 * SECOND, "3m10s"),
            (70 * MINUTE, "70m"),
            (47 * HOUR, "47h"),
            (49 * HOUR, "2d1h"),
            ((8 * 24 + 2) * HOUR, "8d"),
            ((367 * 24) * HOUR, "367d"),
            ((365 * 2 * 24 + 25) * HOUR, "2y1d"),
            ((365 * 8 * 24 + 2) * HOUR, "8y"),
        ];
        for (d, want) in cases {
            assert_eq!(human_duration(d), want, "duration {d}ns");
        }
    }

    // Expected values: duration_test.go (TestHumanDurationBoundaries).
    #[test]
    fn human_duration_boundaries_match_go() {
        let cases = [
            (-2 * SECOND, "<invalid>"),
            (-2 * SECOND + 1, "0s"),
            (0, "0s"),
            (SECOND - MS, "0s"),
            (2 * MINUTE - MS, "119s"),
            (2 * MINUTE, "2m"),
            (2 * MINUTE + SECOND, "2m1s"),
            (10 * MINUTE - MS, "9m59s"),
            (10 * MINUTE, "10m"),
            (10 * MINUTE + SECOND, "10m"),
            (3 * HOUR - MS, "179m"),
            (3 * HOUR, "3h"),
            (3 * HOUR + MINUTE, "3h1m"),
            (8 * HOUR - MS, "7h59m"),
            (8 * HOUR, "8h"),
            (8 * HOUR + 59 * MINUTE, "8h"),
            (2 * DAY - MS, "47h"),
            (2 * DAY, "2d"),
            (2 * DAY + HOUR, "2d1h"),
            (8 * DAY - MS, "7d23h"),
            (8 * DAY, "8d"),
            (8 * DAY + 23 * HOUR, "8d"),
            (2 * 365 * DAY - MS, "729d"),
            (2 * 365 * DAY, "2y"),
            (2 * 365 * DAY + 23 * HOUR, "2y"),
            (2 * 365 * DAY + 23 * HOUR + 59 * MINUTE, "2y"),
            (2 * 365 * DAY + DAY - MS, "2y"),
            (2 * 365 * DAY + DAY, "2y1d"),
            (3 * 365 * DAY, "3y"),
            (4 * 365 * DAY, "4y"),
            (5 * 365 * DAY, "5y"),
            (6 * 365 * DAY, "6y"),
            (7 * 365 * DAY, "7y"),
            (8 * 365 * DAY - MS, "7y364d"),
            (8 * 365 * DAY, "8y"),
            (8 * 365 * DAY + 364 * DAY, "8y"),
            (9 * 365 * DAY, "9y"),
        ];
        for (d, want) in cases {
            assert_eq!(human_duration(d), want, "duration {d}ns");
        }
    }

    // Expected values: pkg/printers/internalversion/printers_test.go (TestTranslateTimestampSince).
    #[test]
    fn translate_timestamp_since_matches_go() {
        let now = Utc::now();
        let ago = |n: i64| Some(now - chrono::TimeDelta::nanoseconds(n));
        assert_eq!(since(ago(-2_100_000_000), now), "<invalid>");
        assert_eq!(since(ago(-1_900_000_000), now), "0s");
        assert_eq!(since(ago(0), now), "0s");
        assert_eq!(since(None, now), "<unknown>");
        assert_eq!(since(ago(30 * SECOND), now), "30s");
        assert_eq!(since(ago(5 * MINUTE), now), "5m");
        assert_eq!(since(ago(100 * MINUTE), now), "100m");
        assert_eq!(since(ago(2 * DAY), now), "2d");
        assert_eq!(since(ago(90 * DAY), now), "90d");
        assert_eq!(since(ago(10 * 365 * DAY), now), "10y");
    }

    #[test]
    fn nanos_between_saturates() {
        let far =
            DateTime::parse_from_rfc3339("0001-01-01T00:00:00Z").map(|t| t.with_timezone(&Utc)).unwrap_or_default();
        let now = Utc::now();
        assert_eq!(nanos_between(now, far), i64::MAX);
        assert_eq!(since(Some(far), now), format!("{}y", i64::MAX / HOUR / 24 / 365));
    }
}
