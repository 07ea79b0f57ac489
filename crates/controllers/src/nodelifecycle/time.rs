//! Kubernetes times as chrono's, and back at the precision the API keeps.

use chrono::{DateTime, Utc};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, Time};

use crate::pods as podutil;

/// A `Time` at whole seconds, as it reads back from the API server: a time written with
/// nanoseconds would not compare equal to itself after a round trip.
pub fn to_time(t: DateTime<Utc>) -> Time {
    podutil::to_time(DateTime::from_timestamp(t.timestamp(), 0).unwrap_or(t))
}

/// A `MicroTime` (a Lease's `renewTime`) as chrono's.
pub fn micro_to_chrono(t: &MicroTime) -> DateTime<Utc> {
    DateTime::from_timestamp_nanos(t.0.as_nanosecond().try_into().unwrap_or(i64::MAX))
}

/// `later - earlier` as a std duration, zero when `later` is not later.
pub fn until(earlier: DateTime<Utc>, later: DateTime<Utc>) -> std::time::Duration {
    (later - earlier).to_std().unwrap_or_default()
}
