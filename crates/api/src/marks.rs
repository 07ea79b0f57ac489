//! The marks the syncer writes on every super object it owns, and the reverse mapping read from
//! them: super object -> tenant, namespace, name and UID.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};

use crate::keys;

/// Who a super object belongs to: the VirtualCluster and the tenant object it copies.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Marks {
    /// The tenant's cluster key (label `nestor.dev/cluster`).
    pub cluster_key: String,
    pub vc_namespace: String,
    pub vc_name: String,
    pub vc_uid: String,
    /// The tenant namespace; empty for cluster-scoped objects.
    pub namespace: String,
    pub name: String,
    /// The UID of the tenant object.
    pub uid: String,
}

impl Marks {
    /// Writes the marks onto super metadata (labels and annotations), replacing any that were
    /// there. Call after `strip_reserved`.
    pub fn write(&self, meta: &mut ObjectMeta, owners: &[OwnerReference]) {
        let labels = meta.labels.get_or_insert_with(BTreeMap::new);
        labels.insert(keys::CLUSTER.into(), self.cluster_key.clone());
        let annotations = meta.annotations.get_or_insert_with(BTreeMap::new);
        for (key, value) in [
            (keys::TENANT_NAMESPACE, &self.namespace),
            (keys::TENANT_NAME, &self.name),
            (keys::TENANT_UID, &self.uid),
            (keys::VC_NAMESPACE, &self.vc_namespace),
            (keys::VC_NAME, &self.vc_name),
            (keys::VC_UID, &self.vc_uid),
        ] {
            annotations.insert(key.into(), value.clone());
        }
        if owners.is_empty() {
            annotations.remove(keys::TENANT_OWNER_REFERENCES);
        } else if let Ok(json) = serde_json::to_string(owners) {
            annotations.insert(keys::TENANT_OWNER_REFERENCES.into(), json);
        }
    }

    /// Reads the marks of a super object; `None` when it carries no complete set (not ours).
    pub fn read(meta: &ObjectMeta) -> Option<Marks> {
        let cluster_key = meta.labels.as_ref()?.get(keys::CLUSTER)?.clone();
        let annotations = meta.annotations.as_ref()?;
        let get = |key: &str| annotations.get(key).cloned();
        let marks = Marks {
            cluster_key,
            namespace: get(keys::TENANT_NAMESPACE).unwrap_or_default(),
            name: get(keys::TENANT_NAME)?,
            uid: get(keys::TENANT_UID)?,
            vc_namespace: get(keys::VC_NAMESPACE)?,
            vc_name: get(keys::VC_NAME)?,
            vc_uid: get(keys::VC_UID)?,
        };
        (!marks.cluster_key.is_empty() && !marks.name.is_empty() && !marks.uid.is_empty()).then_some(marks)
    }

    /// The tenant owner references kept on a super object.
    pub fn owner_references(meta: &ObjectMeta) -> Vec<OwnerReference> {
        meta.annotations
            .as_ref()
            .and_then(|a| a.get(keys::TENANT_OWNER_REFERENCES))
            .and_then(|json| serde_json::from_str(json).ok())
            .unwrap_or_default()
    }
}

/// Removes every `nestor.dev/` label and annotation: a tenant's own keys under the prefix never
/// reach the super cluster, so no tenant can forge marks.
pub fn strip_reserved(meta: &mut ObjectMeta) {
    for map in [&mut meta.labels, &mut meta.annotations].into_iter().flatten() {
        map.retain(|key, _| !keys::is_reserved(key));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marks() -> Marks {
        Marks {
            cluster_key: "blue-4e2d0d3f".into(),
            vc_namespace: "tenants".into(),
            vc_name: "blue".into(),
            vc_uid: "vc-uid".into(),
            namespace: "prod".into(),
            name: "web".into(),
            uid: "pod-uid".into(),
        }
    }

    #[test]
    fn marks_round_trip_and_forged_tenant_keys_are_stripped() {
        let mut meta = ObjectMeta {
            labels: Some([("app".into(), "web".into()), (keys::CLUSTER.into(), "green-00000000".into())].into()),
            annotations: Some([(keys::TENANT_UID.into(), "someone-else".into())].into()),
            ..Default::default()
        };
        strip_reserved(&mut meta);
        assert_eq!(meta.labels.as_ref().unwrap().len(), 1);
        assert!(meta.annotations.as_ref().unwrap().is_empty());
        assert_eq!(Marks::read(&meta), None);
        let owner = OwnerReference {
            api_version: "apps/v1".into(),
            kind: "ReplicaSet".into(),
            name: "web-1".into(),
            uid: "rs".into(),
            ..Default::default()
        };
        marks().write(&mut meta, std::slice::from_ref(&owner));
        assert_eq!(Marks::read(&meta), Some(marks()));
        assert_eq!(Marks::owner_references(&meta), vec![owner]);
        assert_eq!(meta.labels.as_ref().unwrap()["app"], "web");
    }

    #[test]
    fn an_incomplete_set_of_marks_is_not_ours() {
        let mut meta = ObjectMeta::default();
        marks().write(&mut meta, &[]);
        meta.annotations.as_mut().unwrap().remove(keys::TENANT_UID);
        assert_eq!(Marks::read(&meta), None);
    }
}
