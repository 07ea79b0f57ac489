//! `policy` printer: printers.go `printPodDisruptionBudget`.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::helpers::{age, get, int_at, int_or_string, n, name, s};
use super::{col, Column, Printer, AGE_COLUMN, NAME_COLUMN};

const PDB_COLUMNS: &[Column] = &[
    NAME_COLUMN,
    col("Min Available", "string", "The minimum number of pods that must be available.", 0),
    col("Max Unavailable", "string", "The maximum number of pods that may be unavailable.", 0),
    col("Allowed Disruptions", "integer", "Calculated number of pods that may be disrupted at this time.", 0),
    AGE_COLUMN,
];

/// `printPodDisruptionBudget`.
pub static POD_DISRUPTION_BUDGET: Printer = Printer { columns: PDB_COLUMNS, row: pdb_row };

/// An IntOrString field, or "N/A" when unset.
fn int_or_na(obj: &Value, path: &[&str]) -> String {
    match get(obj, path) {
        Some(v) if !v.is_null() => int_or_string(v),
        _ => "N/A".to_string(),
    }
}

fn pdb_row(obj: &Value, now: DateTime<Utc>) -> Vec<Value> {
    vec![
        s(name(obj)),
        s(int_or_na(obj, &["spec", "minAvailable"])),
        s(int_or_na(obj, &["spec", "maxUnavailable"])),
        n(int_at(obj, &["status", "disruptionsAllowed"])),
        s(age(obj, now)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    // Expected cells: printers_test.go TestPrintPodDisruptionBudget.
    #[test]
    fn pdb() {
        let now = Utc::now();
        let a =
            json!({"metadata": {"name": "pdb1"}, "spec": {"minAvailable": 22}, "status": {"disruptionsAllowed": 5}});
        assert_eq!(pdb_row(&a, now), vec![json!("pdb1"), json!("22"), json!("N/A"), json!(5), json!("<unknown>")]);
        let b =
            json!({"metadata": {"name": "pdb2"}, "spec": {"maxUnavailable": 11}, "status": {"disruptionsAllowed": 5}});
        assert_eq!(pdb_row(&b, now), vec![json!("pdb2"), json!("N/A"), json!("11"), json!(5), json!("<unknown>")]);
        // Percentages print as written.
        let c = json!({"metadata": {"name": "pdb3"}, "spec": {"maxUnavailable": "50%"}});
        assert_eq!(pdb_row(&c, now)[2], json!("50%"));
    }
}
