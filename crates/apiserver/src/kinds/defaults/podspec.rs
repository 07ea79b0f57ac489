//! Defaults for every PodSpec (pods and all pod templates): `SetDefaults_PodSpec`,
//! `SetDefaults_Container`, probes, volumes, and the declarative `+default=` markers of
//! k8s.io/api/core/v1, plus the pod-only `SetDefaults_Pod`.

use serde_json::{json, Value};

use super::json::*;
use super::quantity::{canonicalize_resource_list, canonicalize_value};

/// `v1.TerminationMessagePathDefault`.
const TERMINATION_MESSAGE_PATH: &str = "/dev/termination-log";

/// The image tag as the docker reference parser sees it; None when the reference does not
/// parse (kube then defaults the pull policy to IfNotPresent).
fn image_tag(image: &str) -> Option<String> {
    if image.is_empty() {
        return None;
    }
    let (rest, digest) = match image.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (image, None),
    };
    let last_slash = rest.rfind('/').map(|i| i + 1).unwrap_or(0);
    let (name, tag) = match rest[last_slash..].rfind(':') {
        Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..])),
        None => (rest, None),
    };
    // The repository path (after an optional registry host) must be lowercase.
    let path = match name.split_once('/') {
        Some((host, p))
            if host.contains('.')
                || host.contains(':')
                || host == "localhost"
                || host.chars().any(|c| c.is_ascii_uppercase()) =>
        {
            p
        }
        _ => name,
    };
    let path_ok = !path.is_empty()
        && path.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || b"._-/".contains(&c))
        && path.split('/').all(|seg| !seg.is_empty());
    let tag_ok = tag.is_none_or(|t| {
        !t.is_empty()
            && t.len() <= 128
            && t.bytes().all(|c| c.is_ascii_alphanumeric() || b"_.-".contains(&c))
            && !t.starts_with(['.', '-'])
    });
    let digest_ok = digest.is_none_or(|d| d.contains(':'));
    if !(path_ok && tag_ok && digest_ok) {
        return None;
    }
    match (tag, digest) {
        (Some(t), _) => Some(t.to_string()),
        (None, Some(_)) => Some(String::new()),
        (None, None) => Some("latest".to_string()),
    }
}

fn default_http_get(handler: &mut Value) {
    if let Some(h) = child_mut(handler, "httpGet").filter(|v| v.is_object()) {
        default_str(h, "path", "/");
        default_str(h, "scheme", "HTTP");
    }
}

fn default_probe(c: &mut Value, key: &str) {
    let Some(p) = child_mut(c, key).filter(|v| v.is_object()) else {
        return;
    };
    default_nonzero(p, "timeoutSeconds", 1);
    default_nonzero(p, "periodSeconds", 10);
    default_nonzero(p, "successThreshold", 1);
    default_nonzero(p, "failureThreshold", 3);
    default_http_get(p);
    // GRPCAction.Service carries `+default=""`.
    if let Some(g) = child_mut(p, "grpc").filter(|v| v.is_object()) {
        default_ptr(g, "service", json!(""));
    }
}

fn default_field_ref(holder: &mut Value) {
    if let Some(f) = child_mut(holder, "fieldRef").filter(|v| v.is_object()) {
        default_str(f, "apiVersion", "v1");
    }
    if let Some(r) = child_mut(holder, "resourceFieldRef").filter(|v| v.is_object()) {
        // Divisor is a non-pointer Quantity: Go prints its zero value as "0".
        if is_nil(r, "divisor") {
            set(r, "divisor", json!("0"));
        } else {
            canonicalize_value(child_mut(r, "divisor"));
        }
    }
}

/// `SetDefaults_Container` and the generated defaults of its nested fields.
fn default_container(c: &mut Value) {
    if !c.is_object() {
        return;
    }
    if get_str(c, "imagePullPolicy").is_empty() {
        let policy =
            if image_tag(get_str(c, "image")).as_deref() == Some("latest") { "Always" } else { "IfNotPresent" };
        default_str(c, "imagePullPolicy", policy);
    }
    default_str(c, "terminationMessagePath", TERMINATION_MESSAGE_PATH);
    default_str(c, "terminationMessagePolicy", "File");
    each_mut(c, "ports", |p| {
        if p.is_object() {
            default_str(p, "protocol", "TCP");
        }
    });
    each_mut(c, "env", |e| {
        if let Some(vf) = child_mut(e, "valueFrom").filter(|v| v.is_object()) {
            default_field_ref(vf);
        }
    });
    // ResourceRequirements is a struct Go always prints, so an absent one reads `resources: {}`.
    if let Some(r) = ensure_obj(c, "resources") {
        canonicalize_resource_list(child_mut(r, "limits"));
        canonicalize_resource_list(child_mut(r, "requests"));
    }
    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
        default_probe(c, probe);
    }
    if let Some(lc) = child_mut(c, "lifecycle").filter(|v| v.is_object()) {
        for h in ["postStart", "preStop"] {
            if let Some(h) = child_mut(lc, h).filter(|v| v.is_object()) {
                default_http_get(h);
            }
        }
    }
}

const VOLUME_SOURCES: [&str; 30] = [
    "hostPath",
    "emptyDir",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "gitRepo",
    "secret",
    "nfs",
    "iscsi",
    "glusterfs",
    "persistentVolumeClaim",
    "rbd",
    "flexVolume",
    "cinder",
    "cephfs",
    "flocker",
    "downwardAPI",
    "fc",
    "azureFile",
    "configMap",
    "vsphereVolume",
    "quobyte",
    "azureDisk",
    "photonPersistentDisk",
    "projected",
    "portworxVolume",
    "scaleIO",
    "storageos",
    "csi",
    "ephemeral",
    "image",
];

fn default_items_field_refs(src: &mut Value) {
    each_mut(src, "items", default_field_ref);
}

/// `SetDefaults_Volume` plus the per-source defaults.
fn default_volume(vol: &mut Value) {
    if !vol.is_object() {
        return;
    }
    if VOLUME_SOURCES.iter().all(|s| is_nil(vol, s)) {
        set(vol, "emptyDir", json!({}));
    }
    for key in ["secret", "configMap", "downwardAPI", "projected"] {
        if let Some(s) = child_mut(vol, key).filter(|v| v.is_object()) {
            default_ptr(s, "defaultMode", json!(420));
        }
    }
    if let Some(d) = child_mut(vol, "downwardAPI").filter(|v| v.is_object()) {
        default_items_field_refs(d);
    }
    if let Some(p) = child_mut(vol, "projected").filter(|v| v.is_object()) {
        each_mut(p, "sources", |s| {
            if let Some(t) = child_mut(s, "serviceAccountToken").filter(|v| v.is_object()) {
                default_ptr(t, "expirationSeconds", json!(3600));
            }
            if let Some(d) = child_mut(s, "downwardAPI").filter(|v| v.is_object()) {
                default_items_field_refs(d);
            }
        });
    }
    if let Some(h) = child_mut(vol, "hostPath").filter(|v| v.is_object()) {
        default_ptr(h, "type", json!(""));
    }
    if let Some(e) = child_mut(vol, "emptyDir").filter(|v| v.is_object()) {
        canonicalize_value(child_mut(e, "sizeLimit"));
    }
    if let Some(i) = child_mut(vol, "iscsi").filter(|v| v.is_object()) {
        default_str(i, "iscsiInterface", "default");
    }
    if let Some(r) = child_mut(vol, "rbd").filter(|v| v.is_object()) {
        default_str(r, "pool", "rbd");
        default_str(r, "user", "admin");
        default_str(r, "keyring", "/etc/ceph/keyring");
    }
    if let Some(a) = child_mut(vol, "azureDisk").filter(|v| v.is_object()) {
        default_ptr(a, "cachingMode", json!("ReadWrite"));
        default_ptr(a, "fsType", json!("ext4"));
        default_ptr(a, "readOnly", json!(false));
        default_ptr(a, "kind", json!("Shared"));
    }
    if let Some(s) = child_mut(vol, "scaleIO").filter(|v| v.is_object()) {
        default_str(s, "storageMode", "ThinProvisioned");
        default_str(s, "fsType", "xfs");
    }
    if let Some(e) = child_mut(vol, "ephemeral").filter(|v| v.is_object()) {
        if let Some(t) = child_mut(e, "volumeClaimTemplate").filter(|v| v.is_object()) {
            template_metadata(t);
            if let Some(spec) = ensure_obj(t, "spec") {
                default_pvc_spec(spec);
            }
        }
    }
}

/// `SetDefaults_PersistentVolumeClaimSpec` (also used for claim templates).
pub(crate) fn default_pvc_spec(spec: &mut Value) {
    default_ptr(spec, "volumeMode", json!("Filesystem"));
    // VolumeResourceRequirements is a struct Go always prints.
    if let Some(r) = ensure_obj(spec, "resources") {
        canonicalize_resource_list(child_mut(r, "limits"));
        canonicalize_resource_list(child_mut(r, "requests"));
    }
}

/// An embedded ObjectMeta (pod templates, job templates, claim templates): Go prints the zero
/// `creationTimestamp` of a template as `null`, so kube always returns that key.
pub(crate) fn template_metadata(tmpl: &mut Value) {
    if let Some(m) = ensure_obj(tmpl, "metadata") {
        if let Some(map) = m.as_object_mut() {
            map.entry("creationTimestamp").or_insert(Value::Null);
        }
    }
}

/// `SetDefaults_PodSpec` and everything nested under it. Used for pods and templates.
pub(crate) fn default_pod_spec(spec: &mut Value) {
    if !spec.is_object() {
        return;
    }
    default_str(spec, "dnsPolicy", "ClusterFirst");
    default_str(spec, "restartPolicy", "Always");
    default_ptr(spec, "securityContext", json!({}));
    default_ptr(spec, "terminationGracePeriodSeconds", json!(30));
    default_str(spec, "schedulerName", "default-scheduler");
    // v1 conversion: serviceAccount is the deprecated alias of serviceAccountName; kube reads
    // it when the new field is empty and always writes both back.
    let sa = get_str(spec, "serviceAccountName").to_string();
    let legacy = get_str(spec, "serviceAccount").to_string();
    if sa.is_empty() && !legacy.is_empty() {
        set(spec, "serviceAccountName", json!(legacy));
    } else if !sa.is_empty() {
        set(spec, "serviceAccount", json!(sa));
    }
    each_mut(spec, "volumes", default_volume);
    for list in ["initContainers", "containers", "ephemeralContainers"] {
        each_mut(spec, list, default_container);
    }
    canonicalize_resource_list(child_mut(spec, "overhead"));
}

/// A PodTemplateSpec: template metadata shape plus pod spec defaults.
pub(crate) fn default_pod_template(tmpl: Option<&mut Value>) {
    let Some(tmpl) = tmpl.filter(|v| v.is_object()) else {
        return;
    };
    template_metadata(tmpl);
    if let Some(spec) = child_mut(tmpl, "spec") {
        default_pod_spec(spec);
    }
}

/// A PodTemplateSpec held by value in Go (Deployments, Jobs, ...): kube defaults it even when
/// the client sent none, so it is created here too.
pub(crate) fn default_pod_template_struct(parent: &mut Value, key: &str) {
    if let Some(tmpl) = ensure_obj(parent, key) {
        ensure_obj(tmpl, "spec");
        default_pod_template(Some(tmpl));
    }
}

/// `SetDefaults_Pod`: only for Pod objects, never templates (kube keeps these out of
/// templates so new defaults do not trigger rollouts).
pub(crate) fn default_pod(pod: &mut Value) {
    let Some(spec) = child_mut(pod, "spec").filter(|v| v.is_object()) else {
        return;
    };
    // Requests default to limits, per key, before canonicalization (same as kube's order).
    for list in ["containers", "initContainers"] {
        each_mut(spec, list, |c| {
            let Some(res) = child_mut(c, "resources").filter(|v| v.is_object()) else {
                return;
            };
            let Some(Value::Object(limits)) = res.get("limits").cloned() else {
                return;
            };
            let Some(req) = ensure_obj(res, "requests") else {
                return;
            };
            if let Some(req) = req.as_object_mut() {
                for (k, v) in limits {
                    // A malformed quantity is a decode error in kube; do not spread it.
                    if super::quantity::Quantity::from_json(&v).is_ok() {
                        req.entry(k).or_insert(v);
                    }
                }
            }
        });
    }
    default_ptr(spec, "enableServiceLinks", json!(true));
    if get_bool(spec, "hostNetwork") {
        for list in ["containers", "initContainers"] {
            each_mut(spec, list, |c| {
                each_mut(c, "ports", |p| {
                    if get_i64(p, "hostPort").unwrap_or(0) == 0 {
                        if let Some(cp) = p.get("containerPort").cloned() {
                            set(p, "hostPort", cp);
                        }
                    }
                });
            });
        }
    }
    default_pod_spec(spec);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_tags() {
        assert_eq!(image_tag("nginx").as_deref(), Some("latest"));
        assert_eq!(image_tag("nginx:1.27").as_deref(), Some("1.27"));
        assert_eq!(image_tag("nginx:latest").as_deref(), Some("latest"));
        assert_eq!(image_tag("localhost:5000/app").as_deref(), Some("latest"));
        assert_eq!(image_tag("localhost:5000/app:v1").as_deref(), Some("v1"));
        assert_eq!(image_tag("busybox@sha256:abc").as_deref(), Some(""));
        assert_eq!(image_tag("Nginx"), None);
    }
}
