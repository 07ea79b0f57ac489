//! The kinds the syncer copies down, and how each one is addressed in both clusters.

use kube::core::{ApiResource, GroupVersionKind};

use crate::convert::Kind;

/// One synced kind: its API resource (the same in the tenant and in the super cluster) and its
/// conversion rules.
#[derive(Debug, Clone, PartialEq)]
pub struct Synced {
    pub kind: Kind,
    pub resource: ApiResource,
    pub namespaced: bool,
    /// Whether the kind has a status that flows up (written through the status subresource).
    pub status_up: bool,
    /// `pods`, `widgets.example.com`: kept, as every queue item and lookup names it.
    label: String,
}

impl Synced {
    fn core(kind: Kind, name: &str, plural: &str, namespaced: bool, status_up: bool) -> Synced {
        let resource = ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk("", "v1", name), plural);
        Self::new(kind, resource, namespaced, status_up)
    }

    /// The built-in kinds, namespaces first: everything else lives in one.
    pub fn builtins() -> Vec<Synced> {
        vec![
            Self::core(Kind::Namespace, "Namespace", "namespaces", false, false),
            Self::core(Kind::ServiceAccount, "ServiceAccount", "serviceaccounts", true, false),
            Self::core(Kind::ConfigMap, "ConfigMap", "configmaps", true, false),
            Self::core(Kind::Secret, "Secret", "secrets", true, false),
            Self::core(Kind::PersistentVolumeClaim, "PersistentVolumeClaim", "persistentvolumeclaims", true, true),
            Self::core(Kind::Service, "Service", "services", true, true),
            Self::core(Kind::Endpoints, "Endpoints", "endpoints", true, false),
            Self::core(Kind::Pod, "Pod", "pods", true, true),
        ]
    }

    /// A custom resource listed in a VirtualCluster's `spec.sync.customResources`.
    pub fn custom(group: &str, version: &str, kind: &str, plural: &str, namespaced: bool) -> Synced {
        let resource = ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, kind), plural);
        Self::new(Kind::Custom, resource, namespaced, true)
    }

    fn new(kind: Kind, resource: ApiResource, namespaced: bool, status_up: bool) -> Synced {
        let label = if resource.group.is_empty() {
            resource.plural.clone()
        } else {
            format!("{}.{}", resource.plural, resource.group)
        };
        Synced { kind, resource, namespaced, status_up, label }
    }

    /// A short name for logs and metric labels: `pods`, `widgets.example.com`.
    pub fn label(&self) -> &str {
        &self.label
    }
}
