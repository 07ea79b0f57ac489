//! The k8s-openapi type of each built-in kind. The type is this server's stand-in for kube's
//! Go struct: decoding into it tells a write's unknown fields (`unknown_fields`), and its
//! schema is what `/openapi/v2` and `/openapi/v3` publish.

use std::collections::HashMap;
use std::sync::LazyLock;

use k8s_openapi::schemars::{JsonSchema, Schema, SchemaGenerator};
use k8s_openapi::Resource;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

/// What this server knows of one built-in kind through its type.
pub struct Typed {
    /// Decodes an object into the type and encodes it again; `None` when it does not decode.
    pub round_trip: fn(&Value) -> Option<Value>,
    /// Adds the type's schema (and those it refers to) to a generator's definitions and
    /// answers the reference to it.
    pub schema: fn(&mut SchemaGenerator) -> Schema,
    /// The definition name, e.g. `io.k8s.api.core.v1.Pod`.
    pub name: fn() -> String,
}

pub fn round_trip<T: DeserializeOwned + Serialize>(obj: &Value) -> Option<Value> {
    let typed: T = T::deserialize(obj).ok()?;
    serde_json::to_value(typed).ok()
}

fn schema<T: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    generator.subschema_for::<T>()
}

fn name<T: JsonSchema>() -> String {
    T::schema_name().into_owned()
}

macro_rules! types {
    ($($t:ty),* $(,)?) => {
        vec![$((
            (<$t as Resource>::API_VERSION, <$t as Resource>::KIND),
            Typed { round_trip: round_trip::<$t>, schema: schema::<$t>, name: name::<$t> },
        )),*]
    };
}

/// The built-in types, by apiVersion and kind: every kind the catalog serves, subresource
/// and review kinds included.
static TYPES: LazyLock<HashMap<&'static str, HashMap<&'static str, Typed>>> = LazyLock::new(|| {
    use k8s_openapi::api::*;
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1 as apiextensions;
    use k8s_openapi::kube_aggregator::pkg::apis::apiregistration::v1 as apiregistration;
    types![
        core::v1::Binding,
        core::v1::ComponentStatus,
        core::v1::ConfigMap,
        core::v1::Endpoints,
        core::v1::Event,
        core::v1::LimitRange,
        core::v1::Namespace,
        core::v1::Node,
        core::v1::PersistentVolume,
        core::v1::PersistentVolumeClaim,
        core::v1::Pod,
        core::v1::PodTemplate,
        core::v1::ReplicationController,
        core::v1::ResourceQuota,
        core::v1::Secret,
        core::v1::Service,
        core::v1::ServiceAccount,
        admissionregistration::v1::MutatingWebhookConfiguration,
        admissionregistration::v1::ValidatingAdmissionPolicy,
        admissionregistration::v1::ValidatingAdmissionPolicyBinding,
        admissionregistration::v1::ValidatingWebhookConfiguration,
        apps::v1::ControllerRevision,
        apps::v1::DaemonSet,
        apps::v1::Deployment,
        apps::v1::ReplicaSet,
        apps::v1::StatefulSet,
        authentication::v1::SelfSubjectReview,
        authentication::v1::TokenRequest,
        authentication::v1::TokenReview,
        authorization::v1::LocalSubjectAccessReview,
        authorization::v1::SelfSubjectAccessReview,
        authorization::v1::SelfSubjectRulesReview,
        authorization::v1::SubjectAccessReview,
        autoscaling::v1::HorizontalPodAutoscaler,
        autoscaling::v1::Scale,
        autoscaling::v2::HorizontalPodAutoscaler,
        batch::v1::CronJob,
        batch::v1::Job,
        certificates::v1::CertificateSigningRequest,
        coordination::v1::Lease,
        discovery::v1::EndpointSlice,
        events::v1::Event,
        flowcontrol::v1::FlowSchema,
        flowcontrol::v1::PriorityLevelConfiguration,
        networking::v1::Ingress,
        networking::v1::IngressClass,
        networking::v1::NetworkPolicy,
        node::v1::RuntimeClass,
        policy::v1::Eviction,
        policy::v1::PodDisruptionBudget,
        rbac::v1::ClusterRole,
        rbac::v1::ClusterRoleBinding,
        rbac::v1::Role,
        rbac::v1::RoleBinding,
        scheduling::v1::PriorityClass,
        storage::v1::CSIDriver,
        storage::v1::CSINode,
        storage::v1::CSIStorageCapacity,
        storage::v1::StorageClass,
        storage::v1::VolumeAttachment,
        apiextensions::CustomResourceDefinition,
        apiregistration::APIService,
    ]
    .into_iter()
    .fold(HashMap::new(), |mut by_version: HashMap<_, HashMap<_, _>>, ((api_version, kind), typed)| {
        by_version.entry(api_version).or_default().insert(kind, typed);
        by_version
    })
});

/// The type of `kind` in `api_version` (`apps/v1`, `v1`), if it is a built-in one.
pub fn find(api_version: &str, kind: &str) -> Option<&'static Typed> {
    TYPES.get(api_version)?.get(kind)
}

/// Every built-in type.
pub fn all() -> impl Iterator<Item = &'static Typed> {
    TYPES.values().flat_map(|by_kind| by_kind.values())
}
