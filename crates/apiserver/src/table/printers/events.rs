//! Events: printers.go `printEvent`, used for both `events` (core/v1) and
//! `events.k8s.io` events, which kube-apiserver serves from one storage and prints
//! after converting to the internal core Event.
//!
//! The stored object may be in either shape, so each field is read from its core/v1
//! name first and from its events.k8s.io/v1 name second (`regarding`, `note`,
//! `deprecatedSource`, `deprecatedFirstTimestamp`, ...), mirroring the conversion.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::duration;
use super::helpers::{get, int_at, n, name, opt_int, s, str_at, time_at};
use super::{col, col_fmt, Column, Printer, NAME_DESC};

const EVENT_COLUMNS: &[Column] = &[
    col("Last Seen", "string", "The time at which the most recent occurrence of this event was recorded.", 0),
    col("Type", "string", "Type of this event (Normal, Warning), new types could be added in the future", 0),
    col("Reason", "string", "This should be a short, machine understandable string that gives the reason for the transition into the object's current status.", 0),
    col("Object", "string", "The object that this event is about.", 0),
    col("Subobject", "string", "If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement, such as desiredState.manifest.containers[2].", 1),
    col("Source", "string", "The component reporting this event. Should be a short machine understandable string.", 1),
    col("Message", "string", "A human-readable description of the status of this operation.", 0),
    col("First Seen", "string", "The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)", 1),
    col("Count", "string", "The number of times this event has occurred.", 1),
    col_fmt("Name", "string", "name", NAME_DESC, 1),
];

/// `printEvent`.
pub static EVENT: Printer = Printer { columns: EVENT_COLUMNS, row: event_row };

/// The first present string among the core/v1 and events.k8s.io/v1 spellings.
fn field<'a>(ev: &'a Value, core: &[&str], events: &[&str]) -> &'a str {
    match get(ev, core) {
        Some(Value::String(v)) => v,
        _ => str_at(ev, events),
    }
}

fn first_nonempty<'a>(a: &'a str, b: &'a str) -> &'a str {
    if a.is_empty() {
        b
    } else {
        a
    }
}

fn event_row(ev: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let first_ts = time_at(ev, &["firstTimestamp"]).or_else(|| time_at(ev, &["deprecatedFirstTimestamp"]));
    let last_ts = time_at(ev, &["lastTimestamp"]).or_else(|| time_at(ev, &["deprecatedLastTimestamp"]));

    // Events from the new API only carry eventTime.
    let first_seen = match first_ts {
        Some(t) => duration::since(Some(t), now),
        None => duration::since(time_at(ev, &["eventTime"]), now),
    };
    let mut last_seen = match last_ts {
        Some(t) => duration::since(Some(t), now),
        None => first_seen.clone(),
    };
    let mut count = opt_int(ev, &["count"]).or_else(|| opt_int(ev, &["deprecatedCount"])).unwrap_or(0);
    match get(ev, &["series"]) {
        Some(series) if series.is_object() => {
            last_seen = duration::since(time_at(series, &["lastObservedTime"]), now);
            count = int_at(series, &["count"]);
        }
        // Singleton events don't have a count set in the new API.
        _ if count == 0 => count = 1,
        _ => {}
    }

    let kind = field(ev, &["involvedObject", "kind"], &["regarding", "kind"]);
    let obj_name = field(ev, &["involvedObject", "name"], &["regarding", "name"]);
    let target = if obj_name.is_empty() { kind.to_lowercase() } else { format!("{}/{obj_name}", kind.to_lowercase()) };
    let field_path = field(ev, &["involvedObject", "fieldPath"], &["regarding", "fieldPath"]);

    // formatEventSource: component (or reportingController), then ", host"
    // (or reportingInstance) when known.
    let component = first_nonempty(
        field(ev, &["source", "component"], &["deprecatedSource", "component"]),
        field(ev, &["reportingComponent"], &["reportingController"]),
    );
    let host = first_nonempty(
        field(ev, &["source", "host"], &["deprecatedSource", "host"]),
        str_at(ev, &["reportingInstance"]),
    );
    let source = if host.is_empty() { component.to_string() } else { format!("{component}, {host}") };
    let message = field(ev, &["message"], &["note"]).trim();

    vec![
        s(last_seen),
        s(str_at(ev, &["type"])),
        s(str_at(ev, &["reason"])),
        s(target),
        s(field_path),
        s(source),
        s(message),
        s(first_seen),
        n(count),
        s(name(ev)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ts(now: DateTime<Utc>, days_ago: i64) -> String {
        (now - chrono::TimeDelta::days(days_ago)).to_rfc3339()
    }

    // Expected cells: printers_test.go TestPrintEvent (wide cells, which is what the
    // server always produces).
    #[test]
    fn basic_event() {
        let now = Utc::now();
        let ev = json!({
            "metadata": {"name": "event2"},
            "source": {"component": "kubelet", "host": "Node1"},
            "involvedObject": {"kind": "Deployment", "name": "Deployment Name", "fieldPath": "spec.containers{foo}"},
            "reason": "Event Reason",
            "message": "Message Data",
            "firstTimestamp": ts(now, 3),
            "lastTimestamp": ts(now, 2),
            "count": 6,
            "type": "Warning"
        });
        assert_eq!(
            event_row(&ev, now),
            vec![
                json!("2d"),
                json!("Warning"),
                json!("Event Reason"),
                json!("deployment/Deployment Name"),
                json!("spec.containers{foo}"),
                json!("kubelet, Node1"),
                json!("Message Data"),
                json!("3d"),
                json!(6),
                json!("event2")
            ]
        );
    }

    // printers_test.go TestPrintEvent: "Basic event serie, w/o FirstTimestamp,
    // LastTimestamp and Count set" and "Singleton event".
    #[test]
    fn series_and_singleton_events() {
        let now = Utc::now();
        let series = json!({
            "metadata": {"name": "event6"},
            "source": {"component": "kubelet", "host": "Node1"},
            "involvedObject": {"kind": "Deployment", "name": "Deployment Name", "fieldPath": "spec.containers{foo}"},
            "series": {"count": 2, "lastObservedTime": ts(now, 2)},
            "reason": "Event Reason",
            "message": "Message Data",
            "eventTime": ts(now, 3),
            "type": "Warning"
        });
        let cells = event_row(&series, now);
        assert_eq!(cells[0], json!("2d"));
        assert_eq!(cells[7], json!("3d"));
        assert_eq!(cells[8], json!(2));

        let singleton = json!({
            "metadata": {"name": "event7"},
            "involvedObject": {"kind": "Deployment", "name": "Deployment Name"},
            "reportingComponent": "kubelet",
            "reportingInstance": "test",
            "eventTime": ts(now, 3),
            "type": "Warning"
        });
        let cells = event_row(&singleton, now);
        assert_eq!(cells[0], json!("3d"));
        assert_eq!(cells[5], json!("kubelet, test"));
        assert_eq!(cells[8], json!(1));
    }

    // The same event stored in events.k8s.io/v1 shape prints the same row.
    #[test]
    fn events_k8s_io_shape() {
        let now = Utc::now();
        let ev = json!({
            "apiVersion": "events.k8s.io/v1",
            "kind": "Event",
            "metadata": {"name": "web.17a", "creationTimestamp": ts(now, 1)},
            "regarding": {"kind": "Pod", "name": "web"},
            "note": "  Pulled image  ",
            "reason": "Pulled",
            "type": "Normal",
            "reportingController": "kubelet",
            "reportingInstance": "node-1",
            "eventTime": ts(now, 1)
        });
        assert_eq!(
            event_row(&ev, now),
            vec![
                json!("24h"),
                json!("Normal"),
                json!("Pulled"),
                json!("pod/web"),
                json!(""),
                json!("kubelet, node-1"),
                json!("Pulled image"),
                json!("24h"),
                json!(1),
                json!("web.17a")
            ]
        );
    }
}
