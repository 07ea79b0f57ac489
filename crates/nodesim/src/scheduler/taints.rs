//! Taints and tolerations, as kube-scheduler's TaintToleration plugin checks them: only
//! `NoSchedule` and `NoExecute` taints keep a pod away (`PreferNoSchedule` is a preference).

use k8s_openapi::api::core::v1::{Taint, Toleration};

/// The taint kube puts on cordoned nodes; tolerating it lets a pod onto an unschedulable node.
pub const UNSCHEDULABLE_TAINT: &str = "node.kubernetes.io/unschedulable";

pub use nestor_api::scheduling::tolerates;

/// The first `NoSchedule`/`NoExecute` taint no toleration covers.
pub fn first_untolerated<'a>(taints: &'a [Taint], tolerations: &[Toleration]) -> Option<&'a Taint> {
    taints
        .iter()
        .filter(|t| t.effect == "NoSchedule" || t.effect == "NoExecute")
        .find(|t| !tolerations.iter().any(|tol| tolerates(tol, t)))
}

/// Whether a pod may go to a node with `spec.unschedulable` (kube's NodeUnschedulable plugin).
pub fn tolerates_unschedulable(tolerations: &[Toleration]) -> bool {
    let taint = Taint { key: UNSCHEDULABLE_TAINT.into(), effect: "NoSchedule".into(), ..Default::default() };
    tolerations.iter().any(|t| tolerates(t, &taint))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn taint(key: &str, value: &str, effect: &str) -> Taint {
        Taint { key: key.into(), value: Some(value.into()), effect: effect.into(), time_added: None }
    }

    fn tol(key: &str, op: &str, value: &str, effect: &str) -> Toleration {
        let opt = |s: &str| (!s.is_empty()).then(|| s.to_string());
        Toleration {
            key: opt(key),
            operator: opt(op),
            value: opt(value),
            effect: opt(effect),
            toleration_seconds: None,
        }
    }

    #[test]
    fn equal_needs_key_and_value() {
        let t = taint("dedicated", "gpu", "NoSchedule");
        assert!(tolerates(&tol("dedicated", "Equal", "gpu", "NoSchedule"), &t));
        assert!(
            tolerates(&tol("dedicated", "", "gpu", ""), &t),
            "operator defaults to Equal, empty effect matches all"
        );
        assert!(!tolerates(&tol("dedicated", "Equal", "cpu", "NoSchedule"), &t));
        assert!(!tolerates(&tol("dedicated", "Equal", "gpu", "NoExecute"), &t));
    }

    #[test]
    fn exists_ignores_value_and_empty_key_tolerates_all() {
        let t = taint("dedicated", "gpu", "NoExecute");
        assert!(tolerates(&tol("dedicated", "Exists", "", ""), &t));
        assert!(tolerates(&tol("", "Exists", "", ""), &t));
        assert!(!tolerates(&tol("other", "Exists", "", ""), &t));
    }

    #[test]
    fn prefer_no_schedule_never_blocks() {
        let taints = vec![taint("a", "1", "PreferNoSchedule"), taint("b", "2", "NoSchedule")];
        assert_eq!(first_untolerated(&taints, &[]).map(|t| t.key.as_str()), Some("b"));
        assert_eq!(first_untolerated(&taints, &[tol("b", "Exists", "", "")]), None);
    }

    #[test]
    fn cordoned_nodes_need_the_unschedulable_toleration() {
        assert!(!tolerates_unschedulable(&[]));
        assert!(tolerates_unschedulable(&[tol(UNSCHEDULABLE_TAINT, "Exists", "", "NoSchedule")]));
        assert!(tolerates_unschedulable(&[tol("", "Exists", "", "")]));
    }
}
