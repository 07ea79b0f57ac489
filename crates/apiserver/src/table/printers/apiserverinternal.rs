//! `internal.apiserver.k8s.io` printer: printers.go `printStorageVersion`.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::helpers::{age, arr_at, list_with_more, name, opt_str, s, str_at};
use super::{col, Column, Printer, AGE_COLUMN, NAME_COLUMN};

const STORAGE_VERSION_COLUMNS: &[Column] = &[
    NAME_COLUMN,
    col("CommonEncodingVersion", "string", "If all API server instances agree on the same encoding storage version, then this field is set to that version.", 0),
    col("StorageVersions", "string", "The reported versions per API server instance.", 0),
    AGE_COLUMN,
];

/// `printStorageVersion`.
pub static STORAGE_VERSION: Printer = Printer { columns: STORAGE_VERSION_COLUMNS, row: storage_version_row };

/// `formatStorageVersions`: "apiServerID=encodingVersion", at most three.
fn format_storage_versions(versions: &[Value]) -> String {
    const MAX: usize = 3;
    let list: Vec<String> = versions
        .iter()
        .take(MAX)
        .map(|sv| format!("{}={}", str_at(sv, &["apiServerID"]), str_at(sv, &["encodingVersion"])))
        .collect();
    list_with_more(&list, versions.len() > MAX, versions.len(), MAX)
}

fn storage_version_row(obj: &Value, now: DateTime<Utc>) -> Vec<Value> {
    vec![
        s(name(obj)),
        s(opt_str(obj, &["status", "commonEncodingVersion"]).unwrap_or("<unset>")),
        s(format_storage_versions(arr_at(obj, &["status", "storageVersions"]))),
        s(age(obj, now)),
    ]
}
