//! `storagemigration.k8s.io` printer: printers.go `printStorageVersionMigration`.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::helpers::{name, s, str_at};
use super::{col, Column, Printer, NAME_DESC};

// Unlike every other printer, kube gives this Name column no "name" format.
const STORAGE_VERSION_MIGRATION_COLUMNS: &[Column] =
    &[col("Name", "string", NAME_DESC, 0), col("Resource", "string", "Fully qualified resource to migrate", 0)];

/// `printStorageVersionMigration`.
pub static STORAGE_VERSION_MIGRATION: Printer =
    Printer { columns: STORAGE_VERSION_MIGRATION_COLUMNS, row: storage_version_migration_row };

fn storage_version_migration_row(obj: &Value, _now: DateTime<Utc>) -> Vec<Value> {
    let gvr = format!(
        "{}.{}.{}",
        str_at(obj, &["spec", "resource", "resource"]),
        str_at(obj, &["spec", "resource", "version"]),
        str_at(obj, &["spec", "resource", "group"])
    );
    vec![s(name(obj)), s(gvr)]
}
