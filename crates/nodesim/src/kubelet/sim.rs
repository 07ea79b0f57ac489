//! How a pod asks to be simulated: the `nestor.dev/sim-*` annotations. A malformed value is
//! logged and replaced by the default: a typo in an annotation must not stall the pod.

use std::collections::BTreeMap;
use std::time::Duration;

use nestor_api::keys::{SIM_DURATION, SIM_EXIT_CODE, SIM_READY_AFTER};
use tracing::warn;

use nestor_api::duration;

/// The simulated behaviour of a pod's containers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sim {
    /// How long a container of a Never/OnFailure pod runs before it exits.
    pub duration: Duration,
    /// The exit code it exits with.
    pub exit_code: i32,
    /// How long after a container starts it turns ready.
    pub ready_after: Duration,
    /// The first crash-loop back-off of a failing OnFailure container (doubling after).
    pub backoff: Duration,
}

/// Reads the simulation annotations of a pod over `defaults`.
pub fn from_annotations(annotations: Option<&BTreeMap<String, String>>, defaults: Sim, pod: &str) -> Sim {
    let get = |k: &str| annotations.and_then(|a| a.get(k)).map(|v| v.trim());
    let parse_duration = |key: &str, default: Duration| match get(key) {
        None => default,
        Some(v) => duration::parse(v).unwrap_or_else(|e| {
            warn!(%pod, annotation = key, value = v, error = %e, "ignoring malformed annotation");
            default
        }),
    };
    let exit_code = match get(SIM_EXIT_CODE) {
        None => defaults.exit_code,
        Some(v) => v.parse::<i32>().unwrap_or_else(|e| {
            warn!(%pod, annotation = SIM_EXIT_CODE, value = v, error = %e, "ignoring malformed annotation");
            defaults.exit_code
        }),
    };
    Sim {
        duration: parse_duration(SIM_DURATION, defaults.duration),
        exit_code,
        ready_after: parse_duration(SIM_READY_AFTER, defaults.ready_after),
        backoff: defaults.backoff,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ann(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    const D: Sim = Sim {
        duration: Duration::from_secs(1),
        exit_code: 0,
        ready_after: Duration::ZERO,
        backoff: Duration::from_secs(10),
    };

    #[test]
    fn defaults_and_overrides() {
        assert_eq!(from_annotations(None, D, "p"), D);
        let a = ann(&[(SIM_DURATION, "300ms"), (SIM_EXIT_CODE, "3"), (SIM_READY_AFTER, "2s")]);
        assert_eq!(
            from_annotations(Some(&a), D, "p"),
            Sim { duration: Duration::from_millis(300), exit_code: 3, ready_after: Duration::from_secs(2), ..D }
        );
    }

    #[test]
    fn malformed_values_fall_back() {
        let a = ann(&[(SIM_DURATION, "soon"), (SIM_EXIT_CODE, "one"), (SIM_READY_AFTER, "-5s")]);
        assert_eq!(from_annotations(Some(&a), D, "p"), D);
    }
}
