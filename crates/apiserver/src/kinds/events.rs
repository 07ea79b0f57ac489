//! `events.k8s.io/v1` Events are stored as core `v1` Events, as kube-apiserver stores them
//! (one storage, two versions): these convert between the two shapes
//! (pkg/apis/events/v1/conversion.go).

use serde_json::{Map, Value};

/// events.k8s.io/v1 field ↔ core v1 field, where the names differ.
const RENAMES: &[(&str, &str)] = &[
    ("regarding", "involvedObject"),
    ("note", "message"),
    ("reportingController", "reportingComponent"),
    ("deprecatedSource", "source"),
    ("deprecatedFirstTimestamp", "firstTimestamp"),
    ("deprecatedLastTimestamp", "lastTimestamp"),
    ("deprecatedCount", "count"),
];

fn rename(obj: &mut Value, pairs: impl Iterator<Item = (&'static str, &'static str)>) {
    let Some(map) = obj.as_object_mut() else { return };
    let mut out = Map::with_capacity(map.len());
    let pairs: Vec<_> = pairs.collect();
    for (k, v) in std::mem::take(map) {
        let key = pairs.iter().find(|(from, _)| *from == k).map(|(_, to)| to.to_string()).unwrap_or(k);
        out.insert(key, v);
    }
    *map = out;
}

/// The stored (core v1) shape of an events.k8s.io/v1 Event.
pub fn to_core(obj: &mut Value) {
    rename(obj, RENAMES.iter().copied());
}

/// The events.k8s.io/v1 shape of a stored core Event.
pub fn from_core(obj: &mut Value) {
    rename(obj, RENAMES.iter().map(|(a, b)| (*b, *a)));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trip_between_shapes() {
        let core = json!({"metadata": {"name": "e"}, "involvedObject": {"kind": "Pod", "name": "p"}, "message": "pulled", "reason": "Pulled", "count": 2, "source": {"component": "kubelet"}});
        let mut v1 = core.clone();
        from_core(&mut v1);
        assert_eq!(v1["regarding"]["name"], "p");
        assert_eq!(v1["note"], "pulled");
        assert_eq!(v1["deprecatedCount"], 2);
        assert_eq!(v1["deprecatedSource"]["component"], "kubelet");
        assert!(v1.get("involvedObject").is_none());
        to_core(&mut v1);
        assert_eq!(v1, core);
    }
}
