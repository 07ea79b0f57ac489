//! `nodeSelector` and required node affinity, matched as kube-scheduler's NodeAffinity plugin
//! does (`k8s.io/component-helpers/scheduling/corev1/nodeaffinity`).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{NodeSelector, NodeSelectorRequirement, NodeSelectorTerm};

/// Whether every `nodeSelector` pair is among the node's labels.
pub fn matches_node_selector(selector: &BTreeMap<String, String>, labels: &BTreeMap<String, String>) -> bool {
    selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

/// Whether a required node selector matches: its terms are OR'd; a term ANDs its expressions
/// and fields; a term with neither matches nothing (kube's rule, so `[{}]` selects no node).
pub fn matches_required(selector: &NodeSelector, node_name: &str, labels: &BTreeMap<String, String>) -> bool {
    selector.node_selector_terms.iter().any(|t| matches_term(t, node_name, labels))
}

fn matches_term(term: &NodeSelectorTerm, node_name: &str, labels: &BTreeMap<String, String>) -> bool {
    let exprs = term.match_expressions.as_deref().unwrap_or_default();
    let fields = term.match_fields.as_deref().unwrap_or_default();
    if exprs.is_empty() && fields.is_empty() {
        return false;
    }
    exprs.iter().all(|r| matches_label_requirement(r, labels)) && fields.iter().all(|r| matches_field(r, node_name))
}

fn matches_label_requirement(r: &NodeSelectorRequirement, labels: &BTreeMap<String, String>) -> bool {
    let values = r.values.as_deref().unwrap_or_default();
    let value = labels.get(&r.key);
    match r.operator.as_str() {
        "In" => value.is_some_and(|v| values.contains(v)),
        "NotIn" => value.is_none_or(|v| !values.contains(v)),
        "Exists" => value.is_some(),
        "DoesNotExist" => value.is_none(),
        "Gt" | "Lt" => {
            // Both sides must be integers; a single value is required (validation ensures it).
            let (Some(v), [bound]) = (value, values) else { return false };
            let (Ok(v), Ok(bound)) = (v.parse::<i64>(), bound.parse::<i64>()) else { return false };
            if r.operator == "Gt" {
                v > bound
            } else {
                v < bound
            }
        }
        _ => false,
    }
}

/// Field requirements support only `metadata.name` with In/NotIn, as in kube.
fn matches_field(r: &NodeSelectorRequirement, node_name: &str) -> bool {
    if r.key != "metadata.name" {
        return false;
    }
    let values = r.values.as_deref().unwrap_or_default();
    let name = node_name.to_string();
    match r.operator.as_str() {
        "In" => values.contains(&name),
        "NotIn" => !values.contains(&name),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn req(key: &str, op: &str, values: &[&str]) -> NodeSelectorRequirement {
        NodeSelectorRequirement {
            key: key.into(),
            operator: op.into(),
            values: Some(values.iter().map(|v| v.to_string()).collect()),
        }
    }

    fn term(exprs: Vec<NodeSelectorRequirement>) -> NodeSelectorTerm {
        NodeSelectorTerm { match_expressions: Some(exprs), match_fields: None }
    }

    #[test]
    fn node_selector_needs_every_pair() {
        let l = labels(&[("disk", "ssd"), ("zone", "a")]);
        assert!(matches_node_selector(&BTreeMap::new(), &l));
        assert!(matches_node_selector(&labels(&[("disk", "ssd")]), &l));
        assert!(!matches_node_selector(&labels(&[("disk", "ssd"), ("zone", "b")]), &l));
    }

    #[test]
    fn operators() {
        let l = labels(&[("disk", "ssd"), ("cores", "8")]);
        let one = |r| matches_required(&NodeSelector { node_selector_terms: vec![term(vec![r])] }, "n", &l);
        assert!(one(req("disk", "In", &["ssd", "nvme"])));
        assert!(!one(req("disk", "In", &["hdd"])));
        assert!(one(req("disk", "NotIn", &["hdd"])));
        assert!(one(req("absent", "NotIn", &["x"])));
        assert!(!one(req("disk", "NotIn", &["ssd"])));
        assert!(one(req("disk", "Exists", &[])));
        assert!(!one(req("absent", "Exists", &[])));
        assert!(one(req("absent", "DoesNotExist", &[])));
        assert!(one(req("cores", "Gt", &["4"])));
        assert!(!one(req("cores", "Gt", &["8"])));
        assert!(one(req("cores", "Lt", &["9"])));
        assert!(!one(req("disk", "Lt", &["9"])), "non-integer label never matches Gt/Lt");
        assert!(!one(req("disk", "Bogus", &["ssd"])));
    }

    #[test]
    fn terms_are_ored_and_expressions_anded() {
        let l = labels(&[("disk", "ssd"), ("zone", "a")]);
        let sel = NodeSelector {
            node_selector_terms: vec![
                term(vec![req("disk", "In", &["ssd"]), req("zone", "In", &["b"])]),
                term(vec![req("zone", "In", &["a"])]),
            ],
        };
        assert!(matches_required(&sel, "n", &l));
        let sel = NodeSelector {
            node_selector_terms: vec![term(vec![req("disk", "In", &["ssd"]), req("zone", "In", &["b"])])],
        };
        assert!(!matches_required(&sel, "n", &l));
        let empty = NodeSelector { node_selector_terms: vec![NodeSelectorTerm::default()] };
        assert!(!matches_required(&empty, "n", &l), "an empty term matches nothing");
    }

    #[test]
    fn match_fields_by_node_name() {
        let sel = |op: &str| NodeSelector {
            node_selector_terms: vec![NodeSelectorTerm {
                match_expressions: None,
                match_fields: Some(vec![req("metadata.name", op, &["nestor-node-1"])]),
            }],
        };
        assert!(matches_required(&sel("In"), "nestor-node-1", &BTreeMap::new()));
        assert!(!matches_required(&sel("In"), "nestor-node-0", &BTreeMap::new()));
        assert!(matches_required(&sel("NotIn"), "nestor-node-0", &BTreeMap::new()));
    }
}
