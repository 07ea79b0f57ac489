//! `resource.k8s.io` (DRA) printers: printers.go `printDeviceClass`,
//! `printResourceClaim`, `printResourceClaimTemplate`, `printResourceSlice`.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::helpers::{age, arr_at, get, is_deleting, name, s, str_at};
use super::{col, Column, Printer, AGE_COLUMN, NAME_COLUMN};

const NAME_AGE_COLUMNS: &[Column] = &[NAME_COLUMN, AGE_COLUMN];

fn name_age_row(obj: &Value, now: DateTime<Utc>) -> Vec<Value> {
    vec![s(name(obj)), s(age(obj, now))]
}

/// `printDeviceClass`.
pub static DEVICE_CLASS: Printer = Printer { columns: NAME_AGE_COLUMNS, row: name_age_row };

/// `printResourceClaimTemplate`.
pub static RESOURCE_CLAIM_TEMPLATE: Printer = Printer { columns: NAME_AGE_COLUMNS, row: name_age_row };

const RESOURCE_CLAIM_COLUMNS: &[Column] = &[
    NAME_COLUMN,
    col("State", "string", "A summary of the current state (allocated, pending, reserved, etc.).", 0),
    AGE_COLUMN,
];

/// `printResourceClaim`.
pub static RESOURCE_CLAIM: Printer = Printer { columns: RESOURCE_CLAIM_COLUMNS, row: resource_claim_row };

/// `resourceClaimState`: "deleted", "pending", "allocated", "reserved", comma-joined.
fn resource_claim_state(obj: &Value) -> String {
    let mut states = Vec::new();
    let deleting = is_deleting(obj);
    if deleting {
        states.push("deleted");
    }
    match get(obj, &["status", "allocation"]) {
        Some(a) if a.is_object() => {
            states.push("allocated");
            if !arr_at(obj, &["status", "reservedFor"]).is_empty() {
                states.push("reserved");
            }
        }
        _ if !deleting => states.push("pending"),
        _ => {}
    }
    states.join(",")
}

fn resource_claim_row(obj: &Value, now: DateTime<Utc>) -> Vec<Value> {
    vec![s(name(obj)), s(resource_claim_state(obj)), s(age(obj, now))]
}

const RESOURCE_SLICE_COLUMNS: &[Column] = &[
    NAME_COLUMN,
    col("Node", "string", "NodeName identifies the node which provides the resources in this pool.", 0),
    col("Driver", "string", "Driver identifies the DRA driver providing the capacity information.", 0),
    col("Pool", "string", "Name is used to identify the pool.", 0),
    AGE_COLUMN,
];

/// `printResourceSlice`.
pub static RESOURCE_SLICE: Printer = Printer { columns: RESOURCE_SLICE_COLUMNS, row: resource_slice_row };

fn resource_slice_row(obj: &Value, now: DateTime<Utc>) -> Vec<Value> {
    vec![
        s(name(obj)),
        s(str_at(obj, &["spec", "nodeName"])),
        s(str_at(obj, &["spec", "driver"])),
        s(str_at(obj, &["spec", "pool", "name"])),
        s(age(obj, now)),
    ]
}
