//! `flowcontrol.apiserver.k8s.io` printers: printers.go `printFlowSchema` and
//! `printPriorityLevelConfiguration`.
//!
//! kube also sorts FlowSchema *lists* by matching precedence before printing; that
//! is a list-level step for the caller, not part of a row.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::helpers::{age, arr_at, get, int_at, n, name, opt_int, s, str_at};
use super::{col, Column, Printer, AGE_COLUMN, NAME_COLUMN};

const FLOW_SCHEMA_COLUMNS: &[Column] = &[
    NAME_COLUMN,
    col(
        "PriorityLevel",
        "string",
        "`name` is the name of the priority level configuration being referenced Required.",
        0,
    ),
    col(
        "MatchingPrecedence",
        "string",
        "`matchingPrecedence` is used to choose among the FlowSchemas that match a given request.",
        0,
    ),
    col(
        "DistinguisherMethod",
        "string",
        "`distinguisherMethod` defines how to compute the flow distinguisher for requests that match this schema.",
        0,
    ),
    AGE_COLUMN,
    col("MissingPL", "string", "references a broken or non-existent PriorityLevelConfiguration", 0),
];

/// `printFlowSchema`.
pub static FLOW_SCHEMA: Printer = Printer { columns: FLOW_SCHEMA_COLUMNS, row: flow_schema_row };

fn flow_schema_row(obj: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let distinguisher = match get(obj, &["spec", "distinguisherMethod"]) {
        Some(d) if d.is_object() => str_at(d, &["type"]).to_string(),
        _ => "<none>".to_string(),
    };
    // The Dangling condition's status, "?" until the controller has set it.
    let missing_pl = arr_at(obj, &["status", "conditions"])
        .iter()
        .find(|c| str_at(c, &["type"]) == "Dangling")
        .map(|c| str_at(c, &["status"]).to_string())
        .unwrap_or_else(|| "?".to_string());
    vec![
        s(name(obj)),
        s(str_at(obj, &["spec", "priorityLevelConfiguration", "name"])),
        n(int_at(obj, &["spec", "matchingPrecedence"])),
        s(distinguisher),
        s(age(obj, now)),
        s(missing_pl),
    ]
}

const PRIORITY_LEVEL_COLUMNS: &[Column] = &[
    NAME_COLUMN,
    col("Type", "string", "`type` indicates whether this priority level is subject to limitation on request execution.", 0),
    col("NominalConcurrencyShares", "string", "`nominalConcurrencyShares` (NCS) contributes to the computation of the NominalConcurrencyLimit (NominalCL) of this level.", 0),
    col("Queues", "string", "`queues` is the number of queues for this priority level.", 0),
    col("HandSize", "string", "`handSize` is a small positive number that configures the shuffle sharding of requests into queues.", 0),
    col("QueueLengthLimit", "string", "`queueLengthLimit` is the maximum number of requests allowed to be waiting in a given queue of this priority level at a time; excess requests are rejected.", 0),
    AGE_COLUMN,
];

/// `printPriorityLevelConfiguration`.
pub static PRIORITY_LEVEL: Printer = Printer { columns: PRIORITY_LEVEL_COLUMNS, row: priority_level_row };

fn priority_level_row(obj: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let none = || s("<none>");
    let (mut ncs, mut queues, mut hand_size, mut queue_length) = (none(), none(), none(), none());
    if let Some(limited) = get(obj, &["spec", "limited"]).filter(|v| v.is_object()) {
        // Absent values read as flowcontrol/v1 defaults (30 shares; 64 queues,
        // hand size 8, 50 per queue).
        ncs = n(opt_int(limited, &["nominalConcurrencyShares"]).unwrap_or(30));
        if let Some(q) = get(limited, &["limitResponse", "queuing"]).filter(|v| v.is_object()) {
            queues = n(opt_int(q, &["queues"]).unwrap_or(64));
            hand_size = n(opt_int(q, &["handSize"]).unwrap_or(8));
            queue_length = n(opt_int(q, &["queueLengthLimit"]).unwrap_or(50));
        }
    }
    vec![s(name(obj)), s(str_at(obj, &["spec", "type"])), ncs, queues, hand_size, queue_length, s(age(obj, now))]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn flow_control() {
        let now = Utc::now();
        let fs = json!({
            "metadata": {"name": "exempt"},
            "spec": {"priorityLevelConfiguration": {"name": "exempt"}, "matchingPrecedence": 1},
            "status": {"conditions": [{"type": "Dangling", "status": "False"}]}
        });
        assert_eq!(
            flow_schema_row(&fs, now),
            vec![json!("exempt"), json!("exempt"), json!(1), json!("<none>"), json!("<unknown>"), json!("False")]
        );
        let pl = json!({
            "metadata": {"name": "global-default"},
            "spec": {"type": "Limited", "limited": {"nominalConcurrencyShares": 20, "limitResponse": {"type": "Queue", "queuing": {"queues": 128, "handSize": 6, "queueLengthLimit": 50}}}}
        });
        assert_eq!(priority_level_row(&pl, now)[1..6], [json!("Limited"), json!(20), json!(128), json!(6), json!(50)]);
        let exempt = json!({"metadata": {"name": "exempt"}, "spec": {"type": "Exempt", "exempt": {}}});
        assert_eq!(
            priority_level_row(&exempt, now)[2..6],
            [json!("<none>"), json!("<none>"), json!("<none>"), json!("<none>")]
        );
    }
}
