//! The one place that maps names between a tenant control plane and the super cluster.
//!
//! Forward mappings are pure functions of the cluster key and the tenant name; the reverse
//! mapping is read from the marks the syncer writes (see `marks`), never parsed out of a name.

use sha2::{Digest, Sha256};

/// Longest DNS-1123 label (namespace names).
pub const MAX_LABEL: usize = 63;
/// Longest DNS-1123 subdomain (most object names).
pub const MAX_SUBDOMAIN: usize = 253;
/// Longest VirtualCluster name part kept in a cluster key, so keys leave room for namespaces.
const KEY_NAME_PART: usize = 12;
/// Hex digits of a hash suffix: 32 bits, enough that unrelated names never meet in practice,
/// and the syncer still refuses to write over a super object marked for someone else.
const HASH_LEN: usize = 8;

/// The tenant ConfigMap every namespace has (the tenant's root CA). The super cluster publishes
/// its own under this name in every namespace, so the tenant's copy goes down renamed.
pub const ROOT_CA_CONFIGMAP: &str = "kube-root-ca.crt";
/// The super name of a tenant's `kube-root-ca.crt`.
pub const SUPER_ROOT_CA_CONFIGMAP: &str = "nestor-tenant-root-ca.crt";
/// The ServiceAccount every namespace has; the super cluster's own `default` stays its own.
pub const DEFAULT_SERVICE_ACCOUNT: &str = "default";
/// The super name of a tenant's `default` ServiceAccount.
pub const SUPER_DEFAULT_SERVICE_ACCOUNT: &str = "nestor-tenant-default";

/// The key of a VirtualCluster: up to 12 characters of its name and a hash of its namespace,
/// name and UID. A deleted and recreated VirtualCluster gets a new UID, hence a new key, and
/// never takes over the super objects of its predecessor.
pub fn cluster_key(vc_namespace: &str, vc_name: &str, vc_uid: &str) -> String {
    let mut prefix: String = vc_name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' })
        .take(KEY_NAME_PART)
        .collect();
    trim_separators(&mut prefix);
    let hash = short_hash(&format!("{vc_namespace}/{vc_name}/{vc_uid}"));
    if prefix.is_empty() {
        // A label must start with an alphanumeric character; the hash alone would do, but a
        // letter first keeps keys readable in `kubectl get ns`.
        format!("vc-{hash}")
    } else {
        format!("{prefix}-{hash}")
    }
}

/// The super namespace that holds the objects of tenant namespace `namespace`.
pub fn super_namespace(cluster_key: &str, namespace: &str) -> String {
    cut(&format!("{cluster_key}-{namespace}"), MAX_LABEL)
}

/// The super name of a tenant cluster-scoped object that must reach the super cluster.
pub fn super_cluster_scoped_name(cluster_key: &str, name: &str) -> String {
    cut(&format!("{cluster_key}-{name}"), MAX_SUBDOMAIN)
}

/// The super name of a namespaced tenant object of `kind`: the tenant name, except for the
/// objects the super cluster creates in every namespace itself. `None` when the tenant name is
/// one of the renamed targets, which would collide; such an object is not synced.
pub fn super_object_name(kind: &str, name: &str) -> Option<String> {
    match (kind, name) {
        ("ConfigMap", ROOT_CA_CONFIGMAP) => Some(SUPER_ROOT_CA_CONFIGMAP.to_string()),
        ("ConfigMap", SUPER_ROOT_CA_CONFIGMAP) => None,
        ("ServiceAccount", DEFAULT_SERVICE_ACCOUNT) => Some(SUPER_DEFAULT_SERVICE_ACCOUNT.to_string()),
        ("ServiceAccount", SUPER_DEFAULT_SERVICE_ACCOUNT) => None,
        _ => Some(name.to_string()),
    }
}

/// The name of the Lease that elects one working syncer.
pub const SYNCER_LEASE: &str = "nestor-syncer";

/// `s` if it fits in `max` characters; otherwise its head and a hash of the whole, so that two
/// long names sharing a head still differ.
fn cut(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut head: String = s.chars().take(max - HASH_LEN - 1).collect();
    trim_separators(&mut head);
    format!("{head}-{}", short_hash(s))
}

fn trim_separators(s: &mut String) {
    while s.ends_with(['-', '.']) {
        s.pop();
    }
}

fn short_hash(s: &str) -> String {
    let digest = Sha256::digest(s.as_bytes());
    digest.iter().take(HASH_LEN / 2).map(|b| format!("{b:02x}")).collect()
}

/// True for a DNS-1123 label, the form of namespace names.
pub fn is_dns1123_label(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= MAX_LABEL
        && b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn golden_values() {
        assert_eq!(cluster_key("tenants", "blue", "0b6f3c2e-0000-4000-8000-000000000001"), "blue-5f959ba0");
        assert_eq!(super_namespace("blue-5f959ba0", "prod"), "blue-5f959ba0-prod");
        let long = "a".repeat(63);
        let cut = super_namespace("blue-5f959ba0", &long);
        assert_eq!(cut.len(), 63);
        assert_eq!(cut, format!("blue-5f959ba0-{}-{}", "a".repeat(40), short_hash(&format!("blue-5f959ba0-{long}"))));
        assert_eq!(cluster_key("x", "My.Cluster_With-A-Long-Name", "u").len(), 12 + 1 + HASH_LEN);
        assert!(cluster_key("x", "My.Cluster_With-A-Long-Name", "u").starts_with("my-cluster-w-"));
        assert!(cluster_key("x", "---", "u").starts_with("vc-"));
        assert_eq!(super_cluster_scoped_name("blue-5f959ba0", "fast"), "blue-5f959ba0-fast");
    }

    #[test]
    fn reserved_names_are_renamed_and_their_targets_refused() {
        assert_eq!(super_object_name("ConfigMap", "kube-root-ca.crt").as_deref(), Some(SUPER_ROOT_CA_CONFIGMAP));
        assert_eq!(super_object_name("ConfigMap", SUPER_ROOT_CA_CONFIGMAP), None);
        assert_eq!(super_object_name("ServiceAccount", "default").as_deref(), Some(SUPER_DEFAULT_SERVICE_ACCOUNT));
        assert_eq!(super_object_name("ServiceAccount", SUPER_DEFAULT_SERVICE_ACCOUNT), None);
        assert_eq!(super_object_name("Secret", "kube-root-ca.crt").as_deref(), Some("kube-root-ca.crt"));
        assert_eq!(super_object_name("Pod", "web").as_deref(), Some("web"));
    }

    #[test]
    fn a_recreated_virtual_cluster_gets_a_new_key() {
        assert_ne!(cluster_key("t", "blue", "uid-1"), cluster_key("t", "blue", "uid-2"));
        assert_ne!(cluster_key("t1", "blue", "uid"), cluster_key("t2", "blue", "uid"));
    }

    fn label() -> impl Strategy<Value = String> {
        "[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?"
    }

    fn subdomain() -> impl Strategy<Value = String> {
        "[a-z0-9]([-a-z0-9.]{0,100}[a-z0-9])?"
    }

    proptest! {
        #[test]
        fn keys_and_namespaces_are_deterministic_labels(ns in label(), name in subdomain(), uid in "[-a-f0-9]{36}", tenant_ns in label()) {
            let key = cluster_key(&ns, &name, &uid);
            prop_assert_eq!(&key, &cluster_key(&ns, &name, &uid));
            prop_assert!(is_dns1123_label(&key), "key {}", key);
            prop_assert!(key.len() <= KEY_NAME_PART + 1 + HASH_LEN);
            let super_ns = super_namespace(&key, &tenant_ns);
            prop_assert_eq!(&super_ns, &super_namespace(&key, &tenant_ns));
            prop_assert!(is_dns1123_label(&super_ns), "namespace {}", super_ns);
        }

        #[test]
        fn two_namespaces_of_one_tenant_never_collide(key_name in subdomain(), a in label(), b in label()) {
            prop_assume!(a != b);
            let key = cluster_key("tenants", &key_name, "uid");
            prop_assert_ne!(super_namespace(&key, &a), super_namespace(&key, &b));
        }

        #[test]
        fn two_tenants_never_collide(
            (n1, u1) in (subdomain(), "[a-f0-9]{8}"), (n2, u2) in (subdomain(), "[a-f0-9]{8}"),
            a in label(), b in label(),
        ) {
            let k1 = cluster_key("tenants", &n1, &u1);
            let k2 = cluster_key("tenants", &n2, &u2);
            prop_assume!(k1 != k2);
            // Same tenant namespace or different ones: the super namespaces differ.
            prop_assert_ne!(super_namespace(&k1, &a), super_namespace(&k2, &a));
            prop_assert_ne!(super_namespace(&k1, &a), super_namespace(&k2, &b));
            prop_assert_ne!(super_cluster_scoped_name(&k1, &a), super_cluster_scoped_name(&k2, &a));
        }
    }
}
