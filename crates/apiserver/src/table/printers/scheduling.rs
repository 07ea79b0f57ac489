//! `scheduling.k8s.io` printer: printers.go `printPriorityClass`.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::helpers::{age, b, bool_at, int_at, n, name, s, str_at};
use super::{col, Column, Printer, AGE_COLUMN, NAME_COLUMN};

const PRIORITY_CLASS_COLUMNS: &[Column] = &[
    NAME_COLUMN,
    col("Value", "integer", "value represents the integer value of this priority class.", 0),
    col("Global-Default", "boolean", "globalDefault specifies whether this PriorityClass should be considered as the default priority for pods that do not have any priority class.", 0),
    AGE_COLUMN,
    col("PreemptionPolicy", "string", "preemptionPolicy is the Policy for preempting pods with lower priority.", 0),
];

/// `printPriorityClass`.
pub static PRIORITY_CLASS: Printer = Printer { columns: PRIORITY_CLASS_COLUMNS, row: priority_class_row };

fn priority_class_row(obj: &Value, now: DateTime<Utc>) -> Vec<Value> {
    vec![
        s(name(obj)),
        n(int_at(obj, &["value"])),
        b(bool_at(obj, &["globalDefault"])),
        s(age(obj, now)),
        s(str_at(obj, &["preemptionPolicy"])),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn system_priority_class() {
        let pc = json!({"metadata": {"name": "system-node-critical"}, "value": 2000001000, "preemptionPolicy": "PreemptLowerPriority"});
        assert_eq!(
            priority_class_row(&pc, Utc::now()),
            vec![
                json!("system-node-critical"),
                json!(2000001000),
                json!(false),
                json!("<unknown>"),
                json!("PreemptLowerPriority")
            ]
        );
    }
}
