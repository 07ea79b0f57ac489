//! PolicyRules: what one allows (kube's `rbac.go` RuleAllows and its matchers), whether a set
//! of rules covers another (the escalation check's `Covers`), and kube's compact wording of a
//! rule in its "attempting to grant RBAC permissions not currently held" message.

use serde_json::{json, Value};

/// One rule of a Role or ClusterRole.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rule {
    pub verbs: Vec<String>,
    pub api_groups: Vec<String>,
    pub resources: Vec<String>,
    pub resource_names: Vec<String>,
    pub non_resource_urls: Vec<String>,
}

fn strings(v: &Value, field: &str) -> Vec<String> {
    v.get(field)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
        .unwrap_or_default()
}

/// The request as rules see it.
#[derive(Debug, Clone, Default)]
pub struct Request<'a> {
    pub verb: &'a str,
    pub is_resource: bool,
    pub group: &'a str,
    pub resource: &'a str,
    pub subresource: &'a str,
    pub name: &'a str,
    /// The URL path, for non-resource requests.
    pub path: &'a str,
}

impl Rule {
    pub fn from_value(v: &Value) -> Self {
        Rule {
            verbs: strings(v, "verbs"),
            api_groups: strings(v, "apiGroups"),
            resources: strings(v, "resources"),
            resource_names: strings(v, "resourceNames"),
            non_resource_urls: strings(v, "nonResourceURLs"),
        }
    }

    pub fn to_value(&self) -> Value {
        let mut out = json!({"verbs": self.verbs});
        for (field, list) in [
            ("apiGroups", &self.api_groups),
            ("resources", &self.resources),
            ("resourceNames", &self.resource_names),
            ("nonResourceURLs", &self.non_resource_urls),
        ] {
            if !list.is_empty() {
                out[field] = json!(list);
            }
        }
        out
    }

    fn verb_matches(&self, verb: &str) -> bool {
        self.verbs.iter().any(|v| v == "*" || v == verb)
    }

    fn group_matches(&self, group: &str) -> bool {
        self.api_groups.iter().any(|g| g == "*" || g == group)
    }

    /// `pods`, `pods/log`, `*` and `*/scale` (any resource's scale subresource).
    fn resource_matches(&self, resource: &str, subresource: &str) -> bool {
        let combined = if subresource.is_empty() { resource.to_string() } else { format!("{resource}/{subresource}") };
        self.resources.iter().any(|r| {
            r == "*" || *r == combined || (!subresource.is_empty() && r.strip_prefix("*/") == Some(subresource))
        })
    }

    fn name_matches(&self, name: &str) -> bool {
        self.resource_names.is_empty() || (!name.is_empty() && self.resource_names.iter().any(|n| n == name))
    }

    /// `/healthz` matches itself, `*` everything, `/apis/*` every path under `/apis/`.
    fn url_matches(&self, path: &str) -> bool {
        self.non_resource_urls
            .iter()
            .any(|u| u == "*" || u == path || u.strip_suffix('*').is_some_and(|prefix| path.starts_with(prefix)))
    }

    pub fn allows(&self, req: &Request) -> bool {
        if !self.verb_matches(req.verb) {
            return false;
        }
        if req.is_resource {
            self.group_matches(req.group)
                && self.resource_matches(req.resource, req.subresource)
                && self.name_matches(req.name)
        } else {
            self.url_matches(req.path)
        }
    }

    /// The rule as rules of one verb, group, resource (and name, or URL) each.
    fn breakdown(&self) -> Vec<Rule> {
        let one = |s: &String| vec![s.clone()];
        let mut out = Vec::new();
        for verb in &self.verbs {
            for group in &self.api_groups {
                for resource in &self.resources {
                    if self.resource_names.is_empty() {
                        out.push(Rule {
                            verbs: one(verb),
                            api_groups: one(group),
                            resources: one(resource),
                            ..Rule::default()
                        });
                    }
                    for name in &self.resource_names {
                        out.push(Rule {
                            verbs: one(verb),
                            api_groups: one(group),
                            resources: one(resource),
                            resource_names: one(name),
                            ..Rule::default()
                        });
                    }
                }
            }
            for url in &self.non_resource_urls {
                out.push(Rule { verbs: one(verb), non_resource_urls: one(url), ..Rule::default() });
            }
        }
        out
    }

    /// Whether this rule grants everything the simple rule `other` (from `breakdown`) does.
    fn covers_simple(&self, other: &Rule) -> bool {
        let has = |list: &[String], value: &str| list.iter().any(|x| x == "*" || x == value);
        let verb = &other.verbs[0];
        if !has(&self.verbs, verb) {
            return false;
        }
        if let Some(url) = other.non_resource_urls.first() {
            return self
                .non_resource_urls
                .iter()
                .any(|u| u == "*" || u == url || u.strip_suffix('*').is_some_and(|prefix| url.starts_with(prefix)));
        }
        let (group, resource) = (&other.api_groups[0], &other.resources[0]);
        let resource_covered = self.resources.iter().any(|r| {
            r == "*"
                || r == resource
                // `*/scale` covers `deployments/scale`.
                || r.strip_prefix("*/").is_some_and(|sub| resource.split_once('/').is_some_and(|(_, s)| s == sub))
        });
        let name_covered = self.resource_names.is_empty()
            || other.resource_names.first().is_some_and(|n| self.resource_names.contains(n));
        has(&self.api_groups, group) && resource_covered && name_covered
    }

    /// kube's `CompactString`: `{APIGroups:["apps"], Resources:["deployments"], Verbs:["get"]}`.
    pub fn compact_string(&self) -> String {
        let quoted = |list: &[String]| list.iter().map(|s| format!("{s:?}")).collect::<Vec<_>>().join(" ");
        let mut parts = Vec::new();
        for (field, list) in [
            ("APIGroups", &self.api_groups),
            ("Resources", &self.resources),
            ("ResourceNames", &self.resource_names),
            ("NonResourceURLs", &self.non_resource_urls),
            ("Verbs", &self.verbs),
        ] {
            if !list.is_empty() {
                parts.push(format!("{field}:[{}]", quoted(list)));
            }
        }
        format!("{{{}}}", parts.join(", "))
    }
}

/// The parts of `wanted` that `owned` does not grant, compacted as kube compacts them
/// (simple rules on the same group and resource, without names, share one rule of verbs).
pub fn missing(owned: &[Rule], wanted: &[Rule]) -> Vec<Rule> {
    let mut missing: Vec<Rule> = Vec::new();
    for simple in wanted.iter().flat_map(Rule::breakdown) {
        if owned.iter().any(|o| o.covers_simple(&simple)) {
            continue;
        }
        let merged = missing.iter_mut().find(|m| {
            simple.resource_names.is_empty()
                && simple.non_resource_urls.is_empty()
                && m.resource_names.is_empty()
                && m.non_resource_urls.is_empty()
                && m.api_groups == simple.api_groups
                && m.resources == simple.resources
        });
        match merged {
            Some(m) if !m.verbs.contains(&simple.verbs[0]) => m.verbs.push(simple.verbs[0].clone()),
            Some(_) => {}
            None => missing.push(simple),
        }
    }
    missing
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(v: Value) -> Rule {
        Rule::from_value(&v)
    }

    fn resource<'a>(verb: &'a str, group: &'a str, resource: &'a str, sub: &'a str, name: &'a str) -> Request<'a> {
        Request { verb, is_resource: true, group, resource, subresource: sub, name, path: "" }
    }

    #[test]
    fn matching_follows_kube() {
        let pods = rule(json!({"verbs": ["get", "list"], "apiGroups": [""], "resources": ["pods", "pods/log"]}));
        assert!(pods.allows(&resource("get", "", "pods", "", "x")));
        assert!(pods.allows(&resource("get", "", "pods", "log", "x")));
        assert!(!pods.allows(&resource("get", "", "pods", "exec", "x")));
        assert!(!pods.allows(&resource("delete", "", "pods", "", "x")));
        assert!(!pods.allows(&resource("get", "apps", "pods", "", "x")));
        let scale = rule(json!({"verbs": ["*"], "apiGroups": ["*"], "resources": ["*/scale"]}));
        assert!(scale.allows(&resource("update", "apps", "deployments", "scale", "web")));
        assert!(!scale.allows(&resource("update", "apps", "deployments", "", "web")));
        let named =
            rule(json!({"verbs": ["get"], "apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["a"]}));
        assert!(named.allows(&resource("get", "", "configmaps", "", "a")));
        assert!(!named.allows(&resource("get", "", "configmaps", "", "b")));
        assert!(!named.allows(&resource("get", "", "configmaps", "", "")), "a list names nothing");
        let urls = rule(json!({"verbs": ["get"], "nonResourceURLs": ["/healthz", "/apis/*"]}));
        let url = |path| Request { verb: "get", path, ..Request::default() };
        assert!(urls.allows(&url("/healthz")) && urls.allows(&url("/apis/apps")) && !urls.allows(&url("/api")));
    }

    #[test]
    fn missing_rights_are_compacted_in_kube_words() {
        let owned = vec![rule(json!({"verbs": ["get", "list"], "apiGroups": [""], "resources": ["pods"]}))];
        let wanted = vec![
            rule(json!({"verbs": ["get", "delete"], "apiGroups": [""], "resources": ["pods", "secrets"]})),
            rule(json!({"verbs": ["get"], "nonResourceURLs": ["/metrics"]})),
        ];
        let mut text: Vec<String> = missing(&owned, &wanted).iter().map(Rule::compact_string).collect();
        text.sort();
        assert_eq!(
            text,
            [
                r#"{APIGroups:[""], Resources:["pods"], Verbs:["delete"]}"#,
                r#"{APIGroups:[""], Resources:["secrets"], Verbs:["get" "delete"]}"#,
                r#"{NonResourceURLs:["/metrics"], Verbs:["get"]}"#,
            ]
        );
        let admin = vec![rule(json!({"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}))];
        assert_eq!(missing(&admin, &wanted[..1]), Vec::<Rule>::new());
    }
}
