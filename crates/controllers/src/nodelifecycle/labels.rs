//! kube's `reconcileNodeLabels`: the deprecated `beta.kubernetes.io/os` and `/arch` labels
//! follow the stable `kubernetes.io/os` and `/arch` ones, added when missing.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Node;
use kube::api::{Api, Patch, PatchParams};
use serde_json::json;

/// (stable label, its beta twin).
const TWINS: [(&str, &str); 2] =
    [("kubernetes.io/os", "beta.kubernetes.io/os"), ("kubernetes.io/arch", "beta.kubernetes.io/arch")];

/// The beta labels to set so they match the stable ones.
pub fn to_update(labels: Option<&BTreeMap<String, String>>) -> BTreeMap<String, String> {
    let Some(labels) = labels else { return BTreeMap::new() };
    TWINS
        .iter()
        .filter_map(|(stable, beta)| {
            let value = labels.get(*stable)?;
            (labels.get(*beta) != Some(value)).then(|| (beta.to_string(), value.clone()))
        })
        .collect()
}

/// Sets the beta labels of `node` if they differ from the stable ones.
pub async fn reconcile(api: &Api<Node>, node: &Node) -> Result<(), kube::Error> {
    let update = to_update(node.metadata.labels.as_ref());
    if update.is_empty() {
        return Ok(());
    }
    let name = node.metadata.name.as_deref().unwrap_or_default();
    api.patch(name, &PatchParams::default(), &Patch::Merge(&json!({"metadata": {"labels": update}}))).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn beta_labels_follow_the_stable_ones() {
        let l = labels(&[
            ("kubernetes.io/os", "linux"),
            ("kubernetes.io/arch", "arm64"),
            ("beta.kubernetes.io/arch", "amd64"),
        ]);
        assert_eq!(
            to_update(Some(&l)),
            labels(&[("beta.kubernetes.io/os", "linux"), ("beta.kubernetes.io/arch", "arm64")])
        );
        let done = labels(&[("kubernetes.io/os", "linux"), ("beta.kubernetes.io/os", "linux")]);
        assert!(to_update(Some(&done)).is_empty());
        // Without the stable label there is nothing to follow.
        assert!(to_update(Some(&labels(&[("beta.kubernetes.io/os", "windows")]))).is_empty());
        assert!(to_update(None).is_empty());
    }
}
