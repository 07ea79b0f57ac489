//! The RBAC objects a kube-apiserver has from its first start (`bootstrap.yaml`): the
//! user-facing roles (`cluster-admin`, `admin`, `edit`, `view` and the roles they aggregate),
//! the `system:` roles every user relies on (discovery, basic-user, public-info-viewer) and
//! their bindings. Missing ones are created at start; existing ones are left as they are.

use serde_json::Value;

use crate::error::{ApiError, Result};

/// The objects, each with the resource it is created as.
pub fn objects() -> Result<Vec<(&'static str, Value)>> {
    let docs: Vec<Value> = serde_saphyr::from_multiple(include_str!("bootstrap.yaml"))
        .map_err(|e| ApiError::internal(format!("bootstrap RBAC policy unreadable: {e}")))?;
    Ok(docs
        .into_iter()
        .filter_map(|obj| {
            let resource = match obj.get("kind").and_then(Value::as_str)? {
                "ClusterRole" => "clusterroles",
                "ClusterRoleBinding" => "clusterrolebindings",
                "Role" => "roles",
                "RoleBinding" => "rolebindings",
                _ => return None,
            };
            Some((resource, obj))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_reads_and_binds_what_it_defines() {
        let objects = objects().unwrap();
        let roles: Vec<&str> = objects
            .iter()
            .filter(|(r, _)| *r == "clusterroles")
            .filter_map(|(_, o)| o.pointer("/metadata/name").and_then(Value::as_str))
            .collect();
        for name in ["cluster-admin", "admin", "edit", "view", "system:discovery", "system:basic-user"] {
            assert!(roles.contains(&name), "{name} missing");
        }
        for (_, binding) in objects.iter().filter(|(r, _)| *r == "clusterrolebindings") {
            let role = binding.pointer("/roleRef/name").and_then(Value::as_str).unwrap();
            assert!(roles.contains(&role), "binding to undefined {role}");
        }
    }
}
