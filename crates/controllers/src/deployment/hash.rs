//! The pod-template-hash: names a Deployment's ReplicaSets (`<deployment>-<hash>`) and labels
//! their pods, so that each template gets its own ReplicaSet.
//!
//! kube hashes the template with FNV-32a over Go's `spew` dump of the struct, appends the
//! collisionCount (as 8 little-endian bytes) when set, prints the sum in decimal and maps each
//! digit through `rand.SafeEncodeString`. A dump of Go structs cannot be reproduced outside Go,
//! so we hash the template's canonical JSON instead: the same shape of hash (same alphabet, same
//! length range, same collision handling), not the same value as kube for the same template.
//! Nothing depends on the value: ReplicaSets are matched to templates by comparing the
//! templates themselves, as kube's `EqualIgnoreHash` does.

use k8s_openapi::api::core::v1::PodTemplateSpec;

/// The label (and selector key) kube adds to a Deployment's ReplicaSets and pods.
pub const LABEL: &str = "pod-template-hash";

/// Consonants and digits without vowels or look-alikes, so a hash never spells a word
/// (apimachinery's `rand.SafeEncodeString`).
const ALPHANUMS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// FNV-1a, 32 bits.
fn fnv32a(hash: u32, bytes: &[u8]) -> u32 {
    bytes.iter().fold(hash, |h, b| (h ^ u32::from(*b)).wrapping_mul(0x0100_0193))
}

const FNV_OFFSET: u32 = 0x811c_9dc5;

/// Maps every byte of `s` into the safe alphabet.
pub fn safe_encode(s: &str) -> String {
    s.bytes().map(|b| char::from(ALPHANUMS[usize::from(b) % ALPHANUMS.len()])).collect()
}

/// The hash of `template` and the Deployment's `collisionCount`.
pub fn compute(template: &PodTemplateSpec, collision_count: Option<i32>) -> String {
    // k8s-openapi serializes struct fields in a fixed order and maps sorted: stable bytes.
    of_bytes(&serde_json::to_vec(template).unwrap_or_default(), collision_count)
}

/// The hash of `bytes` and a `collisionCount`, in kube's shape (also ControllerRevisions').
pub fn of_bytes(bytes: &[u8], collision_count: Option<i32>) -> String {
    let mut h = fnv32a(FNV_OFFSET, bytes);
    if let Some(count) = collision_count {
        let mut extra = [0u8; 8];
        extra[..4].copy_from_slice(&u32::from_ne_bytes(count.to_ne_bytes()).to_le_bytes());
        h = fnv32a(h, &extra);
    }
    safe_encode(&h.to_string())
}

/// Whether two templates are equal once the hash label is ignored (kube's `EqualIgnoreHash`).
pub fn equal_ignore_hash(a: &PodTemplateSpec, b: &PodTemplateSpec) -> bool {
    let strip = |t: &PodTemplateSpec| {
        let mut t = t.clone();
        if let Some(meta) = t.metadata.as_mut() {
            if let Some(labels) = meta.labels.as_mut() {
                labels.remove(LABEL);
                if labels.is_empty() {
                    meta.labels = None;
                }
            }
        }
        if t.metadata.as_ref().is_some_and(|m| *m == Default::default()) {
            t.metadata = None;
        }
        serde_json::to_value(t).unwrap_or_default()
    };
    strip(a) == strip(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    #[test]
    fn fnv_vectors() {
        // Reference values of FNV-1a 32.
        assert_eq!(fnv32a(FNV_OFFSET, b""), 0x811c_9dc5);
        assert_eq!(fnv32a(FNV_OFFSET, b"a"), 0xe40c_292c);
        assert_eq!(fnv32a(FNV_OFFSET, b"foobar"), 0xbf9c_f968);
    }

    #[test]
    fn safe_alphabet() {
        // '0' is byte 48: 48 % 27 = 21 -> '4'.
        assert_eq!(safe_encode("0"), "4");
        assert_eq!(safe_encode("1234567890"), "56789bcdf4");
        let h = compute(&PodTemplateSpec::default(), None);
        assert!(h.bytes().all(|b| ALPHANUMS.contains(&b)));
        assert!(!h.is_empty() && h.len() <= 10);
    }

    #[test]
    fn collision_count_changes_hash() {
        let t = PodTemplateSpec::default();
        assert_eq!(compute(&t, None), compute(&t, None));
        assert_ne!(compute(&t, None), compute(&t, Some(1)));
        assert_ne!(compute(&t, Some(1)), compute(&t, Some(2)));
    }

    #[test]
    fn equality_ignores_the_hash_label() {
        let mut a = PodTemplateSpec {
            metadata: Some(ObjectMeta {
                labels: Some([("app".to_string(), "web".to_string())].into()),
                ..Default::default()
            }),
            spec: None,
        };
        let b = a.clone();
        if let Some(l) = a.metadata.as_mut().and_then(|m| m.labels.as_mut()) {
            l.insert(LABEL.into(), "abc".into());
        }
        assert!(equal_ignore_hash(&a, &b));
        let only_hash = PodTemplateSpec {
            metadata: Some(ObjectMeta {
                labels: Some([(LABEL.to_string(), "x".to_string())].into()),
                ..Default::default()
            }),
            spec: None,
        };
        assert!(equal_ignore_hash(&only_hash, &PodTemplateSpec::default()));
    }
}
