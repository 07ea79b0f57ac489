//! Strategic-merge-patch metadata of the built-in kinds: the facts kube-apiserver reads from the
//! `patchStrategy` / `patchMergeKey` struct tags of k8s.io/api (v1.32).
//!
//! Only the paths that lead to a field with a tag are spelled out; every other field gets kube's
//! default (maps merge key by key, lists are replaced). Structs on the main paths also list all
//! their JSON fields (`known`), so a patch naming an unknown field there fails as kube's
//! "unable to find api field in struct X" does; the others accept any field.

use std::fmt;

/// What a Go type looks like to the patch code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A Go struct: its JSON keys are fields.
    Struct,
    /// A Go map such as labels: its keys are data, so kube cannot look fields up in it.
    Map,
    /// A Go scalar (the element of a primitive list), named as Go's reflect.Kind names it.
    Scalar(&'static str),
}

/// The `patchStrategy` of a field, besides `retainKeys` (see [`Field::retain_keys`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// No tag: maps are merged, lists are replaced.
    Default,
    /// `merge`: lists of maps merge by the merge key, lists of scalars merge as a set.
    Merge,
    /// `replace`: the patch value replaces the field, even for maps.
    Replace,
}

/// Patch metadata of one field.
#[derive(Clone, Copy)]
pub struct Field {
    pub strategy: Strategy,
    /// `retainKeys` was among the strategies. Applying a patch only honours an explicit
    /// `$retainKeys` directive, so this is informational (kubectl uses it to build patches).
    pub retain_keys: bool,
    /// `patchMergeKey`, for lists of maps with the merge strategy.
    pub merge_key: Option<&'static str>,
    /// The field's type, or for a list the type of its elements.
    pub schema: &'static TypeSchema,
}

impl Field {
    /// A field without patch tags.
    pub const fn of(schema: &'static TypeSchema) -> Self {
        Field { strategy: Strategy::Default, retain_keys: false, merge_key: None, schema }
    }
    /// `patchStrategy:"merge" patchMergeKey:"<key>"`.
    pub const fn merge(key: &'static str, schema: &'static TypeSchema) -> Self {
        Field { strategy: Strategy::Merge, merge_key: Some(key), ..Field::of(schema) }
    }
    /// `patchStrategy:"merge"` on a list of scalars (a set, e.g. finalizers).
    pub const fn set(schema: &'static TypeSchema) -> Self {
        Field { strategy: Strategy::Merge, ..Field::of(schema) }
    }
    /// `patchStrategy:"retainKeys"`.
    pub const fn retain_keys(schema: &'static TypeSchema) -> Self {
        Field { retain_keys: true, ..Field::of(schema) }
    }
    /// `patchStrategy:"merge,retainKeys" patchMergeKey:"<key>"`.
    pub const fn merge_retain_keys(key: &'static str, schema: &'static TypeSchema) -> Self {
        Field { retain_keys: true, ..Field::merge(key, schema) }
    }
    /// `patchStrategy:"replace"`.
    pub const fn replace(schema: &'static TypeSchema) -> Self {
        Field { strategy: Strategy::Replace, ..Field::of(schema) }
    }
}

impl fmt::Debug for Field {
    // Schemas may be recursive, so print the element type by name only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Field")
            .field("strategy", &self.strategy)
            .field("retain_keys", &self.retain_keys)
            .field("merge_key", &self.merge_key)
            .field("schema", &self.schema.name)
            .finish()
    }
}

/// Patch metadata of one Go type.
#[derive(Debug)]
pub struct TypeSchema {
    /// The Go type name, quoted by kube's "unable to find api field in struct <name>" error.
    pub name: &'static str,
    pub kind: Kind,
    /// Every JSON field of the struct, space separated, when the list is complete.
    known: Option<&'static str>,
    /// Fields with patch tags, or leading to fields that have some.
    fields: &'static [(&'static str, Field)],
}

impl TypeSchema {
    /// A struct whose other fields are not listed: any unlisted key gets default metadata.
    pub const fn open(name: &'static str, fields: &'static [(&'static str, Field)]) -> Self {
        TypeSchema { name, kind: Kind::Struct, known: None, fields }
    }
    /// A struct with its complete list of JSON fields (space separated).
    pub const fn closed(name: &'static str, known: &'static str, fields: &'static [(&'static str, Field)]) -> Self {
        TypeSchema { name, kind: Kind::Struct, known: Some(known), fields }
    }
    /// A scalar type such as `string`.
    pub const fn scalar(name: &'static str) -> Self {
        TypeSchema { name, kind: Kind::Scalar(name), known: None, fields: &[] }
    }

    /// Go's reflect.Kind name of the type, used in "cannot merge lists without merge key for ...".
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            Kind::Struct => "struct",
            Kind::Map => "map",
            Kind::Scalar(name) => name,
        }
    }

    /// The metadata of field `key`, as kube's LookupPatchMetadataForStruct finds it: an exact
    /// match first, then a case-insensitive one (Go's encoding/json rule). The error is kube's text.
    pub fn field(&self, key: &str) -> Result<Field, String> {
        let Kind::Struct = self.kind else {
            return Err(format!(
                "merging an object in json but data type is not struct, instead is: {}",
                self.kind_name()
            ));
        };
        let known = self.known.unwrap_or("");
        let listed = |eq: &dyn Fn(&str) -> bool| {
            let field = self.fields.iter().find(|(name, _)| eq(name)).map(|(_, f)| *f);
            field.or_else(|| known.split_whitespace().any(eq).then_some(Field::of(&OPAQUE)))
        };
        listed(&|name| name == key)
            .or_else(|| listed(&|name| name.eq_ignore_ascii_case(key)))
            .or_else(|| self.known.is_none().then_some(Field::of(&OPAQUE)))
            .ok_or_else(|| format!("unable to find api field in struct {} for the json field {key:?}", self.name))
    }
}

/// A value described no further: maps merge key by key, lists are replaced.
pub static OPAQUE: TypeSchema = TypeSchema::open("", &[]);
/// A Go `map[string]string` (labels, selectors, data...).
pub static MAP: TypeSchema = TypeSchema { name: "", kind: Kind::Map, known: None, fields: &[] };
/// The element of a list of strings.
pub static STRING: TypeSchema = TypeSchema::scalar("string");

const META: (&str, Field) = ("metadata", Field::of(&OBJECT_META));
/// Status conditions: `patchStrategy:"merge" patchMergeKey:"type"` on every kind that has them.
const CONDITIONS: (&str, Field) = ("conditions", Field::merge("type", &OPAQUE));
const ROOT: &str = "apiVersion kind metadata spec status";

/// metav1.ObjectMeta.
pub static OBJECT_META: TypeSchema = TypeSchema::closed(
    "ObjectMeta",
    "annotations creationTimestamp deletionGracePeriodSeconds deletionTimestamp finalizers \
     generateName generation labels managedFields name namespace ownerReferences \
     resourceVersion selfLink uid",
    &[
        ("annotations", Field::of(&MAP)),
        ("labels", Field::of(&MAP)),
        ("finalizers", Field::set(&STRING)),
        ("ownerReferences", Field::merge("uid", &OPAQUE)),
    ],
);

const CONTAINER_FIELDS: &[(&str, Field)] = &[
    ("ports", Field::merge("containerPort", &OPAQUE)),
    ("env", Field::merge("name", &OPAQUE)),
    ("volumeMounts", Field::merge("mountPath", &OPAQUE)),
    ("volumeDevices", Field::merge("devicePath", &OPAQUE)),
];
const CONTAINER_KNOWN: &str = "args command env envFrom image imagePullPolicy lifecycle \
     livenessProbe name ports readinessProbe resizePolicy resources restartPolicy securityContext \
     startupProbe stdin stdinOnce terminationMessagePath terminationMessagePolicy tty \
     volumeDevices volumeMounts workingDir";

pub static CONTAINER: TypeSchema = TypeSchema::closed("Container", CONTAINER_KNOWN, CONTAINER_FIELDS);

pub static EPHEMERAL_CONTAINER: TypeSchema = TypeSchema {
    name: "EphemeralContainer",
    kind: Kind::Struct,
    // EphemeralContainerCommon is inlined: same fields as Container plus targetContainerName.
    known: Some(
        "args command env envFrom image imagePullPolicy lifecycle livenessProbe name ports \
         readinessProbe resizePolicy resources restartPolicy securityContext startupProbe stdin \
         stdinOnce targetContainerName terminationMessagePath terminationMessagePolicy tty \
         volumeDevices volumeMounts workingDir",
    ),
    fields: CONTAINER_FIELDS,
};

pub static POD_SPEC: TypeSchema = TypeSchema::closed(
    "PodSpec",
    "activeDeadlineSeconds affinity automountServiceAccountToken containers dnsConfig dnsPolicy \
     enableServiceLinks ephemeralContainers hostAliases hostIPC hostNetwork hostPID hostUsers \
     hostname imagePullSecrets initContainers nodeName nodeSelector os overhead \
     preemptionPolicy priority priorityClassName readinessGates resourceClaims resources \
     restartPolicy runtimeClassName schedulerName schedulingGates securityContext \
     serviceAccount serviceAccountName setHostnameAsFQDN shareProcessNamespace subdomain \
     terminationGracePeriodSeconds tolerations topologySpreadConstraints volumes",
    &[
        ("volumes", Field::merge_retain_keys("name", &OPAQUE)),
        ("initContainers", Field::merge("name", &CONTAINER)),
        ("containers", Field::merge("name", &CONTAINER)),
        ("ephemeralContainers", Field::merge("name", &EPHEMERAL_CONTAINER)),
        ("imagePullSecrets", Field::merge("name", &OPAQUE)),
        ("hostAliases", Field::merge("ip", &OPAQUE)),
        // listMapKeys are topologyKey+whenUnsatisfiable, but the patch merge key is topologyKey.
        ("topologySpreadConstraints", Field::merge("topologyKey", &OPAQUE)),
        ("schedulingGates", Field::merge("name", &OPAQUE)),
        ("resourceClaims", Field::merge_retain_keys("name", &OPAQUE)),
        ("nodeSelector", Field::of(&MAP)),
        ("overhead", Field::of(&MAP)),
        // tolerations carry no tag (listType=atomic): replaced as a whole.
    ],
);

pub static POD_STATUS: TypeSchema = TypeSchema::open(
    "PodStatus",
    &[
        CONDITIONS,
        ("hostIPs", Field::merge("ip", &OPAQUE)),
        ("podIPs", Field::merge("ip", &OPAQUE)),
        ("resourceClaimStatuses", Field::merge_retain_keys("name", &OPAQUE)),
    ],
);

pub static POD_TEMPLATE_SPEC: TypeSchema =
    TypeSchema::closed("PodTemplateSpec", "metadata spec", &[META, ("spec", Field::of(&POD_SPEC))]);

const TEMPLATE: (&str, Field) = ("template", Field::of(&POD_TEMPLATE_SPEC));

/// Statuses whose only tagged field is `conditions`.
static CONDITIONED_STATUS: TypeSchema = TypeSchema::open("", &[CONDITIONS]);
const STATUS: (&str, Field) = ("status", Field::of(&CONDITIONED_STATUS));

static POD: TypeSchema =
    TypeSchema::closed("Pod", ROOT, &[META, ("spec", Field::of(&POD_SPEC)), ("status", Field::of(&POD_STATUS))]);
static POD_TEMPLATE: TypeSchema =
    TypeSchema::closed("PodTemplate", "apiVersion kind metadata template", &[META, TEMPLATE]);

static RC_SPEC: TypeSchema = TypeSchema::closed(
    "ReplicationControllerSpec",
    "minReadySeconds replicas selector template",
    &[("selector", Field::of(&MAP)), TEMPLATE],
);
static RC: TypeSchema =
    TypeSchema::closed("ReplicationController", ROOT, &[META, ("spec", Field::of(&RC_SPEC)), STATUS]);

static DEPLOYMENT_SPEC: TypeSchema = TypeSchema::closed(
    "DeploymentSpec",
    "minReadySeconds paused progressDeadlineSeconds replicas revisionHistoryLimit selector \
     strategy template",
    &[TEMPLATE, ("strategy", Field::retain_keys(&OPAQUE))],
);
static DEPLOYMENT: TypeSchema =
    TypeSchema::closed("Deployment", ROOT, &[META, ("spec", Field::of(&DEPLOYMENT_SPEC)), STATUS]);

static REPLICA_SET_SPEC: TypeSchema =
    TypeSchema::closed("ReplicaSetSpec", "minReadySeconds replicas selector template", &[TEMPLATE]);
static REPLICA_SET: TypeSchema =
    TypeSchema::closed("ReplicaSet", ROOT, &[META, ("spec", Field::of(&REPLICA_SET_SPEC)), STATUS]);

static STATEFUL_SET_SPEC: TypeSchema = TypeSchema::closed(
    "StatefulSetSpec",
    "minReadySeconds ordinals persistentVolumeClaimRetentionPolicy podManagementPolicy replicas \
     revisionHistoryLimit selector serviceName template updateStrategy volumeClaimTemplates",
    &[TEMPLATE],
);
static STATEFUL_SET: TypeSchema =
    TypeSchema::closed("StatefulSet", ROOT, &[META, ("spec", Field::of(&STATEFUL_SET_SPEC)), STATUS]);

static DAEMON_SET_SPEC: TypeSchema = TypeSchema::closed(
    "DaemonSetSpec",
    "minReadySeconds revisionHistoryLimit selector template updateStrategy",
    &[TEMPLATE],
);
static DAEMON_SET: TypeSchema =
    TypeSchema::closed("DaemonSet", ROOT, &[META, ("spec", Field::of(&DAEMON_SET_SPEC)), STATUS]);

static JOB_SPEC: TypeSchema = TypeSchema::closed(
    "JobSpec",
    "activeDeadlineSeconds backoffLimit backoffLimitPerIndex completionMode completions \
     managedBy manualSelector maxFailedIndexes parallelism podFailurePolicy \
     podReplacementPolicy selector successPolicy suspend template ttlSecondsAfterFinished",
    &[TEMPLATE],
);
static JOB: TypeSchema = TypeSchema::closed("Job", ROOT, &[META, ("spec", Field::of(&JOB_SPEC)), STATUS]);

static JOB_TEMPLATE_SPEC: TypeSchema =
    TypeSchema::closed("JobTemplateSpec", "metadata spec", &[META, ("spec", Field::of(&JOB_SPEC))]);
static CRON_JOB_SPEC: TypeSchema = TypeSchema::closed(
    "CronJobSpec",
    "concurrencyPolicy failedJobsHistoryLimit jobTemplate schedule startingDeadlineSeconds \
     successfulJobsHistoryLimit suspend timeZone",
    &[("jobTemplate", Field::of(&JOB_TEMPLATE_SPEC))],
);
static CRON_JOB: TypeSchema = TypeSchema::closed("CronJob", ROOT, &[META, ("spec", Field::of(&CRON_JOB_SPEC))]);

static SERVICE_SPEC: TypeSchema = TypeSchema::closed(
    "ServiceSpec",
    "allocateLoadBalancerNodePorts clusterIP clusterIPs externalIPs externalName \
     externalTrafficPolicy healthCheckNodePort internalTrafficPolicy ipFamilies ipFamilyPolicy \
     loadBalancerClass loadBalancerIP loadBalancerSourceRanges ports publishNotReadyAddresses \
     selector sessionAffinity sessionAffinityConfig trafficDistribution type",
    &[("ports", Field::merge("port", &OPAQUE)), ("selector", Field::of(&MAP))],
);
static SERVICE: TypeSchema = TypeSchema::closed("Service", ROOT, &[META, ("spec", Field::of(&SERVICE_SPEC)), STATUS]);

static ENDPOINTS: TypeSchema = TypeSchema::closed("Endpoints", "apiVersion kind metadata subsets", &[META]);
static CONFIG_MAP: TypeSchema = TypeSchema::closed(
    "ConfigMap",
    "apiVersion kind binaryData data immutable metadata",
    &[META, ("data", Field::of(&MAP)), ("binaryData", Field::of(&MAP))],
);
static SECRET: TypeSchema = TypeSchema::closed(
    "Secret",
    "apiVersion kind data immutable metadata stringData type",
    &[META, ("data", Field::of(&MAP)), ("stringData", Field::of(&MAP))],
);
static NAMESPACE: TypeSchema = TypeSchema::closed("Namespace", ROOT, &[META, STATUS]);

static NODE_SPEC: TypeSchema = TypeSchema::closed(
    "NodeSpec",
    "configSource externalID podCIDR podCIDRs providerID taints unschedulable",
    // taints carry no tag (listType=atomic): replaced as a whole.
    &[("podCIDRs", Field::set(&STRING))],
);
static NODE_STATUS: TypeSchema = TypeSchema::open(
    "NodeStatus",
    &[
        CONDITIONS,
        ("addresses", Field::merge("type", &OPAQUE)),
        ("capacity", Field::of(&MAP)),
        ("allocatable", Field::of(&MAP)),
    ],
);
static NODE: TypeSchema =
    TypeSchema::closed("Node", ROOT, &[META, ("spec", Field::of(&NODE_SPEC)), ("status", Field::of(&NODE_STATUS))]);

static SERVICE_ACCOUNT: TypeSchema = TypeSchema::closed(
    "ServiceAccount",
    "apiVersion kind automountServiceAccountToken imagePullSecrets metadata secrets",
    // Unlike PodSpec's, ServiceAccount.imagePullSecrets has no tag (listType=atomic).
    &[META, ("secrets", Field::merge("name", &OPAQUE))],
);
static PVC: TypeSchema = TypeSchema::closed("PersistentVolumeClaim", ROOT, &[META, STATUS]);
static PV: TypeSchema = TypeSchema::closed("PersistentVolume", ROOT, &[META]);
static CORE_EVENT: TypeSchema = TypeSchema::closed(
    "Event",
    "apiVersion kind action count eventTime firstTimestamp involvedObject lastTimestamp message \
     metadata reason related reportingComponent reportingInstance series source type",
    &[META],
);
static EVENTS_EVENT: TypeSchema = TypeSchema::closed(
    "Event",
    "apiVersion kind action deprecatedCount deprecatedFirstTimestamp deprecatedLastTimestamp \
     deprecatedSource eventTime metadata note reason regarding related reportingController \
     reportingInstance series type",
    &[META],
);
static COMPONENT_STATUS: TypeSchema =
    TypeSchema::closed("ComponentStatus", "apiVersion kind conditions metadata", &[META, CONDITIONS]);
static INGRESS: TypeSchema = TypeSchema::closed("Ingress", ROOT, &[META]);
static NETWORK_POLICY: TypeSchema = TypeSchema::closed("NetworkPolicy", "apiVersion kind metadata spec", &[META]);
static ROLE: TypeSchema = TypeSchema::closed("Role", "apiVersion kind metadata rules", &[META]);
static CLUSTER_ROLE: TypeSchema =
    TypeSchema::closed("ClusterRole", "apiVersion kind aggregationRule metadata rules", &[META]);
static ROLE_BINDING: TypeSchema =
    TypeSchema::closed("RoleBinding", "apiVersion kind metadata roleRef subjects", &[META]);
static CLUSTER_ROLE_BINDING: TypeSchema =
    TypeSchema::closed("ClusterRoleBinding", "apiVersion kind metadata roleRef subjects", &[META]);
// autoscaling/v1 has no status.conditions; v2 tags them. One table serves both versions.
static HPA: TypeSchema = TypeSchema::closed("HorizontalPodAutoscaler", ROOT, &[META, STATUS]);
static PDB: TypeSchema = TypeSchema::closed("PodDisruptionBudget", ROOT, &[META, STATUS]);
static LEASE: TypeSchema = TypeSchema::closed("Lease", "apiVersion kind metadata spec", &[META]);
static ENDPOINT_SLICE: TypeSchema =
    TypeSchema::closed("EndpointSlice", "apiVersion kind addressType endpoints metadata ports", &[META]);
static METADATA_ONLY: TypeSchema = TypeSchema::open("", &[META]);

/// The schema of a built-in kind, by API group ("" for core) and kind.
pub fn for_kind(group: &str, kind: &str) -> Option<&'static TypeSchema> {
    let schema = match (group, kind) {
        ("", "Pod") => &POD,
        ("", "PodTemplate") => &POD_TEMPLATE,
        ("", "ReplicationController") => &RC,
        ("", "Service") => &SERVICE,
        ("", "Endpoints") => &ENDPOINTS,
        ("", "ConfigMap") => &CONFIG_MAP,
        ("", "Secret") => &SECRET,
        ("", "Namespace") => &NAMESPACE,
        ("", "Node") => &NODE,
        ("", "ServiceAccount") => &SERVICE_ACCOUNT,
        ("", "PersistentVolumeClaim") => &PVC,
        ("", "PersistentVolume") => &PV,
        ("", "Event") => &CORE_EVENT,
        ("", "ComponentStatus") => &COMPONENT_STATUS,
        ("apps", "Deployment") => &DEPLOYMENT,
        ("apps", "ReplicaSet") => &REPLICA_SET,
        ("apps", "StatefulSet") => &STATEFUL_SET,
        ("apps", "DaemonSet") => &DAEMON_SET,
        ("batch", "Job") => &JOB,
        ("batch", "CronJob") => &CRON_JOB,
        ("networking.k8s.io", "Ingress") => &INGRESS,
        ("networking.k8s.io", "NetworkPolicy") => &NETWORK_POLICY,
        ("rbac.authorization.k8s.io", "Role") => &ROLE,
        ("rbac.authorization.k8s.io", "ClusterRole") => &CLUSTER_ROLE,
        ("rbac.authorization.k8s.io", "RoleBinding") => &ROLE_BINDING,
        ("rbac.authorization.k8s.io", "ClusterRoleBinding") => &CLUSTER_ROLE_BINDING,
        ("autoscaling", "HorizontalPodAutoscaler") => &HPA,
        ("policy", "PodDisruptionBudget") => &PDB,
        ("coordination.k8s.io", "Lease") => &LEASE,
        ("discovery.k8s.io", "EndpointSlice") => &ENDPOINT_SLICE,
        ("events.k8s.io", "Event") => &EVENTS_EVENT,
        _ => return None,
    };
    Some(schema)
}

/// A schema knowing only `metadata` (finalizers, ownerReferences): for kinds without a table.
pub fn metadata_only() -> &'static TypeSchema {
    &METADATA_ONLY
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn looks_up_tagged_fields() {
        let spec = POD_SPEC.field("containers").unwrap();
        assert_eq!((spec.strategy, spec.merge_key), (Strategy::Merge, Some("name")));
        let env = spec.schema.field("env").unwrap();
        assert_eq!(env.merge_key, Some("name"));
        let volumes = POD_SPEC.field("volumes").unwrap();
        assert!(volumes.retain_keys && volumes.strategy == Strategy::Merge);
        let tolerations = POD_SPEC.field("tolerations").unwrap();
        assert_eq!((tolerations.strategy, tolerations.merge_key), (Strategy::Default, None));
        let finalizers = OBJECT_META.field("finalizers").unwrap();
        assert_eq!((finalizers.strategy, finalizers.schema.kind_name()), (Strategy::Merge, "string"));
    }

    #[test]
    fn closed_structs_reject_unknown_fields_like_kube() {
        assert_eq!(
            POD_SPEC.field("containerz").unwrap_err(),
            r#"unable to find api field in struct PodSpec for the json field "containerz""#
        );
        // Go's encoding/json field lookup is case-insensitive.
        assert_eq!(POD_SPEC.field("Containers").unwrap().merge_key, Some("name"));
        assert!(POD_SPEC.field("hostNetwork").is_ok());
        assert!(POD_STATUS.field("anything").is_ok());
        assert_eq!(
            MAP.field("x").unwrap_err(),
            "merging an object in json but data type is not struct, instead is: map"
        );
    }

    #[test]
    fn covers_the_listed_kinds() {
        for (group, kind) in [
            ("", "Pod"),
            ("apps", "Deployment"),
            ("batch", "CronJob"),
            ("policy", "PodDisruptionBudget"),
            ("events.k8s.io", "Event"),
            ("discovery.k8s.io", "EndpointSlice"),
        ] {
            assert!(for_kind(group, kind).is_some(), "{group}/{kind}");
        }
        assert!(for_kind("apps", "Pod").is_none());
        let strategy = for_kind("apps", "Deployment").unwrap().field("spec").unwrap();
        assert!(strategy.schema.field("strategy").unwrap().retain_keys);
        let owner = metadata_only().field("metadata").unwrap().schema.field("ownerReferences").unwrap();
        assert_eq!(owner.merge_key, Some("uid"));
    }
}
