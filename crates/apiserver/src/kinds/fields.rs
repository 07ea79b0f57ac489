//! The fields each kind can be selected by (`?fieldSelector=`), as the kinds' strategies in
//! kube-apiserver expose them (pkg/registry/*/*/strategy.go `...ToSelectableFields`).

use std::collections::BTreeMap;

use serde_json::Value;

fn text(obj: &Value, pointer: &str) -> String {
    match obj.pointer(pointer) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Bool(b)) => b.to_string(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

/// The per-kind fields beyond `metadata.name` and `metadata.namespace`.
fn extra(group: &str, resource: &str) -> &'static [(&'static str, &'static str)] {
    match (group, resource) {
        ("", "pods") => &[
            ("spec.nodeName", "/spec/nodeName"),
            ("spec.restartPolicy", "/spec/restartPolicy"),
            ("spec.schedulerName", "/spec/schedulerName"),
            ("spec.serviceAccountName", "/spec/serviceAccountName"),
            ("spec.hostNetwork", "/spec/hostNetwork"),
            ("status.phase", "/status/phase"),
            ("status.podIP", "/status/podIP"),
            ("status.nominatedNodeName", "/status/nominatedNodeName"),
        ],
        ("", "events") => &[
            ("involvedObject.kind", "/involvedObject/kind"),
            ("involvedObject.namespace", "/involvedObject/namespace"),
            ("involvedObject.name", "/involvedObject/name"),
            ("involvedObject.uid", "/involvedObject/uid"),
            ("involvedObject.apiVersion", "/involvedObject/apiVersion"),
            ("involvedObject.resourceVersion", "/involvedObject/resourceVersion"),
            ("involvedObject.fieldPath", "/involvedObject/fieldPath"),
            ("reason", "/reason"),
            ("reportingComponent", "/reportingComponent"),
            ("source", "/source/component"),
            ("type", "/type"),
        ],
        ("events.k8s.io", "events") => &[
            ("regarding.kind", "/regarding/kind"),
            ("regarding.namespace", "/regarding/namespace"),
            ("regarding.name", "/regarding/name"),
            ("regarding.uid", "/regarding/uid"),
            ("reason", "/reason"),
            ("reportingController", "/reportingController"),
            ("type", "/type"),
        ],
        ("", "secrets") => &[("type", "/type")],
        ("", "nodes") => &[("spec.unschedulable", "/spec/unschedulable")],
        ("", "namespaces") => &[("status.phase", "/status/phase")],
        ("", "replicationcontrollers") | ("apps", "replicasets") => &[("status.replicas", "/status/replicas")],
        ("batch", "jobs") => &[("status.successful", "/status/successful")],
        ("certificates.k8s.io", "certificatesigningrequests") => &[("spec.signerName", "/spec/signerName")],
        ("", "persistentvolumes") | ("", "persistentvolumeclaims") => &[],
        _ => &[],
    }
}

/// The selectable fields of an object, or the unsupported field label as an error text.
pub fn selectable(group: &str, resource: &str, namespaced: bool, obj: &Value) -> BTreeMap<&'static str, String> {
    let mut fields = BTreeMap::new();
    fields.insert("metadata.name", text(obj, "/metadata/name"));
    if namespaced {
        fields.insert("metadata.namespace", text(obj, "/metadata/namespace"));
    }
    for (field, pointer) in extra(group, resource) {
        let mut v = text(obj, pointer);
        // kube exposes spec.unschedulable and hostNetwork as "false" when unset.
        if v.is_empty() && (*field == "spec.unschedulable" || *field == "spec.hostNetwork") {
            v = "false".into();
        }
        if v.is_empty() && (*field == "status.replicas" || *field == "status.successful") {
            v = "0".into();
        }
        fields.insert(field, v);
    }
    fields
}

/// Whether a field label can be used in selectors of this resource.
pub fn supported(group: &str, resource: &str, namespaced: bool, field: &str) -> bool {
    field == "metadata.name"
        || (namespaced && field == "metadata.namespace")
        || extra(group, resource).iter().any(|(f, _)| *f == field)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pod_fields() {
        let pod = json!({"metadata": {"name": "p", "namespace": "d"}, "spec": {"nodeName": "n1"}, "status": {"phase": "Running"}});
        let f = selectable("", "pods", true, &pod);
        assert_eq!(f["spec.nodeName"], "n1");
        assert_eq!(f["status.phase"], "Running");
        assert_eq!(f["spec.hostNetwork"], "false");
        assert!(supported("", "pods", true, "spec.nodeName"));
        assert!(!supported("", "configmaps", true, "spec.nodeName"));
        assert!(!supported("", "nodes", false, "metadata.namespace"));
    }
}
