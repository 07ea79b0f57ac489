//! `coordination.k8s.io` printers: printers.go `printLease` and `printLeaseCandidate`.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::helpers::{age, name, s, str_at};
use super::{col, Column, Printer, AGE_COLUMN, NAME_COLUMN};

const LEASE_COLUMNS: &[Column] = &[
    NAME_COLUMN,
    col("Holder", "string", "holderIdentity contains the identity of the holder of a current lease.", 0),
    AGE_COLUMN,
];

/// `printLease`.
pub static LEASE: Printer = Printer { columns: LEASE_COLUMNS, row: lease_row };

fn lease_row(obj: &Value, now: DateTime<Utc>) -> Vec<Value> {
    vec![s(name(obj)), s(str_at(obj, &["spec", "holderIdentity"])), s(age(obj, now))]
}

// kube looks the two version descriptions up in ObjectMeta's swagger docs, which
// have no such keys, so they are empty.
const LEASE_CANDIDATE_COLUMNS: &[Column] = &[
    NAME_COLUMN,
    col("LeaseName", "string", "LeaseName is the name of the lease for which this candidate is contending.", 0),
    col("BinaryVersion", "string", "", 0),
    col("EmulationVersion", "string", "", 0),
    AGE_COLUMN,
];

/// `printLeaseCandidate`.
pub static LEASE_CANDIDATE: Printer = Printer { columns: LEASE_CANDIDATE_COLUMNS, row: lease_candidate_row };

fn lease_candidate_row(obj: &Value, now: DateTime<Utc>) -> Vec<Value> {
    vec![
        s(name(obj)),
        s(str_at(obj, &["spec", "leaseName"])),
        s(str_at(obj, &["spec", "binaryVersion"])),
        s(str_at(obj, &["spec", "emulationVersion"])),
        s(age(obj, now)),
    ]
}
