//! Authorization: RBAC as kube-apiserver runs it (`--authorization-mode=RBAC`, the default
//! here), or `AlwaysAllow`. `system:masters` is always allowed, as kube's privileged-group
//! authorizer allows it ahead of RBAC. Besides deciding requests, this answers the access
//! reviews (`kubectl auth can-i [--list]`), refuses Role and binding writes that would grant
//! more than the writer holds (the `escalate` and `bind` verbs lift that), and keeps
//! aggregated ClusterRoles filled, as kube-controller-manager's aggregation controller does.

pub mod bootstrap;
pub mod policy;
pub mod rules;

use std::sync::Arc;

use serde_json::{json, Value};

use crate::error::{ApiError, Result};
use crate::http::authn::User;
use crate::registry::meta::meta_str;
use crate::registry::resources::ResourceDef;
use crate::registry::store::{Store, WriteOptions};
use policy::Policy;
use rules::{Request, Rule};

pub const GROUP: &str = "rbac.authorization.k8s.io";
const MASTERS: &str = "system:masters";

/// How requests are decided (`--authorization-mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    #[default]
    Rbac,
    AlwaysAllow,
}

/// Decides requests from the policy the server's watch keeps current.
#[derive(Debug, Clone)]
pub struct Authorizer {
    pub mode: Mode,
    pub policy: Arc<Policy>,
}

impl Authorizer {
    /// Whether `user` may do `req` in `namespace`: the reason when allowed (kube's text, empty
    /// for masters and AlwaysAllow), `None` when not.
    pub fn decide(&self, user: &User, namespace: &str, req: &Request) -> Option<String> {
        if self.mode == Mode::AlwaysAllow || user.groups.iter().any(|g| g == MASTERS) {
            return Some(String::new());
        }
        self.policy.allows(user, namespace, req)
    }

    /// Every rule `user` holds in `namespace`: masters and AlwaysAllow hold everything
    /// besides what RBAC grants them (kube unions what each authorizer lists).
    fn rules_for(&self, user: &User, namespace: &str) -> Vec<Rule> {
        let mut rules = Vec::new();
        if self.mode == Mode::AlwaysAllow || user.groups.iter().any(|g| g == MASTERS) {
            rules = full_authority();
        }
        rules.extend(self.policy.rules_for(user, namespace));
        rules
    }

    /// Answers an access review (SelfSubjectAccessReview, SubjectAccessReview,
    /// LocalSubjectAccessReview, SelfSubjectRulesReview) asked by `asker`; `namespace` is the
    /// URL's.
    pub fn review(&self, kind: &str, asker: &User, namespace: &str, mut obj: Value) -> Result<Value> {
        let spec = obj.get("spec").cloned().unwrap_or(Value::Null);
        let status = match kind {
            "SelfSubjectRulesReview" => {
                let ns = spec.get("namespace").and_then(Value::as_str).unwrap_or("");
                let rules = self.rules_for(asker, ns);
                let (urls, resources): (Vec<&Rule>, Vec<&Rule>) =
                    rules.iter().partition(|r| !r.non_resource_urls.is_empty());
                let resource_rules: Vec<Value> = resources
                    .iter()
                    .map(|r| {
                        let mut v = r.to_value();
                        v["apiGroups"] = json!(r.api_groups);
                        v["resources"] = json!(r.resources);
                        v
                    })
                    .collect();
                json!({
                    "resourceRules": resource_rules,
                    "nonResourceRules": urls.iter().map(|r| r.to_value()).collect::<Vec<_>>(),
                    "incomplete": false,
                })
            }
            "SelfSubjectAccessReview" | "SubjectAccessReview" | "LocalSubjectAccessReview" => {
                let subject = match kind {
                    "SelfSubjectAccessReview" => asker.clone(),
                    _ => subject_of(kind, &spec)?,
                };
                let (ns, req) = attributes(kind, namespace, &spec)?;
                match self.decide(&subject, &ns, &req.as_request()) {
                    Some(reason) if reason.is_empty() => json!({"allowed": true}),
                    Some(reason) => json!({"allowed": true, "reason": reason}),
                    None => json!({"allowed": false}),
                }
            }
            _ => return Err(ApiError::method_not_supported("authorization.k8s.io", kind, "create")),
        };
        obj["status"] = status;
        if obj.get("metadata").is_none() {
            obj["metadata"] = json!({});
        }
        Ok(obj)
    }

    /// kube's escalation check on a Role, ClusterRole, RoleBinding or ClusterRoleBinding that
    /// `user` writes: the writer must hold every permission it grants, unless allowed to
    /// `escalate` (roles) or `bind` (bindings) it.
    pub fn check_escalation(&self, user: &User, def: &ResourceDef, obj: &Value) -> Result<()> {
        if def.group != GROUP || self.mode == Mode::AlwaysAllow || user.groups.iter().any(|g| g == MASTERS) {
            return Ok(());
        }
        let name = meta_str(obj, "name");
        let namespace = if def.namespaced { meta_str(obj, "namespace") } else { "" };
        let may = |verb: &str, resource: &str, name: &str| {
            let req = Request { verb, is_resource: true, group: GROUP, resource, name, ..Request::default() };
            self.decide(user, namespace, &req).is_some()
        };
        let wanted = match def.kind.as_str() {
            "Role" | "ClusterRole" => {
                if may("escalate", &def.resource, name) {
                    return Ok(());
                }
                let rules: Vec<Rule> = obj
                    .get("rules")
                    .and_then(Value::as_array)
                    .map(|r| r.iter().map(Rule::from_value).collect())
                    .unwrap_or_default();
                self.confirm_no_escalation(user, def, name, namespace, &rules)?;
                if obj.get("aggregationRule").is_some_and(|a| !a.is_null()) {
                    let missing = rules::missing(&self.rules_for(user, namespace), &full_authority());
                    if !missing.is_empty() {
                        return Err(ApiError::forbidden(
                            GROUP,
                            &def.resource,
                            name,
                            "must have cluster-admin privileges to use the aggregationRule",
                        ));
                    }
                }
                return Ok(());
            }
            "RoleBinding" | "ClusterRoleBinding" => {
                let role_kind = obj.pointer("/roleRef/kind").and_then(Value::as_str).unwrap_or("");
                let role_name = obj.pointer("/roleRef/name").and_then(Value::as_str).unwrap_or("");
                let role_resource = if role_kind == "Role" { "roles" } else { "clusterroles" };
                if may("bind", role_resource, role_name) {
                    return Ok(());
                }
                let role_ns = if role_kind == "Role" { namespace } else { "" };
                self.policy
                    .role_rules(role_kind, role_ns, role_name)
                    .ok_or_else(|| ApiError::not_found(GROUP, role_resource, role_name))?
            }
            _ => return Ok(()),
        };
        self.confirm_no_escalation(user, def, name, namespace, &wanted)
    }

    fn confirm_no_escalation(
        &self,
        user: &User,
        def: &ResourceDef,
        name: &str,
        namespace: &str,
        wanted: &[Rule],
    ) -> Result<()> {
        let missing = rules::missing(&self.rules_for(user, namespace), wanted);
        if missing.is_empty() {
            return Ok(());
        }
        let mut lines: Vec<String> = missing.iter().map(Rule::compact_string).collect();
        lines.sort();
        lines.dedup();
        let groups: Vec<String> = user.groups.iter().map(|g| format!("{g:?}")).collect();
        let why = format!(
            "user {:?} (groups=[{}]) is attempting to grant RBAC permissions not currently held:\n{}",
            user.name,
            groups.join(" "),
            lines.join("\n")
        );
        Err(ApiError::forbidden(GROUP, &def.resource, name, &why))
    }
}

/// `*` on everything: what masters and AlwaysAllow hold, and what an aggregationRule needs.
fn full_authority() -> Vec<Rule> {
    let all = || vec!["*".to_string()];
    vec![
        Rule { verbs: all(), api_groups: all(), resources: all(), ..Rule::default() },
        Rule { verbs: all(), non_resource_urls: all(), ..Rule::default() },
    ]
}

/// The user a SubjectAccessReview asks about.
fn subject_of(kind: &str, spec: &Value) -> Result<User> {
    let name = spec.get("user").and_then(Value::as_str).unwrap_or("").to_string();
    let groups: Vec<String> = spec
        .get("groups")
        .and_then(Value::as_array)
        .map(|g| g.iter().filter_map(Value::as_str).map(str::to_string).collect())
        .unwrap_or_default();
    if name.is_empty() && groups.is_empty() {
        return Err(ApiError::invalid(
            "authorization.k8s.io",
            kind,
            "",
            vec![crate::error::Cause::invalid(
                "spec.user",
                &json!(""),
                "at least one of user or group must be specified",
            )],
        ));
    }
    let uid = spec.get("uid").and_then(Value::as_str).unwrap_or("").to_string();
    Ok(User { name, uid, groups })
}

/// The attributes of an access review, owned: (namespace, request).
struct Asked {
    verb: String,
    is_resource: bool,
    group: String,
    resource: String,
    subresource: String,
    name: String,
    path: String,
}

impl Asked {
    fn as_request(&self) -> Request<'_> {
        Request {
            verb: &self.verb,
            is_resource: self.is_resource,
            group: &self.group,
            resource: &self.resource,
            subresource: &self.subresource,
            name: &self.name,
            path: &self.path,
        }
    }
}

fn attributes(kind: &str, url_namespace: &str, spec: &Value) -> Result<(String, Asked)> {
    let text = |v: &Value, field: &str| v.get(field).and_then(Value::as_str).unwrap_or("").to_string();
    let resource = spec.get("resourceAttributes").filter(|v| v.is_object());
    let non_resource = spec.get("nonResourceAttributes").filter(|v| v.is_object());
    let invalid = |field: &str, value: Value, detail: &str| {
        ApiError::invalid("authorization.k8s.io", kind, "", vec![crate::error::Cause::invalid(field, &value, detail)])
    };
    match (resource, non_resource) {
        (Some(r), None) => {
            let ns = text(r, "namespace");
            if kind == "LocalSubjectAccessReview" && ns != url_namespace {
                return Err(invalid("spec.resourceAttributes.namespace", json!(ns), "must match metadata.namespace"));
            }
            let asked = Asked {
                verb: text(r, "verb"),
                is_resource: true,
                group: text(r, "group"),
                resource: text(r, "resource"),
                subresource: text(r, "subresource"),
                name: text(r, "name"),
                path: String::new(),
            };
            Ok((ns, asked))
        }
        (None, Some(n)) if kind != "LocalSubjectAccessReview" => {
            let asked = Asked {
                verb: text(n, "verb"),
                is_resource: false,
                group: String::new(),
                resource: String::new(),
                subresource: String::new(),
                name: String::new(),
                path: text(n, "path"),
            };
            Ok((String::new(), asked))
        }
        (None, Some(n)) => Err(invalid("spec.nonResourceAttributes", n.clone(), "disallowed on this kind of request")),
        _ => Err(invalid(
            "spec.resourceAttributes",
            resource.cloned().unwrap_or(Value::Null),
            "exactly one of nonResourceAttributes or resourceAttributes must be specified",
        )),
    }
}

/// Writes the rules of aggregated ClusterRoles that fell behind the roles they gather.
/// Conflicts are left to the next change: another server may have written the same.
pub async fn aggregate(store: &Store) {
    let Ok(def) = store.def(GROUP, "v1", "clusterroles") else { return };
    for (name, rules) in store.rbac.stale_aggregations() {
        let Ok(mut role) = store.get(&def, "v1", "", &name).await else { continue };
        role["rules"] = Value::Array(rules.iter().map(Rule::to_value).collect());
        if let Err(e) = store.update(&def, "v1", "", &name, role, None, &WriteOptions::default()).await {
            tracing::debug!(role = %name, error = %e.message, "aggregation write deferred");
        }
    }
}
