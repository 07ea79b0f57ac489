//! `node.k8s.io` printer: printers.go `printRuntimeClass`.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::helpers::{age, name, s, str_at};
use super::{col, Column, Printer, AGE_COLUMN, NAME_COLUMN};

// kube looks "handler" up in ObjectMeta's swagger docs, which has no such key.
const RUNTIME_CLASS_COLUMNS: &[Column] = &[NAME_COLUMN, col("Handler", "string", "", 0), AGE_COLUMN];

/// `printRuntimeClass`.
pub static RUNTIME_CLASS: Printer = Printer { columns: RUNTIME_CLASS_COLUMNS, row: runtime_class_row };

fn runtime_class_row(obj: &Value, now: DateTime<Utc>) -> Vec<Value> {
    vec![s(name(obj)), s(str_at(obj, &["handler"])), s(age(obj, now))]
}
