//! What makes a VirtualCluster acceptable, checked before anything is provisioned. Pure: the
//! one fact that needs the API server (does the ClusterVersion exist) is looked up by the
//! caller and handed in.

use nestor_api::naming;
use nestor_api::VirtualClusterSpec;

/// Why a VirtualCluster cannot be provisioned, in words for its condition and event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub problems: Vec<String>,
}

impl Invalid {
    /// Every problem in one line.
    pub fn message(&self) -> String {
        self.problems.join("; ")
    }
}

/// Checks a VirtualCluster named `name`; `cluster_version_found` says whether the
/// ClusterVersion its spec names exists (true when it names none).
pub fn virtual_cluster(name: &str, spec: &VirtualClusterSpec, cluster_version_found: bool) -> Result<(), Invalid> {
    let mut problems = Vec::new();
    if let Err(problem) = cluster_name(name) {
        problems.push(problem);
    }
    if let (Some(version), false) = (&spec.cluster_version, cluster_version_found) {
        problems.push(format!("spec.clusterVersion: ClusterVersion {version:?} not found"));
    }
    for (i, entry) in spec.sync.custom_resources.iter().enumerate() {
        if let Err(problem) = custom_resource(entry) {
            problems.push(format!("spec.sync.customResources[{i}]: {problem}"));
        } else if spec.sync.custom_resources[..i].contains(entry) {
            problems.push(format!("spec.sync.customResources[{i}]: {entry:?} is listed twice"));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Invalid { problems })
    }
}

/// The name must be a DNS-1123 label: it is the readable head of the cluster key, which
/// prefixes every super namespace of the tenant, and of the Secrets `<name>-pki` and
/// `<name>-kubeconfig`. The API server accepts dotted names (DNS subdomains), which would
/// lose their dots in the key.
pub fn cluster_name(name: &str) -> Result<(), String> {
    if naming::is_dns1123_label(name) && naming::is_dns1123_label(&naming::cluster_key("", name, "")) {
        Ok(())
    } else {
        Err(format!(
            "metadata.name: {name:?} must be a DNS-1123 label (lowercase letters, digits and '-', starting and \
             ending with a letter or digit, at most {} characters): it names the tenant's cluster key",
            naming::MAX_LABEL
        ))
    }
}

/// A custom resource to sync is named as its CRD is: `<plural>.<group>`, the plural a DNS-1123
/// label and the group a DNS subdomain with at least one dot (kube requires that of CRD groups).
pub fn custom_resource(entry: &str) -> Result<(), String> {
    let Some((plural, group)) = entry.split_once('.') else {
        return Err(format!("{entry:?} is not <plural>.<group> (for example widgets.example.com)"));
    };
    if !naming::is_dns1123_label(plural) {
        return Err(format!("{entry:?}: the plural {plural:?} must be a lowercase DNS-1123 label"));
    }
    let subdomain = group.len() <= naming::MAX_SUBDOMAIN && group.split('.').all(naming::is_dns1123_label);
    if !subdomain || !group.contains('.') {
        return Err(format!(
            "{entry:?}: the group {group:?} must be a lowercase DNS subdomain with at least one dot \
             (for example example.com)"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use nestor_api::types::SyncSpec;

    fn spec(version: Option<&str>, custom: &[&str]) -> VirtualClusterSpec {
        VirtualClusterSpec {
            cluster_version: version.map(str::to_string),
            sync: SyncSpec { custom_resources: custom.iter().map(|s| s.to_string()).collect() },
        }
    }

    #[test]
    fn accepts_a_plain_tenant() {
        assert_eq!(virtual_cluster("blue", &spec(None, &[]), true), Ok(()));
        assert_eq!(virtual_cluster("team-a-1", &spec(Some("v1"), &["widgets.example.com"]), true), Ok(()));
    }

    #[test]
    fn names() {
        assert!(cluster_name("blue").is_ok());
        assert!(cluster_name(&"a".repeat(63)).is_ok());
        for bad in ["my.cluster", "Blue", "-blue", "blue-", "", "a_b"] {
            assert!(cluster_name(bad).is_err(), "{bad:?} should be refused");
        }
        assert!(cluster_name(&"a".repeat(64)).is_err());
    }

    #[test]
    fn custom_resources() {
        assert!(custom_resource("widgets.example.com").is_ok());
        assert!(custom_resource("crontabs.stable.example.com").is_ok());
        for bad in [
            "widgets",
            "widgets.example",
            "Widgets.example.com",
            "widgets..com",
            ".example.com",
            "widgets.ex ample.com",
        ] {
            assert!(custom_resource(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let invalid =
            virtual_cluster("my.cluster", &spec(Some("v9"), &["widgets", "a.b.c", "a.b.c"]), false).unwrap_err();
        assert_eq!(invalid.problems.len(), 4, "{invalid:?}");
        let message = invalid.message();
        assert!(message.contains("metadata.name"), "{message}");
        assert!(message.contains("ClusterVersion \"v9\" not found"), "{message}");
        assert!(message.contains("customResources[0]"), "{message}");
        assert!(message.contains("customResources[2]: \"a.b.c\" is listed twice"), "{message}");
    }
}
