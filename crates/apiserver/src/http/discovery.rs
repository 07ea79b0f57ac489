//! Discovery documents: `/api`, `/apis`, per group and group-version lists, the aggregated
//! `apidiscovery.k8s.io/v2` form kubectl asks for first, and `/version`.

use base64::Engine;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::registry::resources::{ResourceDef, Snapshot};

/// The Kubernetes version this server is (also the OpenAPI documents' version).
pub const GIT_VERSION: &str = "v1.32.0";

/// The version this server reports: kubectl picks its own version from it.
pub fn version() -> Value {
    json!({
        "major": "1",
        "minor": "32",
        "gitVersion": GIT_VERSION,
        "gitCommit": "nestor",
        "gitTreeState": "clean",
        "buildDate": "2024-12-11T00:00:00Z",
        "goVersion": "go1.23.3",
        "compiler": "gc",
        "platform": "linux/amd64"
    })
}

/// kube's storageVersionHash: the first 8 bytes of sha256("group/version/Kind"), base64.
fn storage_version_hash(def: &ResourceDef) -> String {
    // events.k8s.io Events are stored as core Events.
    let (group, version) =
        if def.group == "events.k8s.io" { ("", "v1") } else { (def.group.as_str(), def.storage_version()) };
    let digest = Sha256::digest(format!("{group}/{version}/{}", def.kind).as_bytes());
    base64::engine::general_purpose::STANDARD.encode(&digest[..8])
}

fn set_lists(entry: &mut Value, def: &ResourceDef, short_key: &str) {
    if !def.short_names.is_empty() {
        entry[short_key] = json!(def.short_names);
    }
    if !def.categories.is_empty() {
        entry["categories"] = json!(def.categories);
    }
}

/// `/api`: the core versions.
pub fn api_versions(server_address: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]
    })
}

fn group_doc(name: &str, versions: &[String]) -> Value {
    let gvs: Vec<Value> =
        versions.iter().map(|v| json!({"groupVersion": format!("{name}/{v}"), "version": v})).collect();
    json!({"name": name, "versions": gvs, "preferredVersion": gvs.first().cloned().unwrap_or(Value::Null)})
}

/// `/apis`: every named group.
pub fn api_groups(snapshot: &Snapshot) -> Value {
    let groups: Vec<Value> =
        snapshot.groups().iter().filter(|(g, _)| !g.is_empty()).map(|(g, vs)| group_doc(g, vs)).collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// `/apis/<group>`.
pub fn api_group(snapshot: &Snapshot, group: &str) -> Option<Value> {
    let groups = snapshot.groups();
    let (name, versions) = groups.iter().find(|(g, _)| g == group && !g.is_empty())?;
    let mut doc = group_doc(name, versions);
    doc["kind"] = json!("APIGroup");
    doc["apiVersion"] = json!("v1");
    Some(doc)
}

fn defs_at<'a>(
    snapshot: &'a Snapshot,
    group: &'a str,
    version: &'a str,
) -> impl Iterator<Item = &'a std::sync::Arc<ResourceDef>> {
    snapshot.all.iter().filter(move |d| d.group == group && d.versions.iter().any(|v| v == version))
}

/// `/api/v1` or `/apis/<group>/<version>`: the APIResourceList.
pub fn resource_list(snapshot: &Snapshot, group: &str, version: &str) -> Option<Value> {
    let mut resources = Vec::new();
    for def in defs_at(snapshot, group, version) {
        let mut entry = json!({
            "name": def.resource,
            "singularName": def.singular,
            "namespaced": def.namespaced,
            "kind": def.kind,
            "verbs": def.verbs,
        });
        set_lists(&mut entry, def, "shortNames");
        if def.is_stored() {
            entry["storageVersionHash"] = json!(storage_version_hash(def));
        }
        resources.push(entry);
        for sub in &def.subresources {
            let mut s = json!({
                "name": format!("{}/{}", def.resource, sub.name),
                "singularName": "",
                "namespaced": def.namespaced,
                "kind": sub.kind,
                "verbs": sub.verbs,
            });
            if let (Some(g), Some(v)) = (&sub.group, &sub.version) {
                s["group"] = json!(g);
                s["version"] = json!(v);
            }
            resources.push(s);
        }
    }
    if resources.is_empty() {
        return None;
    }
    let gv = if group.is_empty() { version.to_string() } else { format!("{group}/{version}") };
    Some(json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}))
}

/// The aggregated discovery document of `/api` (core) or `/apis` (named groups).
pub fn aggregated(snapshot: &Snapshot, core: bool, api_version: &str) -> Value {
    let mut items = Vec::new();
    for (group, versions) in snapshot.groups() {
        if group.is_empty() != core {
            continue;
        }
        let mut version_docs = Vec::new();
        for version in &versions {
            let mut resources = Vec::new();
            for def in defs_at(snapshot, &group, version) {
                let mut entry = json!({
                    "resource": def.resource,
                    "responseKind": {"group": def.group, "version": version, "kind": def.kind},
                    "scope": if def.namespaced { "Namespaced" } else { "Cluster" },
                    "singularResource": def.singular,
                    "verbs": def.verbs,
                });
                set_lists(&mut entry, def, "shortNames");
                let subs: Vec<Value> = def
                    .subresources
                    .iter()
                    .map(|s| {
                        json!({
                            "subresource": s.name,
                            "responseKind": {
                                "group": s.group.clone().unwrap_or_else(|| def.group.clone()),
                                "version": s.version.clone().unwrap_or_else(|| version.clone()),
                                "kind": s.kind,
                            },
                            "verbs": s.verbs,
                        })
                    })
                    .collect();
                if !subs.is_empty() {
                    entry["subresources"] = json!(subs);
                }
                resources.push(entry);
            }
            version_docs.push(json!({"version": version, "resources": resources, "freshness": "Current"}));
        }
        let mut metadata = json!({"creationTimestamp": null});
        if !core {
            metadata["name"] = json!(group);
        }
        items.push(json!({"metadata": metadata, "versions": version_docs}));
    }
    json!({
        "kind": "APIGroupDiscoveryList",
        "apiVersion": format!("apidiscovery.k8s.io/{api_version}"),
        "metadata": {},
        "items": items,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::resources::Resources;

    #[test]
    fn storage_version_hash_matches_kube() {
        // Values from kube-apiserver's discovery fixtures (api/discovery/api__v1.json).
        let r = Resources::new();
        let s = r.snapshot();
        let pods = s.lookup("", "v1", "pods").unwrap();
        assert_eq!(storage_version_hash(pods), "xPOwRZ+Yhw8=");
        let cms = s.lookup("", "v1", "configmaps").unwrap();
        assert_eq!(storage_version_hash(cms), "qFsyl6wFWjQ=");
    }

    #[test]
    fn core_list_has_subresources_with_their_groups() {
        let r = Resources::new();
        let doc = resource_list(&r.snapshot(), "apps", "v1").unwrap();
        let scale = doc["resources"].as_array().unwrap().iter().find(|e| e["name"] == "deployments/scale").unwrap();
        assert_eq!(scale["group"], "autoscaling");
        assert_eq!(scale["kind"], "Scale");
    }
}
