//! The RBAC objects in memory: Roles, ClusterRoles and their bindings, kept current by the
//! server-wide watch of the in-server controllers (as kube's authorizer reads informer caches),
//! and what they grant a user (kube's `VisitRulesFor`).

use std::collections::{BTreeMap, HashMap};
use std::sync::RwLock;

use serde_json::{json, Value};

use super::rules::{Request, Rule};
use crate::http::authn::User;
use crate::registry::selector::LabelSelector;

/// The etcd key prefixes (after the root) of the four RBAC resources.
const CLUSTER_ROLES: &str = "clusterroles/";
const ROLES: &str = "roles/";
const CLUSTER_ROLE_BINDINGS: &str = "clusterrolebindings/";
const ROLE_BINDINGS: &str = "rolebindings/";

#[derive(Debug, Clone, Default)]
struct Role {
    rules: Vec<Rule>,
    /// The object, for its labels (aggregation selects ClusterRoles by label).
    meta: Value,
    /// `aggregationRule.clusterRoleSelectors` of a ClusterRole that has one.
    aggregation: Option<Vec<LabelSelector>>,
}

#[derive(Debug, Clone)]
struct Subject {
    kind: String,
    name: String,
    namespace: String,
}

#[derive(Debug, Clone)]
struct Binding {
    /// `Role` or `ClusterRole`.
    role_kind: String,
    role_name: String,
    subjects: Vec<Subject>,
}

#[derive(Debug, Default)]
struct Objects {
    cluster_roles: BTreeMap<String, Role>,
    /// By namespace, then name.
    roles: HashMap<String, BTreeMap<String, Role>>,
    cluster_role_bindings: BTreeMap<String, Binding>,
    role_bindings: HashMap<String, BTreeMap<String, Binding>>,
}

/// Where a rule came from, for kube's "allowed by ..." reason.
pub struct Source<'a> {
    /// `ClusterRoleBinding` or `RoleBinding`.
    pub binding_kind: &'static str,
    pub binding_name: &'a str,
    pub binding_namespace: &'a str,
    pub role_kind: &'a str,
    pub role_name: &'a str,
    /// The subject that matched, e.g. `Group "system:masters"`.
    pub subject: String,
}

/// The RBAC objects of one server.
#[derive(Debug, Default)]
pub struct Policy(RwLock<Objects>);

fn binding(obj: &Value) -> Binding {
    let subjects = obj
        .get("subjects")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .map(|s| Subject {
                    kind: s.get("kind").and_then(Value::as_str).unwrap_or("").to_string(),
                    name: s.get("name").and_then(Value::as_str).unwrap_or("").to_string(),
                    namespace: s.get("namespace").and_then(Value::as_str).unwrap_or("").to_string(),
                })
                .collect()
        })
        .unwrap_or_default();
    let role_ref =
        |field: &str| obj.pointer(&format!("/roleRef/{field}")).and_then(Value::as_str).unwrap_or("").to_string();
    Binding { role_kind: role_ref("kind"), role_name: role_ref("name"), subjects }
}

fn role(obj: &Value) -> Role {
    let rules = obj.get("rules").and_then(Value::as_array).map(|r| r.iter().map(Rule::from_value).collect());
    let aggregation = obj
        .pointer("/aggregationRule/clusterRoleSelectors")
        .and_then(Value::as_array)
        .map(|selectors| selectors.iter().map(LabelSelector::from_object).collect());
    let meta = json!({"metadata": {"labels": obj.pointer("/metadata/labels").cloned().unwrap_or(Value::Null)}});
    Role { rules: rules.unwrap_or_default(), meta, aggregation }
}

impl Subject {
    /// kube's `appliesToUser`: a service account subject without a namespace takes the
    /// binding's.
    fn applies_to(&self, user: &User, binding_namespace: &str) -> bool {
        match self.kind.as_str() {
            "User" => self.name == user.name,
            "Group" => user.groups.contains(&self.name),
            "ServiceAccount" => {
                let ns = if self.namespace.is_empty() { binding_namespace } else { &self.namespace };
                user.name == format!("system:serviceaccount:{ns}:{}", self.name)
            }
            _ => false,
        }
    }

    fn describe(&self) -> String {
        match self.kind.as_str() {
            "ServiceAccount" => format!("ServiceAccount \"{}/{}\"", self.namespace, self.name),
            kind => format!("{kind} {:?}", self.name),
        }
    }
}

/// Keeps `value` under `name`, or forgets the name when there is none.
fn set<T>(map: &mut BTreeMap<String, T>, name: String, value: Option<T>) {
    match value {
        Some(v) => map.insert(name, v),
        None => map.remove(&name),
    };
}

impl Policy {
    /// Notes a changed or deleted (`None`) object; `key` is its etcd key after the root prefix.
    /// Keys of other resources are ignored.
    pub fn note(&self, key: &str, obj: Option<&Value>) {
        let Ok(mut objects) = self.0.write() else { return };
        let objects = &mut *objects;
        let split = |rest: &str| rest.split_once('/').map(|(ns, name)| (ns.to_string(), name.to_string()));
        if let Some(name) = key.strip_prefix(CLUSTER_ROLES) {
            set(&mut objects.cluster_roles, name.to_string(), obj.map(role));
        } else if let Some((ns, name)) = key.strip_prefix(ROLES).and_then(split) {
            set(objects.roles.entry(ns).or_default(), name, obj.map(role));
        } else if let Some(name) = key.strip_prefix(CLUSTER_ROLE_BINDINGS) {
            set(&mut objects.cluster_role_bindings, name.to_string(), obj.map(binding));
        } else if let Some((ns, name)) = key.strip_prefix(ROLE_BINDINGS).and_then(split) {
            set(objects.role_bindings.entry(ns).or_default(), name, obj.map(binding));
        }
    }

    /// Whether `key` (after the root prefix) is a ClusterRole's: aggregation may follow.
    pub fn is_cluster_role(key: &str) -> bool {
        key.starts_with(CLUSTER_ROLES)
    }

    /// Whether `key` (after the root prefix) holds a role or a binding: only those are decoded
    /// and noted, not every object the server's watch sees.
    pub fn concerns(key: &str) -> bool {
        [CLUSTER_ROLES, ROLES, CLUSTER_ROLE_BINDINGS, ROLE_BINDINGS].iter().any(|p| key.starts_with(p))
    }

    /// Calls `visit` with every rule the user holds in `namespace` (cluster-wide bindings
    /// first, then the namespace's), until it answers true.
    pub fn visit(&self, user: &User, namespace: &str, mut visit: impl FnMut(&Source, &Rule) -> bool) -> bool {
        let Ok(objects) = self.0.read() else { return false };
        let empty = BTreeMap::new();
        let namespaced =
            if namespace.is_empty() { &empty } else { objects.role_bindings.get(namespace).unwrap_or(&empty) };
        let all = objects
            .cluster_role_bindings
            .iter()
            .map(|(name, b)| ("ClusterRoleBinding", name, "", b))
            .chain(namespaced.iter().map(|(name, b)| ("RoleBinding", name, namespace, b)));
        for (binding_kind, binding_name, binding_namespace, b) in all {
            let Some(subject) = b.subjects.iter().find(|s| s.applies_to(user, binding_namespace)) else { continue };
            let role = match b.role_kind.as_str() {
                "ClusterRole" => objects.cluster_roles.get(&b.role_name),
                "Role" if !binding_namespace.is_empty() => {
                    objects.roles.get(binding_namespace).and_then(|r| r.get(&b.role_name))
                }
                _ => None,
            };
            let Some(role) = role else { continue };
            let source = Source {
                binding_kind,
                binding_name,
                binding_namespace,
                role_kind: &b.role_kind,
                role_name: &b.role_name,
                subject: subject.describe(),
            };
            if role.rules.iter().any(|r| visit(&source, r)) {
                return true;
            }
        }
        false
    }

    /// kube's RBAC decision: the reason of the first rule that allows `req`, or None.
    pub fn allows(&self, user: &User, namespace: &str, req: &Request) -> Option<String> {
        let mut reason = None;
        self.visit(user, namespace, |source, rule| {
            if !rule.allows(req) {
                return false;
            }
            let binding = if source.binding_namespace.is_empty() {
                format!("{} {:?}", source.binding_kind, source.binding_name)
            } else {
                format!("{} \"{}/{}\"", source.binding_kind, source.binding_namespace, source.binding_name)
            };
            reason = Some(format!(
                "RBAC: allowed by {binding} of {} {:?} to {}",
                source.role_kind, source.role_name, source.subject
            ));
            true
        });
        reason
    }

    /// The rules of the Role (in `namespace`) or ClusterRole a binding refers to.
    pub fn role_rules(&self, kind: &str, namespace: &str, name: &str) -> Option<Vec<Rule>> {
        let objects = self.0.read().ok()?;
        let role = match kind {
            "ClusterRole" => objects.cluster_roles.get(name),
            "Role" => objects.roles.get(namespace).and_then(|r| r.get(name)),
            _ => None,
        };
        role.map(|r| r.rules.clone())
    }

    /// Every rule the user holds in `namespace`.
    pub fn rules_for(&self, user: &User, namespace: &str) -> Vec<Rule> {
        let mut out = Vec::new();
        self.visit(user, namespace, |_, rule| {
            out.push(rule.clone());
            false
        });
        out
    }

    /// kube's ClusterRole aggregation: each ClusterRole with an aggregationRule whose rules
    /// are not the union of the rules of the ClusterRoles its selectors pick (in name order,
    /// each rule once), with that union.
    pub fn stale_aggregations(&self) -> Vec<(String, Vec<Rule>)> {
        let Ok(objects) = self.0.read() else { return Vec::new() };
        let names: Vec<&String> = objects.cluster_roles.keys().collect();
        let mut stale = Vec::new();
        for (name, role) in &objects.cluster_roles {
            let Some(selectors) = &role.aggregation else { continue };
            let mut union: Vec<Rule> = Vec::new();
            for selector in selectors.iter().filter(|s| !s.is_empty()) {
                for source in names.iter().filter(|n| **n != name) {
                    let picked = &objects.cluster_roles[*source];
                    if !selector.matches(&picked.meta) {
                        continue;
                    }
                    for rule in &picked.rules {
                        if !union.contains(rule) {
                            union.push(rule.clone());
                        }
                    }
                }
            }
            if union != role.rules {
                stale.push((name.clone(), union));
            }
        }
        stale
    }
}
