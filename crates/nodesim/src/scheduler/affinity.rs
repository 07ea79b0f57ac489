//! `nodeSelector` and required node affinity, matched as kube-scheduler's NodeAffinity plugin
//! does (`k8s.io/component-helpers/scheduling/corev1/nodeaffinity`).

pub use nestor_api::scheduling::{matches_node_selector, matches_required};

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{NodeSelector, NodeSelectorRequirement, NodeSelectorTerm};
    use std::collections::BTreeMap;

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
