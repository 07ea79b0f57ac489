//! Kinds whose conversion is a copy of a few fields: ConfigMap, Secret, ServiceAccount,
//! PersistentVolumeClaim, Endpoints and custom resources (Namespace has metadata only).

use serde_json::Value;

use super::json::{copy_keys, obj_mut, objs_mut, set_or_remove, Map};
use super::Downward;

const CONFIGMAP_FIELDS: &[&str] = &["data", "binaryData", "immutable"];
const SECRET_FIELDS: &[&str] = &["data", "type", "immutable"];
const SERVICEACCOUNT_FIELDS: &[&str] = &["imagePullSecrets", "automountServiceAccountToken"];
/// Top-level fields a custom resource's owner does not write.
const CUSTOM_SKIP: &[&str] = &["apiVersion", "kind", "metadata", "status"];
const SA_TOKEN_TYPE: &str = "kubernetes.io/service-account-token";
/// Annotations the token controller reads on `kubernetes.io/service-account-token` secrets.
const SA_ANNOTATION_PREFIX: &str = "kubernetes.io/service-account.";

pub(super) fn configmap_desired(out: &mut Map, tenant: &Value) {
    copy_keys(out, tenant, CONFIGMAP_FIELDS);
}

pub(super) fn configmap_merge(out: &mut Map, desired: &Value) {
    copy_keys(out, desired, CONFIGMAP_FIELDS);
}

/// A token secret of the tenant becomes `Opaque`: in the super cluster the token controller
/// would delete it (its service account does not exist there) or fill it with a super token.
pub(super) fn secret_desired(out: &mut Map, tenant: &Value) {
    copy_keys(out, tenant, SECRET_FIELDS);
    let sa_token = out.get("type").and_then(Value::as_str) == Some(SA_TOKEN_TYPE);
    if sa_token || !out.contains_key("type") {
        // Opaque is also what the API server defaults an absent type to: stating it keeps merge stable.
        out.insert("type".into(), "Opaque".into());
    }
    if sa_token {
        if let Some(annotations) = obj_mut(out, "metadata").and_then(|m| obj_mut(m, "annotations")) {
            annotations.retain(|k, _| !k.starts_with(SA_ANNOTATION_PREFIX));
        }
    }
}

pub(super) fn secret_merge(out: &mut Map, desired: &Value) {
    copy_keys(out, desired, SECRET_FIELDS);
}

/// Pull secrets kept (renamed like every secret reference); the tenant's token `secrets` list
/// names tenant-only secrets; automount off: the super cluster must never mount its own token
/// into a tenant pod.
pub(super) fn serviceaccount_desired(out: &mut Map, tenant: &Value, ctx: &Downward) {
    if let Some(pull) = tenant.get("imagePullSecrets") {
        out.insert("imagePullSecrets".into(), pull.clone());
        for r in objs_mut(out, "imagePullSecrets") {
            rename_ref(r, "name", "Secret", ctx);
        }
    }
    out.insert("automountServiceAccountToken".into(), Value::Bool(false));
}

pub(super) fn serviceaccount_merge(out: &mut Map, desired: &Value) {
    copy_keys(out, desired, SERVICEACCOUNT_FIELDS);
}

/// The claim without `volumeName`: the super cluster binds its own volume.
pub(super) fn pvc_desired(out: &mut Map, tenant: &Value) {
    if let Some(mut spec) = tenant.get("spec").and_then(Value::as_object).cloned() {
        spec.shift_remove("volumeName");
        out.insert("spec".into(), Value::Object(spec));
    }
}

/// Only `spec.resources` of a claim may change (expansion); the rest is immutable after creation.
pub(super) fn pvc_merge(out: &mut Map, desired: &Value) {
    let Some(desired_spec) = desired.get("spec") else {
        return;
    };
    if let Some(spec) = obj_mut(out, "spec") {
        set_or_remove(spec, "resources", desired_spec.get("resources"));
    }
}

/// Subsets without `targetRef`s: they name tenant pods (and their tenant UIDs).
pub(super) fn endpoints_desired(out: &mut Map, tenant: &Value) {
    let Some(subsets) = tenant.get("subsets") else {
        return;
    };
    out.insert("subsets".into(), subsets.clone());
    for subset in objs_mut(out, "subsets") {
        for key in ["addresses", "notReadyAddresses"] {
            for address in objs_mut(subset, key) {
                address.shift_remove("targetRef");
            }
        }
    }
}

pub(super) fn endpoints_merge(out: &mut Map, desired: &Value) {
    copy_keys(out, desired, &["subsets"]);
}

pub(super) fn custom_desired(out: &mut Map, tenant: &Value) {
    for (k, v) in tenant.as_object().into_iter().flatten() {
        if !CUSTOM_SKIP.contains(&k.as_str()) {
            out.insert(k.clone(), v.clone());
        }
    }
}

pub(super) fn custom_merge(out: &mut Map, desired: &Value) {
    out.retain(|k, _| CUSTOM_SKIP.contains(&k.as_str()) || desired.get(k).is_some());
    custom_desired(out, desired);
}

/// Renames the reference under `key` of `r` (a `{name: ..}` object) through ctx.
pub(super) fn rename_ref(r: &mut Map, key: &str, kind: &str, ctx: &Downward) {
    if let Some(Value::String(name)) = r.get_mut(key) {
        *name = ctx.renamed(kind, name);
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::json;

    use super::super::{desired, merge, status_up, Kind};
    use super::*;

    fn with_ctx<R>(f: impl FnOnce(&Downward) -> R) -> R {
        let labels = BTreeMap::from([("nestor.dev/cluster".to_string(), "blue-1a2b3c4d".to_string())]);
        let annotations = BTreeMap::from([("nestor.dev/uid".to_string(), "t-uid".to_string())]);
        let rename = |kind: &str, name: &str| match (kind, name) {
            ("Secret", "pull") => Some("pull-synced".to_string()),
            _ => None,
        };
        let ctx = Downward {
            name: "obj",
            namespace: Some("blue-1a2b3c4d-prod"),
            labels: &labels,
            annotations: &annotations,
            apiserver: Some(("10.0.0.1", 443)),
            rename: &rename,
            token_secret: None,
        };
        f(&ctx)
    }

    fn tenant_meta(extra: Value) -> Value {
        let mut m = json!({"name": "obj", "namespace": "prod", "uid": "t-uid", "resourceVersion": "42",
            "creationTimestamp": "2025-01-01T00:00:00Z", "labels": {"app": "web"}});
        for (k, v) in extra.as_object().into_iter().flatten() {
            m[k] = v.clone();
        }
        m
    }

    /// The metadata every desired object of these tests has.
    fn meta_down() -> Value {
        json!({"name": "obj", "namespace": "blue-1a2b3c4d-prod",
            "labels": {"app": "web", "nestor.dev/cluster": "blue-1a2b3c4d"},
            "annotations": {"nestor.dev/uid": "t-uid"}})
    }

    /// What a super API server stores for a created object.
    fn stored(mut v: Value) -> Value {
        v["metadata"]["uid"] = json!("s-uid");
        v["metadata"]["resourceVersion"] = json!("100");
        v["metadata"]["creationTimestamp"] = json!("2025-01-02T00:00:00Z");
        v
    }

    fn assert_merge_stable(kind: Kind, actual: &Value, want: &Value) {
        let once = merge(kind, actual, want);
        assert_eq!(merge(kind, &once, want), once, "merge is idempotent");
    }

    #[test]
    fn configmap_copies_data_and_merges_changes() {
        let t = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": tenant_meta(json!({})),
            "data": {"a": "1"}, "binaryData": {"b": "AA=="}});
        let d = with_ctx(|c| desired(Kind::ConfigMap, &t, c));
        assert_eq!(
            d,
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta_down(),
                "data": {"a": "1"}, "binaryData": {"b": "AA=="}})
        );
        let actual = stored(d.clone());
        assert_eq!(merge(Kind::ConfigMap, &actual, &d), actual);

        let mut t2 = t.clone();
        t2["data"] = json!({"a": "2"});
        t2.as_object_mut().unwrap().remove("binaryData");
        t2["immutable"] = json!(true);
        let d2 = with_ctx(|c| desired(Kind::ConfigMap, &t2, c));
        let m = merge(Kind::ConfigMap, &actual, &d2);
        assert_eq!(m["data"], json!({"a": "2"}));
        assert_eq!(m["immutable"], json!(true));
        assert!(m.get("binaryData").is_none());
        assert_eq!(m["metadata"]["resourceVersion"], "100");
        assert_merge_stable(Kind::ConfigMap, &actual, &d2);
        assert_eq!(status_up(Kind::ConfigMap, &actual, &t2), None);
    }

    #[test]
    fn service_account_token_secret_becomes_opaque() {
        let t = json!({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/service-account-token",
            "metadata": tenant_meta(json!({"annotations": {"kubernetes.io/service-account.name": "default",
                "kubernetes.io/service-account.uid": "sa-uid", "keep": "me"}})),
            "data": {"token": "dG9r", "ca.crt": "Y2E=", "namespace": "cHJvZA=="}});
        let d = with_ctx(|c| desired(Kind::Secret, &t, c));
        assert_eq!(d["type"], "Opaque");
        assert_eq!(d["metadata"]["annotations"], json!({"keep": "me", "nestor.dev/uid": "t-uid"}));
        assert_eq!(d["data"], t["data"]);
        let actual = stored(d.clone());
        assert_eq!(merge(Kind::Secret, &actual, &d), actual);
    }

    #[test]
    fn secret_keeps_type_and_defaults_it() {
        let t = json!({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls", "immutable": true,
            "metadata": tenant_meta(json!({})), "data": {"tls.crt": "YQ==", "tls.key": "Yg=="}});
        let d = with_ctx(|c| desired(Kind::Secret, &t, c));
        assert_eq!(d["type"], "kubernetes.io/tls");
        assert_eq!(d["immutable"], true);
        let untyped = json!({"apiVersion": "v1", "kind": "Secret", "metadata": tenant_meta(json!({})), "data": {}});
        assert_eq!(with_ctx(|c| desired(Kind::Secret, &untyped, c))["type"], "Opaque");
        // data change is replaced, type kept
        let mut t2 = t.clone();
        t2["data"]["tls.crt"] = json!("Yw==");
        let d2 = with_ctx(|c| desired(Kind::Secret, &t2, c));
        let m = merge(Kind::Secret, &stored(d), &d2);
        assert_eq!(m["data"]["tls.crt"], "Yw==");
    }

    #[test]
    fn service_account_never_automounts_super_tokens() {
        let t = json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": tenant_meta(json!({})),
            "secrets": [{"name": "obj-token-x"}], "imagePullSecrets": [{"name": "pull"}, {"name": "other"}],
            "automountServiceAccountToken": true});
        let d = with_ctx(|c| desired(Kind::ServiceAccount, &t, c));
        assert_eq!(
            d,
            json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta_down(),
                "imagePullSecrets": [{"name": "pull-synced"}, {"name": "other"}],
                "automountServiceAccountToken": false})
        );
        // a super token controller (pre-1.24) may add `secrets`: merge leaves them
        let mut actual = stored(d.clone());
        actual["secrets"] = json!([{"name": "obj-token-super"}]);
        assert_eq!(merge(Kind::ServiceAccount, &actual, &d), actual);
        let mut t2 = t.clone();
        t2.as_object_mut().unwrap().remove("imagePullSecrets");
        let d2 = with_ctx(|c| desired(Kind::ServiceAccount, &t2, c));
        let m = merge(Kind::ServiceAccount, &actual, &d2);
        assert!(m.get("imagePullSecrets").is_none());
        assert_eq!(m["automountServiceAccountToken"], false);
    }

    fn pvc() -> Value {
        json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": tenant_meta(json!({"annotations": {"pv.kubernetes.io/bind-completed": "yes"},
                "finalizers": ["kubernetes.io/pvc-protection"]})),
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}},
                "storageClassName": "standard", "volumeMode": "Filesystem", "volumeName": "pvc-tenant-1"},
            "status": {"phase": "Bound", "capacity": {"storage": "1Gi"}}})
    }

    #[test]
    fn pvc_without_volume_name_and_resources_merged() {
        let t = pvc();
        let d = with_ctx(|c| desired(Kind::PersistentVolumeClaim, &t, c));
        assert!(d["spec"].get("volumeName").is_none());
        assert!(d.get("status").is_none());
        assert!(d["metadata"].get("finalizers").is_none());
        // the super cluster binds its own volume and adds its own binding annotations
        let mut actual = stored(d.clone());
        actual["spec"]["volumeName"] = json!("pvc-super-9");
        actual["metadata"]["annotations"]["pv.kubernetes.io/bind-completed"] = json!("yes");
        actual["metadata"]["annotations"]["volume.kubernetes.io/storage-provisioner"] = json!("csi.x");
        actual["metadata"]["finalizers"] = json!(["kubernetes.io/pvc-protection"]);
        actual["status"] = json!({"phase": "Bound", "capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"]});
        assert_eq!(merge(Kind::PersistentVolumeClaim, &actual, &d), actual);
        // expansion
        let mut t2 = t.clone();
        t2["spec"]["resources"]["requests"]["storage"] = json!("2Gi");
        let d2 = with_ctx(|c| desired(Kind::PersistentVolumeClaim, &t2, c));
        let m = merge(Kind::PersistentVolumeClaim, &actual, &d2);
        assert_eq!(m["spec"]["resources"]["requests"]["storage"], "2Gi");
        assert_eq!(m["spec"]["volumeName"], "pvc-super-9");
        assert_merge_stable(Kind::PersistentVolumeClaim, &actual, &d2);
        // status up: whole status
        assert_eq!(status_up(Kind::PersistentVolumeClaim, &actual, &t), Some(actual["status"].clone()));
        let mut t3 = t.clone();
        t3["status"] = actual["status"].clone();
        assert_eq!(status_up(Kind::PersistentVolumeClaim, &actual, &t3), None);
    }

    #[test]
    fn endpoints_drop_target_refs() {
        let t = json!({"apiVersion": "v1", "kind": "Endpoints", "metadata": tenant_meta(json!({})),
            "subsets": [{"addresses": [{"ip": "10.1.0.5", "nodeName": "n1",
                    "targetRef": {"kind": "Pod", "name": "db-0", "namespace": "prod", "uid": "p-uid"}}],
                "notReadyAddresses": [{"ip": "10.1.0.6", "targetRef": {"kind": "Pod", "name": "db-1"}}],
                "ports": [{"port": 5432, "protocol": "TCP"}]}]});
        let d = with_ctx(|c| desired(Kind::Endpoints, &t, c));
        assert_eq!(
            d["subsets"],
            json!([{"addresses": [{"ip": "10.1.0.5", "nodeName": "n1"}], "notReadyAddresses": [{"ip": "10.1.0.6"}],
                "ports": [{"port": 5432, "protocol": "TCP"}]}])
        );
        let actual = stored(d.clone());
        assert_eq!(merge(Kind::Endpoints, &actual, &d), actual);
        let mut t2 = t.clone();
        t2.as_object_mut().unwrap().remove("subsets");
        let d2 = with_ctx(|c| desired(Kind::Endpoints, &t2, c));
        assert!(merge(Kind::Endpoints, &actual, &d2).get("subsets").is_none());
        assert_eq!(status_up(Kind::Endpoints, &actual, &t), None);
    }

    #[test]
    fn namespace_is_metadata_only() {
        let t = json!({"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": "prod", "uid": "n-uid", "labels": {"kubernetes.io/metadata.name": "prod", "env": "p"}},
            "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}});
        let labels = BTreeMap::from([("nestor.dev/cluster".to_string(), "k".to_string())]);
        let annotations = BTreeMap::new();
        let rename = |_: &str, _: &str| None;
        let ctx = Downward {
            name: "k-prod",
            namespace: None,
            labels: &labels,
            annotations: &annotations,
            apiserver: None,
            rename: &rename,
            token_secret: None,
        };
        let d = desired(Kind::Namespace, &t, &ctx);
        assert_eq!(
            d,
            json!({"apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": "k-prod", "labels": {"env": "p", "nestor.dev/cluster": "k"}}})
        );
        let mut actual = stored(d.clone());
        actual["metadata"]["labels"]["kubernetes.io/metadata.name"] = json!("k-prod");
        actual["spec"] = json!({"finalizers": ["kubernetes"]});
        actual["status"] = json!({"phase": "Active"});
        assert_eq!(merge(Kind::Namespace, &actual, &d), actual);
        assert_eq!(status_up(Kind::Namespace, &actual, &t), None);
    }

    #[test]
    fn custom_resources_copy_every_top_level_field() {
        let t = json!({"apiVersion": "db.example.com/v1", "kind": "Database", "metadata": tenant_meta(json!({})),
            "spec": {"size": 3}, "extra": {"x": 1}, "status": {"ready": true}});
        let d = with_ctx(|c| desired(Kind::Custom, &t, c));
        assert_eq!(
            d,
            json!({"apiVersion": "db.example.com/v1", "kind": "Database", "metadata": meta_down(),
                "spec": {"size": 3}, "extra": {"x": 1}})
        );
        let mut actual = stored(d.clone());
        actual["metadata"]["generation"] = json!(1);
        actual["status"] = json!({"ready": false});
        assert_eq!(merge(Kind::Custom, &actual, &d), actual);
        let mut t2 = t.clone();
        t2["spec"]["size"] = json!(5);
        t2.as_object_mut().unwrap().remove("extra");
        let d2 = with_ctx(|c| desired(Kind::Custom, &t2, c));
        let m = merge(Kind::Custom, &actual, &d2);
        assert_eq!(m["spec"], json!({"size": 5}));
        assert!(m.get("extra").is_none());
        assert_eq!(m["status"], json!({"ready": false}));
        assert_merge_stable(Kind::Custom, &actual, &d2);
        assert_eq!(status_up(Kind::Custom, &actual, &t), Some(json!({"ready": false})));
        // a super object with no status yet says nothing about the tenant's
        assert_eq!(status_up(Kind::Custom, &stored(d), &t), None);
    }
}
