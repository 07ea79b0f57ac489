//! Per-resource Table printers, ported from kube-apiserver v1.32's
//! `pkg/printers/internalversion/printers.go` (plus the aggregator's APIService printer).
//!
//! kube-apiserver always generates rows with `GenerateOptions{Wide: true}` and lets
//! kubectl hide `priority: 1` columns unless `-o wide`, so every row function here
//! returns the wide cells. Resources without a printer (roles, clusterroles,
//! limitranges, customresourcedefinitions, ...) use [`super::default`].

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

pub mod duration;
pub mod helpers;

mod admissionregistration;
mod apiregistration;
mod apiserverinternal;
mod apps;
mod autoscaling;
mod batch;
mod certificates;
mod coordination;
mod core;
mod discovery;
mod events;
mod flowcontrol;
mod networking;
mod node;
mod pods;
mod policy;
mod rbac;
mod resource;
mod scheduling;
mod storage;
mod storagemigration;

/// One `meta.k8s.io/v1` `TableColumnDefinition`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Column {
    /// Human-readable header, e.g. "Ready".
    pub name: &'static str,
    /// OpenAPI type: "string", "integer", "number", "boolean" or "date".
    #[serde(rename = "type")]
    pub type_: &'static str,
    /// OpenAPI format hint; "name" marks the object-name column.
    pub format: &'static str,
    /// Column description (kube takes it from the swagger docs).
    pub description: &'static str,
    /// 0 for the default view, 1 for columns only `-o wide` shows.
    pub priority: i32,
}

/// The columns and row function for one resource.
#[derive(Debug, Clone, Copy)]
pub struct Printer {
    /// Column definitions, in cell order.
    pub columns: &'static [Column],
    /// Builds the cells of one object's row, given the current time for ages.
    pub row: fn(&Value, DateTime<Utc>) -> Vec<Value>,
}

/// `metav1.ObjectMeta{}.SwaggerDoc()["name"]`.
pub const NAME_DESC: &str = "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";

/// `metav1.ObjectMeta{}.SwaggerDoc()["creationTimestamp"]`.
pub const CREATION_DESC: &str = "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";

pub(crate) const CONTAINERS_DESC: &str = "Names of each container in the template.";
pub(crate) const IMAGES_DESC: &str = "Images referenced by each container in the template.";

/// The "Name" column every printer starts with.
pub const NAME_COLUMN: Column = col_fmt("Name", "string", "name", NAME_DESC, 0);
/// The "Age" column (a string cell holding a human duration).
pub const AGE_COLUMN: Column = col("Age", "string", CREATION_DESC, 0);

/// Builds a column without a format.
pub(crate) const fn col(name: &'static str, type_: &'static str, description: &'static str, priority: i32) -> Column {
    Column { name, type_, format: "", description, priority }
}

/// Builds a column with a format.
pub(crate) const fn col_fmt(
    name: &'static str,
    type_: &'static str,
    format: &'static str,
    description: &'static str,
    priority: i32,
) -> Column {
    Column { name, type_, format, description, priority }
}

/// The printer kube-apiserver v1.32 uses for `group`/`resource` (plural, lowercase;
/// core is ""), or `None` when kube falls back to the default Name/Created At table.
pub fn printer(group: &str, resource: &str) -> Option<&'static Printer> {
    let p: &'static Printer = match (group, resource) {
        ("", "pods") => &pods::POD,
        ("", "podtemplates") => &pods::POD_TEMPLATE,
        ("", "replicationcontrollers") => &core::REPLICATION_CONTROLLER,
        ("", "services") => &core::SERVICE,
        ("", "endpoints") => &core::ENDPOINTS,
        ("", "nodes") => &core::NODE,
        ("", "events") | ("events.k8s.io", "events") => &events::EVENT,
        ("", "namespaces") => &core::NAMESPACE,
        ("", "secrets") => &core::SECRET,
        ("", "serviceaccounts") => &core::SERVICE_ACCOUNT,
        ("", "persistentvolumes") => &core::PERSISTENT_VOLUME,
        ("", "persistentvolumeclaims") => &core::PERSISTENT_VOLUME_CLAIM,
        ("", "componentstatuses") => &core::COMPONENT_STATUS,
        ("", "configmaps") => &core::CONFIG_MAP,
        ("", "resourcequotas") => &core::RESOURCE_QUOTA,
        ("apps", "deployments") => &apps::DEPLOYMENT,
        ("apps", "replicasets") => &apps::REPLICA_SET,
        ("apps", "statefulsets") => &apps::STATEFUL_SET,
        ("apps", "daemonsets") => &apps::DAEMON_SET,
        ("apps", "controllerrevisions") => &apps::CONTROLLER_REVISION,
        ("batch", "jobs") => &batch::JOB,
        ("batch", "cronjobs") => &batch::CRON_JOB,
        ("autoscaling", "horizontalpodautoscalers") => &autoscaling::HPA,
        ("networking.k8s.io", "ingresses") => &networking::INGRESS,
        ("networking.k8s.io", "ingressclasses") => &networking::INGRESS_CLASS,
        ("networking.k8s.io", "networkpolicies") => &networking::NETWORK_POLICY,
        ("networking.k8s.io", "ipaddresses") => &networking::IP_ADDRESS,
        ("networking.k8s.io", "servicecidrs") => &networking::SERVICE_CIDR,
        ("policy", "poddisruptionbudgets") => &policy::POD_DISRUPTION_BUDGET,
        ("rbac.authorization.k8s.io", "rolebindings") => &rbac::ROLE_BINDING,
        ("rbac.authorization.k8s.io", "clusterrolebindings") => &rbac::CLUSTER_ROLE_BINDING,
        ("storage.k8s.io", "storageclasses") => &storage::STORAGE_CLASS,
        ("storage.k8s.io", "volumeattributesclasses") => &storage::VOLUME_ATTRIBUTES_CLASS,
        ("storage.k8s.io", "volumeattachments") => &storage::VOLUME_ATTACHMENT,
        ("storage.k8s.io", "csinodes") => &storage::CSI_NODE,
        ("storage.k8s.io", "csidrivers") => &storage::CSI_DRIVER,
        ("storage.k8s.io", "csistoragecapacities") => &storage::CSI_STORAGE_CAPACITY,
        ("coordination.k8s.io", "leases") => &coordination::LEASE,
        ("coordination.k8s.io", "leasecandidates") => &coordination::LEASE_CANDIDATE,
        ("discovery.k8s.io", "endpointslices") => &discovery::ENDPOINT_SLICE,
        ("scheduling.k8s.io", "priorityclasses") => &scheduling::PRIORITY_CLASS,
        ("node.k8s.io", "runtimeclasses") => &node::RUNTIME_CLASS,
        ("certificates.k8s.io", "certificatesigningrequests") => &certificates::CSR,
        ("certificates.k8s.io", "clustertrustbundles") => &certificates::CLUSTER_TRUST_BUNDLE,
        ("admissionregistration.k8s.io", "mutatingwebhookconfigurations") => &admissionregistration::MUTATING_WEBHOOK,
        ("admissionregistration.k8s.io", "validatingwebhookconfigurations") => {
            &admissionregistration::VALIDATING_WEBHOOK
        }
        ("admissionregistration.k8s.io", "validatingadmissionpolicies") => {
            &admissionregistration::VALIDATING_ADMISSION_POLICY
        }
        ("admissionregistration.k8s.io", "validatingadmissionpolicybindings") => {
            &admissionregistration::VALIDATING_ADMISSION_POLICY_BINDING
        }
        ("admissionregistration.k8s.io", "mutatingadmissionpolicies") => {
            &admissionregistration::MUTATING_ADMISSION_POLICY
        }
        ("admissionregistration.k8s.io", "mutatingadmissionpolicybindings") => {
            &admissionregistration::MUTATING_ADMISSION_POLICY_BINDING
        }
        ("flowcontrol.apiserver.k8s.io", "flowschemas") => &flowcontrol::FLOW_SCHEMA,
        ("flowcontrol.apiserver.k8s.io", "prioritylevelconfigurations") => &flowcontrol::PRIORITY_LEVEL,
        ("internal.apiserver.k8s.io", "storageversions") => &apiserverinternal::STORAGE_VERSION,
        ("resource.k8s.io", "deviceclasses") => &resource::DEVICE_CLASS,
        ("resource.k8s.io", "resourceclaims") => &resource::RESOURCE_CLAIM,
        ("resource.k8s.io", "resourceclaimtemplates") => &resource::RESOURCE_CLAIM_TEMPLATE,
        ("resource.k8s.io", "resourceslices") => &resource::RESOURCE_SLICE,
        ("storagemigration.k8s.io", "storageversionmigrations") => &storagemigration::STORAGE_VERSION_MIGRATION,
        ("apiregistration.k8s.io", "apiservices") => &apiregistration::API_SERVICE,
        _ => return None,
    };
    Some(p)
}

/// The `rows[].conditions` kube attaches to a row, if any.
///
/// Only pods have them: a Succeeded or Failed pod's row carries a `Completed`
/// condition (printers.go `podSuccessConditions` / `podFailedConditions`).
pub fn row_conditions(group: &str, resource: &str, obj: &Value) -> Option<Value> {
    match (group, resource) {
        ("", "pods") => pods::row_conditions(obj),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ALL: &[(&str, &str)] = &[
        ("", "pods"),
        ("", "podtemplates"),
        ("", "replicationcontrollers"),
        ("", "services"),
        ("", "endpoints"),
        ("", "nodes"),
        ("", "events"),
        ("events.k8s.io", "events"),
        ("", "namespaces"),
        ("", "secrets"),
        ("", "serviceaccounts"),
        ("", "persistentvolumes"),
        ("", "persistentvolumeclaims"),
        ("", "componentstatuses"),
        ("", "configmaps"),
        ("", "resourcequotas"),
        ("apps", "deployments"),
        ("apps", "replicasets"),
        ("apps", "statefulsets"),
        ("apps", "daemonsets"),
        ("apps", "controllerrevisions"),
        ("batch", "jobs"),
        ("batch", "cronjobs"),
        ("autoscaling", "horizontalpodautoscalers"),
        ("networking.k8s.io", "ingresses"),
        ("networking.k8s.io", "ingressclasses"),
        ("networking.k8s.io", "networkpolicies"),
        ("networking.k8s.io", "servicecidrs"),
        ("policy", "poddisruptionbudgets"),
        ("rbac.authorization.k8s.io", "rolebindings"),
        ("rbac.authorization.k8s.io", "clusterrolebindings"),
        ("storage.k8s.io", "storageclasses"),
        ("storage.k8s.io", "volumeattributesclasses"),
        ("storage.k8s.io", "volumeattachments"),
        ("storage.k8s.io", "csinodes"),
        ("storage.k8s.io", "csidrivers"),
        ("storage.k8s.io", "csistoragecapacities"),
        ("coordination.k8s.io", "leases"),
        ("coordination.k8s.io", "leasecandidates"),
        ("discovery.k8s.io", "endpointslices"),
        ("scheduling.k8s.io", "priorityclasses"),
        ("node.k8s.io", "runtimeclasses"),
        ("certificates.k8s.io", "certificatesigningrequests"),
        ("certificates.k8s.io", "clustertrustbundles"),
        ("admissionregistration.k8s.io", "mutatingwebhookconfigurations"),
        ("admissionregistration.k8s.io", "validatingwebhookconfigurations"),
        ("admissionregistration.k8s.io", "validatingadmissionpolicies"),
        ("admissionregistration.k8s.io", "validatingadmissionpolicybindings"),
        ("admissionregistration.k8s.io", "mutatingadmissionpolicies"),
        ("admissionregistration.k8s.io", "mutatingadmissionpolicybindings"),
        ("flowcontrol.apiserver.k8s.io", "flowschemas"),
        ("flowcontrol.apiserver.k8s.io", "prioritylevelconfigurations"),
        ("internal.apiserver.k8s.io", "storageversions"),
        ("resource.k8s.io", "deviceclasses"),
        ("resource.k8s.io", "resourceclaims"),
        ("resource.k8s.io", "resourceclaimtemplates"),
        ("resource.k8s.io", "resourceslices"),
        ("storagemigration.k8s.io", "storageversionmigrations"),
        ("apiregistration.k8s.io", "apiservices"),
    ];

    // Every printer yields one cell per column, even for an empty object, and the
    // first column of each is kube's "Name" (printers.go AddHandlers).
    #[test]
    fn cells_match_columns_for_empty_objects() {
        let now = Utc::now();
        for (g, r) in ALL {
            let p = printer(g, r).unwrap_or_else(|| unreachable!("{g}/{r} has no printer"));
            let cells = (p.row)(&json!({}), now);
            assert_eq!(cells.len(), p.columns.len(), "{g}/{r}");
        }
    }

    // kube-apiserver serves these with rest.DefaultTableConvertor (no printer registered).
    #[test]
    fn default_table_resources_have_no_printer() {
        for (g, r) in [
            ("", "limitranges"),
            ("rbac.authorization.k8s.io", "roles"),
            ("rbac.authorization.k8s.io", "clusterroles"),
            ("apiextensions.k8s.io", "customresourcedefinitions"),
            ("example.com", "widgets"),
        ] {
            assert!(printer(g, r).is_none(), "{g}/{r}");
        }
    }

    // printers.go registers IPAddress with two columns (Name, ParentRef) but its row
    // function appends an age as a third cell; kube serves that mismatch as is.
    #[test]
    fn ip_address_keeps_kubes_extra_age_cell() {
        let p = printer("networking.k8s.io", "ipaddresses").unwrap_or_else(|| unreachable!());
        assert_eq!(p.columns.len(), 2);
        assert_eq!((p.row)(&json!({}), Utc::now()).len(), 3);
    }

    #[test]
    fn columns_serialize_with_kube_field_names() {
        let v = serde_json::to_value(AGE_COLUMN).unwrap_or_default();
        assert_eq!(v["type"], "string");
        assert_eq!(v["priority"], 0);
        assert_eq!(v["format"], "");
    }
}
