//! Unknown fields of built-in objects, and the `fieldValidation` query parameter.
//!
//! kube-apiserver decodes a built-in object into its Go struct, which drops every field the
//! type does not have; `fieldValidation` says what the client hears of them: `Strict` fails the
//! request with 400, `Warn` (the default) answers a `Warning` header per field, `Ignore` says
//! nothing. Here the Go struct is k8s-openapi's type of the same group, version and kind: the
//! object is decoded into it and encoded again, and every non-null field of the request that
//! did not come back is unknown. An object the type cannot decode (a wrong JSON type deep
//! inside) is left to validation, unchecked. Custom objects get the same treatment from their
//! schema's pruning (`crd::pruning`).

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::Resource;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::error::{ApiError, Cause, Result};

/// What a write does with unknown fields (`?fieldValidation=`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum FieldValidation {
    Ignore,
    #[default]
    Warn,
    Strict,
}

impl FieldValidation {
    /// Parses the query value; `options` names the options kind in the error
    /// (`CreateOptions`, `UpdateOptions`, `PatchOptions`), as kube's options validation does.
    pub fn parse(value: Option<&str>, options: &str) -> Result<Self> {
        match value.unwrap_or("") {
            "" | "Warn" => Ok(Self::Warn),
            "Ignore" => Ok(Self::Ignore),
            "Strict" => Ok(Self::Strict),
            other => Err(ApiError::invalid(
                "meta.k8s.io",
                options,
                "",
                vec![Cause::not_supported(
                    "fieldValidation",
                    &Value::String(other.into()),
                    &["", "Ignore", "Strict", "Warn"],
                )],
            )),
        }
    }
}

/// The unknown fields a write found, for its `Warning` headers; shared by the handler and the
/// store, which finds them while it admits the object.
#[derive(Debug, Default)]
pub struct Warnings(Mutex<Vec<String>>);

impl Warnings {
    pub fn add(&self, text: String) {
        if let Ok(mut list) = self.0.lock() {
            if !list.contains(&text) {
                list.push(text);
            }
        }
    }

    pub fn take(&self) -> Vec<String> {
        self.0.lock().map(|mut l| std::mem::take(&mut *l)).unwrap_or_default()
    }
}

type RoundTrip = fn(&Value) -> Option<Value>;

fn round_trip<T: DeserializeOwned + Serialize>(obj: &Value) -> Option<Value> {
    let typed: T = T::deserialize(obj).ok()?;
    serde_json::to_value(typed).ok()
}

macro_rules! types {
    ($($t:ty),* $(,)?) => {
        vec![$(((<$t as Resource>::API_VERSION, <$t as Resource>::KIND), round_trip::<$t> as RoundTrip)),*]
    };
}

/// The built-in types, by apiVersion and kind.
static TYPES: LazyLock<HashMap<(&'static str, &'static str), RoundTrip>> = LazyLock::new(|| {
    use k8s_openapi::api::*;
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1 as apiextensions;
    types![
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
        apps::v1::ControllerRevision,
        apps::v1::DaemonSet,
        apps::v1::Deployment,
        apps::v1::ReplicaSet,
        apps::v1::StatefulSet,
        autoscaling::v1::HorizontalPodAutoscaler,
        autoscaling::v2::HorizontalPodAutoscaler,
        batch::v1::CronJob,
        batch::v1::Job,
        certificates::v1::CertificateSigningRequest,
        coordination::v1::Lease,
        discovery::v1::EndpointSlice,
        events::v1::Event,
        networking::v1::Ingress,
        networking::v1::IngressClass,
        networking::v1::NetworkPolicy,
        node::v1::RuntimeClass,
        policy::v1::PodDisruptionBudget,
        rbac::v1::ClusterRole,
        rbac::v1::ClusterRoleBinding,
        rbac::v1::Role,
        rbac::v1::RoleBinding,
        scheduling::v1::PriorityClass,
        storage::v1::CSIDriver,
        storage::v1::CSINode,
        storage::v1::StorageClass,
        storage::v1::VolumeAttachment,
        apiextensions::CustomResourceDefinition,
    ]
    .into_iter()
    .collect()
});

/// Removes the fields of a built-in object (in `api_version`, of `kind`) that its type does
/// not have, and answers their paths as kube writes them (`spec.containers[0].imagex`).
/// Kinds without a known type answer nothing.
pub fn remove(api_version: &str, kind: &str, obj: &mut Value) -> Vec<String> {
    let Some(round_trip) = TYPES.get(&(api_version, kind)) else { return Vec::new() };
    let Some(known) = round_trip(obj) else { return Vec::new() };
    let mut found = Vec::new();
    walk(obj, &known, "", &mut found);
    found
}

/// Removes the fields of an object's `metadata` that ObjectMeta does not have (custom objects,
/// whose schema leaves metadata to the server).
pub fn remove_from_metadata(obj: &mut Value) -> Vec<String> {
    let Some(meta) = obj.get_mut("metadata").filter(|m| m.is_object()) else { return Vec::new() };
    let Some(known) = round_trip::<ObjectMeta>(meta) else { return Vec::new() };
    let mut found = Vec::new();
    walk(meta, &known, "metadata", &mut found);
    found
}

fn walk(obj: &mut Value, known: &Value, path: &str, found: &mut Vec<String>) {
    match (obj, known) {
        (Value::Object(fields), Value::Object(kept)) => {
            fields.retain(|name, value| {
                let here = if path.is_empty() { name.clone() } else { format!("{path}.{name}") };
                match kept.get(name) {
                    Some(k) => {
                        walk(value, k, &here, found);
                        true
                    }
                    // An explicit null decodes as "not set" whether the field exists or not.
                    None if value.is_null() => true,
                    None => {
                        found.push(here);
                        false
                    }
                }
            });
        }
        (Value::Array(items), Value::Array(kept)) => {
            for (i, (item, k)) in items.iter_mut().zip(kept).enumerate() {
                walk(item, k, &format!("{path}[{i}]"), found);
            }
        }
        _ => {}
    }
}

/// Applies `mode` to the unknown fields `found` in a write: Strict fails with kube's
/// "strict decoding error", Warn records one warning each, Ignore does nothing. `context`
/// starts the message (`Pod in version "v1" cannot be handled as a Pod: `, or empty for a patch).
pub fn enforce(mode: FieldValidation, found: &[String], context: &str, warnings: &Warnings) -> Result<()> {
    if found.is_empty() {
        return Ok(());
    }
    let each: Vec<String> = found.iter().map(|f| format!("unknown field {f:?}")).collect();
    match mode {
        FieldValidation::Strict => {
            Err(ApiError::bad_request(format!("{context}strict decoding error: {}", each.join(", "))))
        }
        FieldValidation::Warn => {
            each.into_iter().for_each(|w| warnings.add(w));
            Ok(())
        }
        FieldValidation::Ignore => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_fields_are_removed_and_named_with_their_paths() {
        let mut pod = json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p", "colour": "red", "labels": {"any.key/x": "y"}},
            "spec": {
                "containers": [
                    {"name": "a", "image": "nginx"},
                    {"name": "b", "image": "nginx", "imagex": "typo", "ports": [{"containerPort": 80, "hostx": 1}]}
                ],
                "nodeName": null,
                "bogus": {"deep": true}
            },
            "status": {}
        });
        let found = remove("v1", "Pod", &mut pod);
        // In the order of the document, as kube's decoder meets them.
        assert_eq!(
            found,
            ["metadata.colour", "spec.containers[1].imagex", "spec.containers[1].ports[0].hostx", "spec.bogus"]
        );
        assert!(pod["spec"].get("bogus").is_none() && pod["spec"]["containers"][1].get("imagex").is_none());
        assert_eq!(pod["metadata"]["labels"]["any.key/x"], "y");
        assert_eq!(pod["spec"]["containers"][1]["ports"][0], json!({"containerPort": 80}));
        assert!(pod["spec"]["nodeName"].is_null(), "an explicit null is not unknown");
        // Free-form parts stay as they are.
        let mut revision = json!({"apiVersion": "apps/v1", "kind": "ControllerRevision", "metadata": {"name": "r"},
            "revision": 1, "data": {"anything": {"goes": 1}}});
        assert!(remove("apps/v1", "ControllerRevision", &mut revision).is_empty());
        // Unknown kinds and undecodable objects are not checked.
        let mut other = json!({"apiVersion": "example.com/v1", "kind": "Thing", "x": 1});
        assert!(remove("example.com/v1", "Thing", &mut other).is_empty());
        let mut wrong = json!({"apiVersion": "v1", "kind": "Pod", "spec": {"containers": "no"}, "x": 1});
        assert!(remove("v1", "Pod", &mut wrong).is_empty());
    }

    #[test]
    fn modes() {
        let found = vec!["spec.x".to_string(), "spec.y".to_string()];
        let warnings = Warnings::default();
        let err =
            enforce(FieldValidation::Strict, &found, "Pod in version \"v1\" cannot be handled as a Pod: ", &warnings)
                .unwrap_err();
        assert_eq!(err.code, 400);
        assert_eq!(
            err.message,
            r#"Pod in version "v1" cannot be handled as a Pod: strict decoding error: unknown field "spec.x", unknown field "spec.y""#
        );
        enforce(FieldValidation::Warn, &found, "", &warnings).unwrap();
        enforce(FieldValidation::Ignore, &found, "", &warnings).unwrap();
        assert_eq!(warnings.take(), [r#"unknown field "spec.x""#, r#"unknown field "spec.y""#]);
        assert_eq!(FieldValidation::parse(None, "CreateOptions").unwrap(), FieldValidation::Warn);
        let err = FieldValidation::parse(Some("Loud"), "CreateOptions").unwrap_err();
        assert_eq!(err.code, 422);
        assert_eq!(
            err.message,
            r#"CreateOptions.meta.k8s.io "" is invalid: fieldValidation: Unsupported value: "Loud": supported values: "", "Ignore", "Strict", "Warn""#
        );
    }
}
