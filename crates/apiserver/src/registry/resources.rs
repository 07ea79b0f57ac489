//! The resources the server serves right now: the built-in catalog plus the established
//! CustomResourceDefinitions. Discovery, routing and the store all read one snapshot of it.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use serde_json::Value;

use crate::kinds::catalog;

/// A subresource of a resource (`status`, `scale`, `binding`, ...).
#[derive(Debug, Clone)]
pub struct SubresourceDef {
    pub name: String,
    /// Group of the subresource's kind when it differs (e.g. `autoscaling` for scale).
    pub group: Option<String>,
    pub version: Option<String>,
    pub kind: String,
    pub verbs: Vec<String>,
}

/// What a custom resource carries beyond the built-in fields.
#[derive(Debug, Clone, Default)]
pub struct CrdVersion {
    pub name: String,
    pub served: bool,
    pub storage: bool,
    pub schema: Option<Value>,
    pub printer_columns: Option<Value>,
    pub status: bool,
    pub scale: Option<Value>,
}

/// One served resource.
#[derive(Debug, Clone)]
pub struct ResourceDef {
    pub group: String,
    /// Served versions, preferred first.
    pub versions: Vec<String>,
    pub resource: String,
    pub singular: String,
    pub kind: String,
    pub namespaced: bool,
    pub verbs: Vec<String>,
    pub short_names: Vec<String>,
    pub categories: Vec<String>,
    pub subresources: Vec<SubresourceDef>,
    /// Key prefix under the etcd prefix, e.g. `pods` or `services/specs`.
    pub key_prefix: String,
    /// Versions of a custom resource; None for built-ins.
    pub crd: Option<Vec<CrdVersion>>,
}

impl ResourceDef {
    /// Whether the resource keeps objects (virtual ones such as reviews do not).
    pub fn is_stored(&self) -> bool {
        self.verbs.iter().any(|v| v == "get")
    }

    pub fn has_subresource(&self, name: &str) -> bool {
        self.subresources.iter().any(|s| s.name == name)
    }

    pub fn supports(&self, verb: &str) -> bool {
        self.verbs.iter().any(|v| v == verb)
    }

    /// `apps/v1` or `v1`.
    pub fn api_version(&self, version: &str) -> String {
        if self.group.is_empty() {
            version.to_string()
        } else {
            format!("{}/{}", self.group, version)
        }
    }

    /// The version objects are written at (the first, for built-ins; the storage version for CRDs).
    pub fn storage_version(&self) -> &str {
        if let Some(versions) = &self.crd {
            if let Some(v) = versions.iter().find(|v| v.storage) {
                return &v.name;
            }
        }
        self.versions.first().map(String::as_str).unwrap_or("v1")
    }

    /// The CRD data of one version, if this is a custom resource.
    pub fn crd_version(&self, version: &str) -> Option<&CrdVersion> {
        self.crd.as_ref()?.iter().find(|v| v.name == version)
    }
}

/// Where kube-apiserver keeps a resource in etcd, when not simply `<resource>`
/// (pkg/kubeapiserver/default_storage_factory_builder.go and the registries' prefixes).
pub fn key_prefix(group: &str, resource: &str, custom: bool) -> String {
    if custom {
        return format!("{group}/{resource}");
    }
    match (group, resource) {
        ("", "services") => "services/specs".into(),
        ("", "endpoints") => "services/endpoints".into(),
        ("", "nodes") => "minions".into(),
        ("", "replicationcontrollers") => "controllers".into(),
        ("networking.k8s.io", "ingresses") => "ingress".into(),
        ("apiextensions.k8s.io", _) | ("apiregistration.k8s.io", _) => format!("{group}/{resource}"),
        // kube-apiserver keeps events.k8s.io Events together with core Events.
        _ => resource.to_string(),
    }
}

fn from_catalog(r: &catalog::Resource) -> ResourceDef {
    let strings = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    ResourceDef {
        group: r.group.into(),
        versions: strings(r.versions),
        resource: r.resource.into(),
        singular: r.singular.into(),
        kind: r.kind.into(),
        namespaced: r.namespaced,
        verbs: strings(r.verbs),
        short_names: strings(r.short_names),
        categories: strings(r.categories),
        subresources: r
            .subresources
            .iter()
            .map(|s| {
                let (group, version) = match s.group_version {
                    Some(gv) => match gv.split_once('/') {
                        Some((g, v)) => (Some(g.to_string()), Some(v.to_string())),
                        None => (Some(String::new()), Some(gv.to_string())),
                    },
                    None => (None, None),
                };
                SubresourceDef { name: s.name.into(), group, version, kind: s.kind.into(), verbs: strings(s.verbs) }
            })
            .collect(),
        key_prefix: key_prefix(r.group, r.resource, false),
        crd: None,
    }
}

/// An immutable view of every served resource.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// In discovery order: built-ins in catalog order, then CRDs by name.
    pub all: Vec<Arc<ResourceDef>>,
    by_gvr: HashMap<(String, String, String), Arc<ResourceDef>>,
    by_gk: HashMap<(String, String), Arc<ResourceDef>>,
}

impl Snapshot {
    fn build(all: Vec<Arc<ResourceDef>>) -> Self {
        let mut by_gvr = HashMap::new();
        let mut by_gk = HashMap::new();
        for def in &all {
            for v in &def.versions {
                by_gvr.insert((def.group.clone(), v.clone(), def.resource.clone()), def.clone());
            }
            by_gk.entry((def.group.clone(), def.kind.clone())).or_insert_with(|| def.clone());
        }
        Snapshot { all, by_gvr, by_gk }
    }

    pub fn lookup(&self, group: &str, version: &str, resource: &str) -> Option<&Arc<ResourceDef>> {
        self.by_gvr.get(&(group.to_string(), version.to_string(), resource.to_string()))
    }

    pub fn by_kind(&self, group: &str, kind: &str) -> Option<&Arc<ResourceDef>> {
        self.by_gk.get(&(group.to_string(), kind.to_string()))
    }

    /// Groups with their versions (preferred first), in discovery order; core ("") first.
    pub fn groups(&self) -> Vec<(String, Vec<String>)> {
        let mut out: Vec<(String, Vec<String>)> = Vec::new();
        let builtin_order: Vec<&str> = catalog::GROUPS.iter().map(|g| g.name).collect();
        for g in catalog::GROUPS {
            if self.all.iter().any(|d| d.group == g.name && d.crd.is_none()) {
                out.push((g.name.to_string(), g.versions.iter().map(|v| v.to_string()).collect()));
            }
        }
        for def in &self.all {
            if builtin_order.contains(&def.group.as_str()) && def.crd.is_none() {
                continue;
            }
            match out.iter_mut().find(|(g, _)| *g == def.group) {
                Some((_, versions)) => {
                    for v in &def.versions {
                        if !versions.contains(v) {
                            versions.push(v.clone());
                        }
                    }
                }
                None => out.push((def.group.clone(), def.versions.clone())),
            }
        }
        // CRD groups order their versions by Kubernetes version priority, as kube does.
        for (g, versions) in out.iter_mut() {
            if !builtin_order.contains(&g.as_str()) {
                versions.sort_by_key(|v| std::cmp::Reverse(version_priority(v)));
            }
        }
        out
    }
}

/// kube's version ordering: GA > beta > alpha > other, higher numbers first.
pub fn version_priority(v: &str) -> (u8, u32, u32, String) {
    let parse = |s: &str| -> Option<(u32, u8, u32)> {
        let rest = s.strip_prefix('v')?;
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        let major: u32 = digits.parse().ok()?;
        let tail = &rest[digits.len()..];
        if tail.is_empty() {
            return Some((major, 3, 0));
        }
        let (level, num) = if let Some(n) = tail.strip_prefix("beta") {
            (2, n)
        } else if let Some(n) = tail.strip_prefix("alpha") {
            (1, n)
        } else {
            return None;
        };
        Some((major, level, num.parse().ok()?))
    };
    match parse(v) {
        Some((major, level, minor)) => (level, major, minor, String::new()),
        // Non-Kubernetes versions sort last, alphabetically.
        None => (0, 0, 0, v.chars().map(|c| char::from_u32(0x10FFFF - c as u32).unwrap_or(c)).collect()),
    }
}

/// The live set of resources; swapped whole when CRDs change.
pub struct Resources {
    builtins: Vec<Arc<ResourceDef>>,
    crds: RwLock<HashMap<String, Arc<ResourceDef>>>,
    current: RwLock<Arc<Snapshot>>,
}

impl Default for Resources {
    fn default() -> Self {
        Self::new()
    }
}

impl Resources {
    /// The built-in catalog, with no CRDs yet.
    pub fn new() -> Self {
        let builtins: Vec<Arc<ResourceDef>> = catalog::RESOURCES.iter().map(|r| Arc::new(from_catalog(r))).collect();
        let current = RwLock::new(Arc::new(Snapshot::build(builtins.clone())));
        Resources { builtins, crds: RwLock::new(HashMap::new()), current }
    }

    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.current.read().map(|s| s.clone()).unwrap_or_default()
    }

    /// Adds or replaces the resource of a CRD (keyed by the CRD's name).
    pub fn set_crd(&self, crd_name: &str, def: Option<ResourceDef>) {
        if let Ok(mut crds) = self.crds.write() {
            match def {
                Some(def) => crds.insert(crd_name.to_string(), Arc::new(def)),
                None => crds.remove(crd_name),
            };
            let mut names: Vec<&String> = crds.keys().collect();
            names.sort();
            let mut all = self.builtins.clone();
            all.extend(names.into_iter().filter_map(|n| crds.get(n).cloned()));
            if let Ok(mut current) = self.current.write() {
                *current = Arc::new(Snapshot::build(all));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_priority_orders_like_kube() {
        let mut vs = vec!["v1beta1", "v1", "v2alpha1", "foo", "v2", "v10beta3", "v1alpha1"];
        vs.sort_by_key(|v| std::cmp::Reverse(version_priority(v)));
        assert_eq!(vs, vec!["v2", "v1", "v10beta3", "v1beta1", "v2alpha1", "v1alpha1", "foo"]);
    }

    #[test]
    fn builtins_are_found_by_version_and_kind() {
        let r = Resources::new();
        let s = r.snapshot();
        assert_eq!(s.lookup("apps", "v1", "deployments").map(|d| d.kind.as_str()), Some("Deployment"));
        assert_eq!(s.by_kind("", "Pod").map(|d| d.key_prefix.as_str()), Some("pods"));
        assert_eq!(s.by_kind("", "Service").map(|d| d.key_prefix.as_str()), Some("services/specs"));
    }
}
