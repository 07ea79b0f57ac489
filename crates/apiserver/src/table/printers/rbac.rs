//! `rbac.authorization.k8s.io` printers: printers.go `printRoleBinding` and
//! `printClusterRoleBinding`. Roles and ClusterRoles have no printer in kube and use
//! the default Name/Created At table.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::helpers::{age, arr_at, name, s, str_at};
use super::{col, Column, Printer, AGE_COLUMN, NAME_COLUMN};

const ROLE_BINDING_COLUMNS: &[Column] = &[
    NAME_COLUMN,
    col(
        "Role",
        "string",
        "RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace.",
        0,
    ),
    AGE_COLUMN,
    col("Users", "string", "Users in the roleBinding", 1),
    col("Groups", "string", "Groups in the roleBinding", 1),
    col("ServiceAccounts", "string", "ServiceAccounts in the roleBinding", 1),
];

/// `printRoleBinding`.
pub static ROLE_BINDING: Printer = Printer { columns: ROLE_BINDING_COLUMNS, row: binding_row };

const CLUSTER_ROLE_BINDING_COLUMNS: &[Column] = &[
    NAME_COLUMN,
    col("Role", "string", "RoleRef can only reference a ClusterRole in the global namespace.", 0),
    AGE_COLUMN,
    col("Users", "string", "Users in the clusterRoleBinding", 1),
    col("Groups", "string", "Groups in the clusterRoleBinding", 1),
    col("ServiceAccounts", "string", "ServiceAccounts in the clusterRoleBinding", 1),
];

/// `printClusterRoleBinding`.
pub static CLUSTER_ROLE_BINDING: Printer = Printer { columns: CLUSTER_ROLE_BINDING_COLUMNS, row: binding_row };

/// `rbac.SubjectsStrings`: users, groups and "namespace/name" service accounts.
fn subjects(obj: &Value) -> (Vec<&str>, Vec<&str>, Vec<String>) {
    let (mut users, mut groups, mut sas) = (Vec::new(), Vec::new(), Vec::new());
    for subj in arr_at(obj, &["subjects"]) {
        let subject_name = str_at(subj, &["name"]);
        match str_at(subj, &["kind"]) {
            "ServiceAccount" => sas.push(format!("{}/{subject_name}", str_at(subj, &["namespace"]))),
            "User" => users.push(subject_name),
            "Group" => groups.push(subject_name),
            _ => {}
        }
    }
    (users, groups, sas)
}

fn binding_row(obj: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let role = format!("{}/{}", str_at(obj, &["roleRef", "kind"]), str_at(obj, &["roleRef", "name"]));
    let (users, groups, sas) = subjects(obj);
    vec![s(name(obj)), s(role), s(age(obj, now)), s(users.join(", ")), s(groups.join(", ")), s(sas.join(", "))]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    // Expected cells: printers_test.go TestPrintRoleBinding (wide).
    #[test]
    fn role_binding() {
        let now = Utc::now();
        let rb = json!({
            "metadata": {"name": "binding2", "creationTimestamp": (now + chrono::TimeDelta::milliseconds(1900)).to_rfc3339()},
            "subjects": [
                {"kind": "User", "name": "user-name"},
                {"kind": "Group", "name": "group-name"},
                {"kind": "ServiceAccount", "name": "service-account-name", "namespace": "service-account-namespace"}
            ],
            "roleRef": {"kind": "Role", "name": "role-name"}
        });
        assert_eq!(
            binding_row(&rb, now),
            vec![
                json!("binding2"),
                json!("Role/role-name"),
                json!("0s"),
                json!("user-name"),
                json!("group-name"),
                json!("service-account-namespace/service-account-name")
            ]
        );
    }
}
