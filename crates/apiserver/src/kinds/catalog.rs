//! The static catalog of built-in resources that kube-apiserver v1.32 serves with its
//! default `--runtime-config` (GA versions only: no alpha, and no beta either, since
//! KEP-3136 turned new beta APIs off by default and the last grandfathered beta,
//! `flowcontrol.apiserver.k8s.io/v1beta3`, stopped being served in 1.32).
//!
//! Everything here feeds discovery (`/api`, `/apis`, `/apis/<group>/<version>` and the
//! aggregated `apidiscovery.k8s.io/v2` documents), so `kubectl api-resources` and
//! `kubectl api-versions` print exactly what they print against kube-apiserver 1.32.
//!
//! Ordering conventions, chosen so that discovery can be rendered by walking the tables:
//! - [`GROUPS`] is in kube-apiserver's `/apis` order (core `""` is excluded; see [`CORE`]).
//! - [`RESOURCES`] holds core first, then the groups in [`GROUPS`] order; within a group
//!   resources are sorted by name, and each resource's subresources by name, which is the
//!   order kube-apiserver lists them in (it sorts the `resource/subresource` paths).
//! - Verbs are in kube's order, which is alphabetical.
//!
//! Facts not in the table but derived from kube's rules:
//! - "Virtual" resources (no etcd storage, no watch) are recognised by
//!   [`Resource::is_virtual`]: `bindings`, `componentstatuses`, and the
//!   authentication/authorization review kinds.
//! - Legacy discovery's `storageVersionHash` is base64(sha256("group/version/Kind")[..8])
//!   of the storage GVK returned by [`Resource::storage_gvk`].

/// One subresource of a [`Resource`], e.g. `pods/log` or `deployments/scale`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subresource {
    /// The part after the slash, e.g. "status".
    pub name: &'static str,
    /// The kind that the subresource accepts and returns, e.g. "Scale".
    pub kind: &'static str,
    /// Set when the kind lives in another group-version than the parent, e.g.
    /// `Some("autoscaling/v1")` for `scale`. `None` means "same as the parent", and then
    /// discovery leaves the APIResource's group/version empty, as kube-apiserver does
    /// (so `pods/binding` is `None`: `Binding` is core v1 like pods).
    pub group_version: Option<&'static str>,
    /// Verbs, in kube's (alphabetical) order.
    pub verbs: &'static [&'static str],
}

impl Subresource {
    /// The subresource's kind as (group, version, kind), given the parent's group and version.
    pub fn gvk<'a>(&self, group: &'a str, version: &'a str) -> (&'a str, &'a str, &'static str) {
        match self.group_version {
            Some(gv) => match gv.split_once('/') {
                Some((g, v)) => (g, v, self.kind),
                None => ("", gv, self.kind),
            },
            None => (group, version, self.kind),
        }
    }
}

/// One built-in resource (a plural name inside an API group).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resource {
    /// API group, "" for core.
    pub group: &'static str,
    /// Served versions, preferred first. Every resource here has the same verbs,
    /// subresources and kind at every version it is served at.
    pub versions: &'static [&'static str],
    /// Plural resource name, e.g. "deployments".
    pub resource: &'static str,
    /// Singular name as discovery reports it, e.g. "deployment" (and "endpoints").
    pub singular: &'static str,
    /// Kind, e.g. "Deployment".
    pub kind: &'static str,
    /// Whether objects live in a namespace.
    pub namespaced: bool,
    /// Verbs, in kube's (alphabetical) order.
    pub verbs: &'static [&'static str],
    /// Short names, e.g. ["deploy"].
    pub short_names: &'static [&'static str],
    /// Categories, e.g. ["all"].
    pub categories: &'static [&'static str],
    /// Subresources, sorted by name.
    pub subresources: &'static [Subresource],
}

impl Resource {
    /// The preferred (first) served version.
    pub fn preferred_version(&self) -> &'static str {
        self.versions.first().copied().unwrap_or("v1")
    }

    /// True for resources that kube-apiserver answers without storing anything:
    /// `bindings` (create-only shortcut to pods/binding), `componentstatuses` (get/list,
    /// computed by probing etcd) and the create-only review kinds (tokenreviews,
    /// selfsubjectreviews, *subjectaccessreviews, selfsubjectrulesreviews). Every stored
    /// resource supports watch, and none of these do.
    pub fn is_virtual(&self) -> bool {
        !self.verbs.contains(&"watch")
    }

    /// Finds a subresource by name, e.g. "status".
    pub fn subresource(&self, name: &str) -> Option<&'static Subresource> {
        self.subresources.iter().find(|s| s.name == name)
    }

    /// The group/version/kind objects are stored as in etcd, which is what legacy
    /// discovery hashes into `storageVersionHash`. `None` for virtual resources, which
    /// kube lists without a hash. Two quirks, both checked against kube's discovery
    /// fixtures: events.k8s.io events share core's storage ("/v1/Event"), and
    /// horizontalpodautoscalers are stored as autoscaling/v2 even when listed under v1.
    pub fn storage_gvk(&self) -> Option<(&'static str, &'static str, &'static str)> {
        if self.is_virtual() {
            return None;
        }
        if self.group == "events.k8s.io" && self.resource == "events" {
            return Some(("", "v1", "Event"));
        }
        Some((self.group, self.preferred_version(), self.kind))
    }

    /// "group/version" for the preferred version, or just "v1" for core.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.preferred_version().to_string()
        } else {
            format!("{}/{}", self.group, self.preferred_version())
        }
    }
}

/// An API group with its served versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Group {
    /// Group name, "" for core.
    pub name: &'static str,
    /// Served versions, preferred first (kube's version priority order).
    pub versions: &'static [&'static str],
}

/// The core ("legacy") group served under `/api`. Not part of [`GROUPS`], because `/apis`
/// and its aggregated form never list it.
pub static CORE: Group = Group { name: "", versions: V1 };

/// The named groups in kube-apiserver's `/apis` order (both the APIGroupList and the
/// aggregated APIGroupDiscoveryList). kube-aggregator puts its own group
/// (apiregistration.k8s.io) first and then sorts the rest by APIService
/// `groupPriorityMinimum`, highest first, ties broken by name (admissionregistration and
/// apiextensions share 16700). Within a group, versions follow `versionPriority`, which is
/// why autoscaling lists v2 (30) before v1 (15).
pub static GROUPS: &[Group] = &[
    // kube-aggregator lists its own group first, then by priority:
    g("apiregistration.k8s.io", V1),
    g("apps", V1),                         // 17800
    g("events.k8s.io", V1),                // 17750
    g("authentication.k8s.io", V1),        // 17700
    g("authorization.k8s.io", V1),         // 17600
    g("autoscaling", V2_V1),               // 17500
    g("batch", V1),                        // 17400
    g("certificates.k8s.io", V1),          // 17300
    g("networking.k8s.io", V1),            // 17200
    g("policy", V1),                       // 17100
    g("rbac.authorization.k8s.io", V1),    // 17000
    g("storage.k8s.io", V1),               // 16800
    g("admissionregistration.k8s.io", V1), // 16700
    g("apiextensions.k8s.io", V1),         // 16700
    g("scheduling.k8s.io", V1),            // 16600
    g("coordination.k8s.io", V1),          // 16500
    g("node.k8s.io", V1),                  // 16300
    g("discovery.k8s.io", V1),             // 16200
    g("flowcontrol.apiserver.k8s.io", V1), // 16100
];

/// Shorthand for a [`Group`] literal.
const fn g(name: &'static str, versions: &'static [&'static str]) -> Group {
    Group { name, versions }
}

/// Finds a group by name; "" gives [`CORE`].
pub fn group(name: &str) -> Option<&'static Group> {
    if name.is_empty() {
        return Some(&CORE);
    }
    GROUPS.iter().find(|g| g.name == name)
}

/// Finds the resource served as `resource` (plural) at group/version.
pub fn lookup(group: &str, version: &str, resource: &str) -> Option<&'static Resource> {
    RESOURCES.iter().find(|r| r.group == group && r.resource == resource && r.versions.contains(&version))
}

/// Finds the resource of `kind` in `group` (any served version).
pub fn by_kind(group: &str, kind: &str) -> Option<&'static Resource> {
    RESOURCES.iter().find(|r| r.group == group && r.kind == kind)
}

/// All resources served at group/version, in discovery order.
pub fn resources_at<'a>(group: &'a str, version: &'a str) -> impl Iterator<Item = &'static Resource> + 'a {
    RESOURCES.iter().filter(move |r| r.group == group && r.versions.contains(&version))
}

/// All resources in a category (e.g. "all", "api-extensions").
pub fn in_category(category: &str) -> impl Iterator<Item = &'static Resource> + '_ {
    RESOURCES.iter().filter(move |r| r.categories.contains(&category))
}

// ---- shared pieces -------------------------------------------------------------------

const V1: &[&str] = &["v1"];
const V2_V1: &[&str] = &["v2", "v1"];

/// The full verb set of an ordinary stored resource.
const CRUD: &[&str] = &["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];
/// Namespaces: kube-apiserver deliberately offers no deletecollection for them.
const CRUD_NO_COLLECTION: &[&str] = &["create", "delete", "get", "list", "patch", "update", "watch"];
/// status, scale, approval, ephemeralcontainers.
const GET_PATCH_UPDATE: &[&str] = &["get", "patch", "update"];
const CREATE: &[&str] = &["create"];
const GET: &[&str] = &["get"];
const GET_LIST: &[&str] = &["get", "list"];
const UPDATE: &[&str] = &["update"];
/// Streaming connect subresources (attach, exec, portforward) accept GET and POST.
const CONNECT: &[&str] = &["create", "get"];
/// Proxy subresources accept every HTTP method; kube maps them to these verbs.
const PROXY: &[&str] = &["create", "delete", "get", "patch", "update"];

const ALL: &[&str] = &["all"];
const API_EXTENSIONS: &[&str] = &["api-extensions"];

const fn status(kind: &'static str) -> Subresource {
    Subresource { name: "status", kind, group_version: None, verbs: GET_PATCH_UPDATE }
}

const fn sub(name: &'static str, kind: &'static str, verbs: &'static [&'static str]) -> Subresource {
    Subresource { name, kind, group_version: None, verbs }
}

/// The `scale` subresource, whose kind is autoscaling/v1 Scale in every group.
const fn scale() -> Subresource {
    Subresource { name: "scale", kind: "Scale", group_version: Some("autoscaling/v1"), verbs: GET_PATCH_UPDATE }
}

/// Defaults for the struct-update syntax below: a namespaced, fully-CRUD core v1 resource
/// with no short names, categories or subresources. Every entry still spells out group,
/// names, kind and scope.
const BASE: Resource = Resource {
    group: "",
    versions: V1,
    resource: "",
    singular: "",
    kind: "",
    namespaced: true,
    verbs: CRUD,
    short_names: &[],
    categories: &[],
    subresources: &[],
};

/// Every built-in resource kube-apiserver v1.32 serves by default.
pub static RESOURCES: &[Resource] = &[
    // ---- core ("", /api/v1) ----
    Resource {
        group: "",
        resource: "bindings",
        singular: "binding",
        kind: "Binding",
        namespaced: true,
        // Virtual: the old way to bind a pod; writes through to pods/binding.
        verbs: CREATE,
        ..BASE
    },
    Resource {
        group: "",
        resource: "componentstatuses",
        singular: "componentstatus",
        kind: "ComponentStatus",
        namespaced: false,
        // Virtual and deprecated: computed on read by probing etcd and friends.
        verbs: GET_LIST,
        short_names: &["cs"],
        ..BASE
    },
    Resource {
        group: "",
        resource: "configmaps",
        singular: "configmap",
        kind: "ConfigMap",
        namespaced: true,
        short_names: &["cm"],
        ..BASE
    },
    Resource {
        group: "",
        resource: "endpoints",
        // The singular of "endpoints" really is "endpoints" in discovery.
        singular: "endpoints",
        kind: "Endpoints",
        namespaced: true,
        short_names: &["ep"],
        ..BASE
    },
    Resource {
        group: "",
        resource: "events",
        singular: "event",
        kind: "Event",
        namespaced: true,
        short_names: &["ev"],
        ..BASE
    },
    Resource {
        group: "",
        resource: "limitranges",
        singular: "limitrange",
        kind: "LimitRange",
        namespaced: true,
        short_names: &["limits"],
        ..BASE
    },
    Resource {
        group: "",
        resource: "namespaces",
        singular: "namespace",
        kind: "Namespace",
        namespaced: false,
        verbs: CRUD_NO_COLLECTION,
        short_names: &["ns"],
        subresources: &[sub("finalize", "Namespace", UPDATE), status("Namespace")],
        ..BASE
    },
    Resource {
        group: "",
        resource: "nodes",
        singular: "node",
        kind: "Node",
        namespaced: false,
        short_names: &["no"],
        subresources: &[sub("proxy", "NodeProxyOptions", PROXY), status("Node")],
        ..BASE
    },
    Resource {
        group: "",
        resource: "persistentvolumeclaims",
        singular: "persistentvolumeclaim",
        kind: "PersistentVolumeClaim",
        namespaced: true,
        short_names: &["pvc"],
        subresources: &[status("PersistentVolumeClaim")],
        ..BASE
    },
    Resource {
        group: "",
        resource: "persistentvolumes",
        singular: "persistentvolume",
        kind: "PersistentVolume",
        namespaced: false,
        short_names: &["pv"],
        subresources: &[status("PersistentVolume")],
        ..BASE
    },
    Resource {
        group: "",
        resource: "pods",
        singular: "pod",
        kind: "Pod",
        namespaced: true,
        short_names: &["po"],
        categories: ALL,
        // No pods/resize: 1.32 registers it only with the alpha InPlacePodVerticalScaling
        // gate (beta, on by default, from 1.33). No pods/checkpoint either (later release).
        subresources: &[
            sub("attach", "PodAttachOptions", CONNECT),
            sub("binding", "Binding", CREATE),
            sub("ephemeralcontainers", "Pod", GET_PATCH_UPDATE),
            Subresource { name: "eviction", kind: "Eviction", group_version: Some("policy/v1"), verbs: CREATE },
            sub("exec", "PodExecOptions", CONNECT),
            sub("log", "Pod", GET),
            sub("portforward", "PodPortForwardOptions", CONNECT),
            sub("proxy", "PodProxyOptions", PROXY),
            status("Pod"),
        ],
        ..BASE
    },
    Resource {
        group: "",
        resource: "podtemplates",
        singular: "podtemplate",
        kind: "PodTemplate",
        namespaced: true,
        ..BASE
    },
    Resource {
        group: "",
        resource: "replicationcontrollers",
        singular: "replicationcontroller",
        kind: "ReplicationController",
        namespaced: true,
        short_names: &["rc"],
        categories: ALL,
        subresources: &[scale(), status("ReplicationController")],
        ..BASE
    },
    Resource {
        group: "",
        resource: "resourcequotas",
        singular: "resourcequota",
        kind: "ResourceQuota",
        namespaced: true,
        short_names: &["quota"],
        subresources: &[status("ResourceQuota")],
        ..BASE
    },
    Resource { group: "", resource: "secrets", singular: "secret", kind: "Secret", namespaced: true, ..BASE },
    Resource {
        group: "",
        resource: "serviceaccounts",
        singular: "serviceaccount",
        kind: "ServiceAccount",
        namespaced: true,
        short_names: &["sa"],
        subresources: &[Subresource {
            name: "token",
            kind: "TokenRequest",
            group_version: Some("authentication.k8s.io/v1"),
            verbs: CREATE,
        }],
        ..BASE
    },
    Resource {
        group: "",
        resource: "services",
        singular: "service",
        kind: "Service",
        namespaced: true,
        short_names: &["svc"],
        categories: ALL,
        subresources: &[sub("proxy", "ServiceProxyOptions", PROXY), status("Service")],
        ..BASE
    },
    // ---- apiregistration.k8s.io ----
    Resource {
        group: "apiregistration.k8s.io",
        resource: "apiservices",
        singular: "apiservice",
        kind: "APIService",
        namespaced: false,
        categories: API_EXTENSIONS,
        subresources: &[status("APIService")],
        ..BASE
    },
    // ---- apps ----
    Resource {
        group: "apps",
        resource: "controllerrevisions",
        singular: "controllerrevision",
        kind: "ControllerRevision",
        namespaced: true,
        ..BASE
    },
    Resource {
        group: "apps",
        resource: "daemonsets",
        singular: "daemonset",
        kind: "DaemonSet",
        namespaced: true,
        short_names: &["ds"],
        categories: ALL,
        subresources: &[status("DaemonSet")],
        ..BASE
    },
    Resource {
        group: "apps",
        resource: "deployments",
        singular: "deployment",
        kind: "Deployment",
        namespaced: true,
        short_names: &["deploy"],
        categories: ALL,
        subresources: &[scale(), status("Deployment")],
        ..BASE
    },
    Resource {
        group: "apps",
        resource: "replicasets",
        singular: "replicaset",
        kind: "ReplicaSet",
        namespaced: true,
        short_names: &["rs"],
        categories: ALL,
        subresources: &[scale(), status("ReplicaSet")],
        ..BASE
    },
    Resource {
        group: "apps",
        resource: "statefulsets",
        singular: "statefulset",
        kind: "StatefulSet",
        namespaced: true,
        short_names: &["sts"],
        categories: ALL,
        subresources: &[scale(), status("StatefulSet")],
        ..BASE
    },
    // ---- events.k8s.io ----
    Resource {
        group: "events.k8s.io",
        resource: "events",
        singular: "event",
        kind: "Event",
        namespaced: true,
        // Same short name as core events; kubectl resolves "ev" by group priority.
        short_names: &["ev"],
        ..BASE
    },
    // ---- authentication.k8s.io (virtual, create-only) ----
    Resource {
        group: "authentication.k8s.io",
        resource: "selfsubjectreviews",
        singular: "selfsubjectreview",
        kind: "SelfSubjectReview",
        namespaced: false,
        verbs: CREATE,
        ..BASE
    },
    Resource {
        group: "authentication.k8s.io",
        resource: "tokenreviews",
        singular: "tokenreview",
        kind: "TokenReview",
        namespaced: false,
        verbs: CREATE,
        ..BASE
    },
    // ---- authorization.k8s.io (virtual, create-only) ----
    Resource {
        group: "authorization.k8s.io",
        resource: "localsubjectaccessreviews",
        singular: "localsubjectaccessreview",
        kind: "LocalSubjectAccessReview",
        namespaced: true,
        verbs: CREATE,
        ..BASE
    },
    Resource {
        group: "authorization.k8s.io",
        resource: "selfsubjectaccessreviews",
        singular: "selfsubjectaccessreview",
        kind: "SelfSubjectAccessReview",
        namespaced: false,
        verbs: CREATE,
        ..BASE
    },
    Resource {
        group: "authorization.k8s.io",
        resource: "selfsubjectrulesreviews",
        singular: "selfsubjectrulesreview",
        kind: "SelfSubjectRulesReview",
        namespaced: false,
        verbs: CREATE,
        ..BASE
    },
    Resource {
        group: "authorization.k8s.io",
        resource: "subjectaccessreviews",
        singular: "subjectaccessreview",
        kind: "SubjectAccessReview",
        namespaced: false,
        verbs: CREATE,
        ..BASE
    },
    // ---- autoscaling ----
    Resource {
        group: "autoscaling",
        versions: V2_V1,
        resource: "horizontalpodautoscalers",
        singular: "horizontalpodautoscaler",
        kind: "HorizontalPodAutoscaler",
        namespaced: true,
        short_names: &["hpa"],
        categories: ALL,
        subresources: &[status("HorizontalPodAutoscaler")],
        ..BASE
    },
    // ---- batch ----
    Resource {
        group: "batch",
        resource: "cronjobs",
        singular: "cronjob",
        kind: "CronJob",
        namespaced: true,
        short_names: &["cj"],
        categories: ALL,
        subresources: &[status("CronJob")],
        ..BASE
    },
    Resource {
        group: "batch",
        resource: "jobs",
        singular: "job",
        kind: "Job",
        namespaced: true,
        categories: ALL,
        subresources: &[status("Job")],
        ..BASE
    },
    // ---- certificates.k8s.io ----
    Resource {
        group: "certificates.k8s.io",
        resource: "certificatesigningrequests",
        singular: "certificatesigningrequest",
        kind: "CertificateSigningRequest",
        namespaced: false,
        short_names: &["csr"],
        subresources: &[
            sub("approval", "CertificateSigningRequest", GET_PATCH_UPDATE),
            status("CertificateSigningRequest"),
        ],
        ..BASE
    },
    // ---- networking.k8s.io (v1beta1 ipaddresses/servicecidrs are beta, off by default) ----
    Resource {
        group: "networking.k8s.io",
        resource: "ingressclasses",
        singular: "ingressclass",
        kind: "IngressClass",
        namespaced: false,
        ..BASE
    },
    Resource {
        group: "networking.k8s.io",
        resource: "ingresses",
        singular: "ingress",
        kind: "Ingress",
        namespaced: true,
        short_names: &["ing"],
        subresources: &[status("Ingress")],
        ..BASE
    },
    Resource {
        group: "networking.k8s.io",
        resource: "networkpolicies",
        singular: "networkpolicy",
        kind: "NetworkPolicy",
        namespaced: true,
        short_names: &["netpol"],
        ..BASE
    },
    // ---- policy ----
    Resource {
        group: "policy",
        resource: "poddisruptionbudgets",
        singular: "poddisruptionbudget",
        kind: "PodDisruptionBudget",
        namespaced: true,
        short_names: &["pdb"],
        subresources: &[status("PodDisruptionBudget")],
        ..BASE
    },
    // ---- rbac.authorization.k8s.io ----
    Resource {
        group: "rbac.authorization.k8s.io",
        resource: "clusterrolebindings",
        singular: "clusterrolebinding",
        kind: "ClusterRoleBinding",
        namespaced: false,
        ..BASE
    },
    Resource {
        group: "rbac.authorization.k8s.io",
        resource: "clusterroles",
        singular: "clusterrole",
        kind: "ClusterRole",
        namespaced: false,
        ..BASE
    },
    Resource {
        group: "rbac.authorization.k8s.io",
        resource: "rolebindings",
        singular: "rolebinding",
        kind: "RoleBinding",
        namespaced: true,
        ..BASE
    },
    Resource {
        group: "rbac.authorization.k8s.io",
        resource: "roles",
        singular: "role",
        kind: "Role",
        namespaced: true,
        ..BASE
    },
    // ---- storage.k8s.io (v1beta1 volumeattributesclasses is beta, off by default) ----
    Resource {
        group: "storage.k8s.io",
        resource: "csidrivers",
        singular: "csidriver",
        kind: "CSIDriver",
        namespaced: false,
        ..BASE
    },
    Resource {
        group: "storage.k8s.io",
        resource: "csinodes",
        singular: "csinode",
        kind: "CSINode",
        namespaced: false,
        ..BASE
    },
    Resource {
        group: "storage.k8s.io",
        resource: "csistoragecapacities",
        singular: "csistoragecapacity",
        kind: "CSIStorageCapacity",
        namespaced: true,
        ..BASE
    },
    Resource {
        group: "storage.k8s.io",
        resource: "storageclasses",
        singular: "storageclass",
        kind: "StorageClass",
        namespaced: false,
        short_names: &["sc"],
        ..BASE
    },
    Resource {
        group: "storage.k8s.io",
        resource: "volumeattachments",
        singular: "volumeattachment",
        kind: "VolumeAttachment",
        namespaced: false,
        subresources: &[status("VolumeAttachment")],
        ..BASE
    },
    // ---- admissionregistration.k8s.io ----
    Resource {
        group: "admissionregistration.k8s.io",
        resource: "mutatingwebhookconfigurations",
        singular: "mutatingwebhookconfiguration",
        kind: "MutatingWebhookConfiguration",
        namespaced: false,
        categories: API_EXTENSIONS,
        ..BASE
    },
    Resource {
        group: "admissionregistration.k8s.io",
        resource: "validatingadmissionpolicies",
        singular: "validatingadmissionpolicy",
        kind: "ValidatingAdmissionPolicy",
        namespaced: false,
        categories: API_EXTENSIONS,
        subresources: &[status("ValidatingAdmissionPolicy")],
        ..BASE
    },
    Resource {
        group: "admissionregistration.k8s.io",
        resource: "validatingadmissionpolicybindings",
        singular: "validatingadmissionpolicybinding",
        kind: "ValidatingAdmissionPolicyBinding",
        namespaced: false,
        categories: API_EXTENSIONS,
        ..BASE
    },
    Resource {
        group: "admissionregistration.k8s.io",
        resource: "validatingwebhookconfigurations",
        singular: "validatingwebhookconfiguration",
        kind: "ValidatingWebhookConfiguration",
        namespaced: false,
        categories: API_EXTENSIONS,
        ..BASE
    },
    // ---- apiextensions.k8s.io ----
    Resource {
        group: "apiextensions.k8s.io",
        resource: "customresourcedefinitions",
        singular: "customresourcedefinition",
        kind: "CustomResourceDefinition",
        namespaced: false,
        short_names: &["crd", "crds"],
        categories: API_EXTENSIONS,
        subresources: &[status("CustomResourceDefinition")],
        ..BASE
    },
    // ---- scheduling.k8s.io ----
    Resource {
        group: "scheduling.k8s.io",
        resource: "priorityclasses",
        singular: "priorityclass",
        kind: "PriorityClass",
        namespaced: false,
        short_names: &["pc"],
        ..BASE
    },
    // ---- coordination.k8s.io (v1alpha2 leasecandidates is alpha) ----
    Resource {
        group: "coordination.k8s.io",
        resource: "leases",
        singular: "lease",
        kind: "Lease",
        namespaced: true,
        ..BASE
    },
    // ---- node.k8s.io ----
    Resource {
        group: "node.k8s.io",
        resource: "runtimeclasses",
        singular: "runtimeclass",
        kind: "RuntimeClass",
        namespaced: false,
        ..BASE
    },
    // ---- discovery.k8s.io ----
    Resource {
        group: "discovery.k8s.io",
        resource: "endpointslices",
        singular: "endpointslice",
        kind: "EndpointSlice",
        namespaced: true,
        ..BASE
    },
    // ---- flowcontrol.apiserver.k8s.io (v1beta3 stopped being served in 1.32) ----
    Resource {
        group: "flowcontrol.apiserver.k8s.io",
        resource: "flowschemas",
        singular: "flowschema",
        kind: "FlowSchema",
        namespaced: false,
        subresources: &[status("FlowSchema")],
        ..BASE
    },
    Resource {
        group: "flowcontrol.apiserver.k8s.io",
        resource: "prioritylevelconfigurations",
        singular: "prioritylevelconfiguration",
        kind: "PriorityLevelConfiguration",
        namespaced: false,
        subresources: &[status("PriorityLevelConfiguration")],
        ..BASE
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, BTreeSet};

    fn count(group: &str) -> usize {
        RESOURCES.iter().filter(|r| r.group == group).count()
    }

    #[test]
    fn counts_per_group() {
        let expected = [
            ("", 17),
            ("apiregistration.k8s.io", 1),
            ("apps", 5),
            ("events.k8s.io", 1),
            ("authentication.k8s.io", 2),
            ("authorization.k8s.io", 4),
            ("autoscaling", 1),
            ("batch", 2),
            ("certificates.k8s.io", 1),
            ("networking.k8s.io", 3),
            ("policy", 1),
            ("rbac.authorization.k8s.io", 4),
            ("storage.k8s.io", 5),
            ("admissionregistration.k8s.io", 4),
            ("apiextensions.k8s.io", 1),
            ("scheduling.k8s.io", 1),
            ("coordination.k8s.io", 1),
            ("node.k8s.io", 1),
            ("discovery.k8s.io", 1),
            ("flowcontrol.apiserver.k8s.io", 2),
        ];
        for (g, n) in expected {
            assert_eq!(count(g), n, "group {g:?}");
        }
        assert_eq!(RESOURCES.len(), 58);
        assert_eq!(GROUPS.len(), 19);
    }

    #[test]
    fn groups_in_apis_order() {
        let names: Vec<&str> = GROUPS.iter().map(|g| g.name).collect();
        assert_eq!(
            names,
            [
                "apiregistration.k8s.io",
                "apps",
                "events.k8s.io",
                "authentication.k8s.io",
                "authorization.k8s.io",
                "autoscaling",
                "batch",
                "certificates.k8s.io",
                "networking.k8s.io",
                "policy",
                "rbac.authorization.k8s.io",
                "storage.k8s.io",
                "admissionregistration.k8s.io",
                "apiextensions.k8s.io",
                "scheduling.k8s.io",
                "coordination.k8s.io",
                "node.k8s.io",
                "discovery.k8s.io",
                "flowcontrol.apiserver.k8s.io",
            ]
        );
        assert_eq!(group("autoscaling").map(|g| g.versions), Some(&["v2", "v1"][..]));
        assert_eq!(group("").map(|g| g.versions), Some(&["v1"][..]));
        assert!(group("resource.k8s.io").is_none());
        assert!(group("storagemigration.k8s.io").is_none());
        assert!(group("internal.apiserver.k8s.io").is_none());
    }

    /// What `kubectl api-versions` prints against a default v1.32 kube-apiserver.
    #[test]
    fn api_versions_match_kubectl() {
        let mut all: Vec<String> = CORE.versions.iter().map(|v| v.to_string()).collect();
        for g in GROUPS {
            for v in g.versions {
                all.push(format!("{}/{}", g.name, v));
            }
        }
        all.sort();
        assert_eq!(
            all,
            [
                "admissionregistration.k8s.io/v1",
                "apiextensions.k8s.io/v1",
                "apiregistration.k8s.io/v1",
                "apps/v1",
                "authentication.k8s.io/v1",
                "authorization.k8s.io/v1",
                "autoscaling/v1",
                "autoscaling/v2",
                "batch/v1",
                "certificates.k8s.io/v1",
                "coordination.k8s.io/v1",
                "discovery.k8s.io/v1",
                "events.k8s.io/v1",
                "flowcontrol.apiserver.k8s.io/v1",
                "networking.k8s.io/v1",
                "node.k8s.io/v1",
                "policy/v1",
                "rbac.authorization.k8s.io/v1",
                "scheduling.k8s.io/v1",
                "storage.k8s.io/v1",
                "v1",
            ]
        );
    }

    #[test]
    fn resources_agree_with_their_group() {
        let mut seen_groups = Vec::new();
        for r in RESOURCES {
            let g = group(r.group).expect("resource in an unknown group");
            assert_eq!(r.versions, g.versions, "{}", r.resource);
            if seen_groups.last() != Some(&r.group) {
                assert!(!seen_groups.contains(&r.group), "group {} not contiguous", r.group);
                seen_groups.push(r.group);
            }
        }
        // Core first, then /apis order.
        let mut expected = vec![""];
        expected.extend(GROUPS.iter().map(|g| g.name));
        assert_eq!(seen_groups, expected);
        // Every group serves something.
        for g in GROUPS {
            assert!(count(g.name) > 0, "{}", g.name);
        }
    }

    #[test]
    fn discovery_order_and_verb_order() {
        for g in std::iter::once(&CORE).chain(GROUPS.iter()) {
            let names: Vec<&str> = RESOURCES.iter().filter(|r| r.group == g.name).map(|r| r.resource).collect();
            let mut sorted = names.clone();
            sorted.sort();
            assert_eq!(names, sorted, "group {:?}", g.name);
            // kube sorts full paths; the flat "resource/sub" order must match too.
            let mut paths = Vec::new();
            for r in RESOURCES.iter().filter(|r| r.group == g.name) {
                paths.push(r.resource.to_string());
                for s in r.subresources {
                    paths.push(format!("{}/{}", r.resource, s.name));
                }
            }
            let mut sorted_paths = paths.clone();
            sorted_paths.sort();
            assert_eq!(paths, sorted_paths);
        }
        for r in RESOURCES {
            let mut v = r.verbs.to_vec();
            v.sort();
            assert_eq!(v, r.verbs, "{}", r.resource);
            for s in r.subresources {
                let mut v = s.verbs.to_vec();
                v.sort();
                assert_eq!(v, s.verbs, "{}/{}", r.resource, s.name);
            }
            assert_eq!(r.singular, r.singular.to_lowercase());
            assert!(!r.singular.is_empty());
        }
    }

    #[test]
    fn short_names_unique_except_events() {
        let mut owners: BTreeMap<&str, Vec<(&str, &str)>> = BTreeMap::new();
        for r in RESOURCES {
            for s in r.short_names {
                owners.entry(s).or_default().push((r.group, r.resource));
            }
        }
        for (short, who) in &owners {
            if *short == "ev" {
                // kube really gives "ev" to both core and events.k8s.io events.
                assert_eq!(who, &[("", "events"), ("events.k8s.io", "events")]);
            } else {
                assert_eq!(who.len(), 1, "short name {short} shared by {who:?}");
            }
        }
        // No short name collides with another resource's plural or singular.
        for r in RESOURCES {
            for s in r.short_names {
                assert!(!RESOURCES.iter().any(|o| o.resource == *s || o.singular == *s), "{s}");
            }
        }
        let shorts: BTreeSet<&str> = owners.keys().copied().collect();
        let expected: BTreeSet<&str> = [
            "cj", "cm", "crd", "crds", "cs", "csr", "deploy", "ds", "ep", "ev", "hpa", "ing", "limits", "netpol", "no",
            "ns", "pc", "pdb", "po", "pv", "pvc", "quota", "rc", "rs", "sa", "sc", "sts", "svc",
        ]
        .into_iter()
        .collect();
        assert_eq!(shorts, expected);
    }

    fn by_short(short: &str) -> Vec<(&'static str, &'static str)> {
        RESOURCES.iter().filter(|r| r.short_names.contains(&short)).map(|r| (r.group, r.resource)).collect()
    }

    #[test]
    fn spot_checks_against_kubectl_api_resources() {
        assert_eq!(by_short("deploy"), [("apps", "deployments")]);
        assert_eq!(by_short("hpa"), [("autoscaling", "horizontalpodautoscalers")]);
        assert_eq!(by_short("pdb"), [("policy", "poddisruptionbudgets")]);
        assert_eq!(by_short("netpol"), [("networking.k8s.io", "networkpolicies")]);
        assert_eq!(by_short("cm"), [("", "configmaps")]);
        assert_eq!(by_short("ev"), [("", "events"), ("events.k8s.io", "events")]);

        let hpa = lookup("autoscaling", "v1", "horizontalpodautoscalers").expect("hpa v1");
        assert_eq!(hpa.preferred_version(), "v2");
        assert_eq!(hpa.api_version(), "autoscaling/v2");
        assert!(lookup("autoscaling", "v2", "horizontalpodautoscalers").is_some());
        assert!(lookup("autoscaling", "v2beta2", "horizontalpodautoscalers").is_none());

        let ns = lookup("", "v1", "namespaces").expect("namespaces");
        assert!(!ns.namespaced);
        assert!(!ns.verbs.contains(&"deletecollection"));
        assert_eq!(ns.subresource("finalize").map(|s| s.verbs), Some(UPDATE));

        let cs = lookup("", "v1", "componentstatuses").expect("cs");
        assert_eq!(cs.verbs, ["get", "list"]);
        assert_eq!(cs.api_version(), "v1");

        let crd = by_kind("apiextensions.k8s.io", "CustomResourceDefinition").expect("crd");
        assert_eq!(crd.short_names, ["crd", "crds"]);
        assert_eq!(crd.categories, ["api-extensions"]);

        let lsar = by_kind("authorization.k8s.io", "LocalSubjectAccessReview").expect("lsar");
        assert!(lsar.namespaced);
        assert_eq!(lsar.verbs, ["create"]);

        assert_eq!(by_kind("", "Event").map(|r| r.group), Some(""));
        assert_eq!(by_kind("events.k8s.io", "Event").map(|r| r.resource), Some("events"));
        assert_eq!(lookup("", "v1", "endpoints").map(|r| r.singular), Some("endpoints"));
    }

    #[test]
    fn not_served_by_default_in_1_32() {
        assert!(lookup("flowcontrol.apiserver.k8s.io", "v1beta3", "flowschemas").is_none());
        assert!(lookup("networking.k8s.io", "v1", "servicecidrs").is_none());
        assert!(lookup("networking.k8s.io", "v1beta1", "ipaddresses").is_none());
        assert!(lookup("storage.k8s.io", "v1", "volumeattributesclasses").is_none());
        assert!(lookup("coordination.k8s.io", "v1", "leasecandidates").is_none());
        assert!(lookup("certificates.k8s.io", "v1", "clustertrustbundles").is_none());
        assert!(lookup("admissionregistration.k8s.io", "v1beta1", "validatingadmissionpolicies").is_none());
        let pods = lookup("", "v1", "pods").expect("pods");
        assert!(pods.subresource("resize").is_none());
        assert!(pods.subresource("checkpoint").is_none());
    }

    #[test]
    fn all_category_members() {
        let mut all: Vec<(&str, &str)> = in_category("all").map(|r| (r.group, r.resource)).collect();
        all.sort();
        assert_eq!(
            all,
            [
                ("", "pods"),
                ("", "replicationcontrollers"),
                ("", "services"),
                ("apps", "daemonsets"),
                ("apps", "deployments"),
                ("apps", "replicasets"),
                ("apps", "statefulsets"),
                ("autoscaling", "horizontalpodautoscalers"),
                ("batch", "cronjobs"),
                ("batch", "jobs"),
            ]
        );
        let ext: Vec<&str> = in_category("api-extensions").map(|r| r.resource).collect();
        assert_eq!(
            ext,
            [
                "apiservices",
                "mutatingwebhookconfigurations",
                "validatingadmissionpolicies",
                "validatingadmissionpolicybindings",
                "validatingwebhookconfigurations",
                "customresourcedefinitions",
            ]
        );
        // Only these two categories exist among built-ins.
        let cats: BTreeSet<&str> = RESOURCES.iter().flat_map(|r| r.categories.iter().copied()).collect();
        assert_eq!(cats, ["all", "api-extensions"].into_iter().collect());
    }

    #[test]
    fn subresources() {
        let pods = lookup("", "v1", "pods").expect("pods");
        let names: Vec<&str> = pods.subresources.iter().map(|s| s.name).collect();
        assert_eq!(
            names,
            ["attach", "binding", "ephemeralcontainers", "eviction", "exec", "log", "portforward", "proxy", "status"]
        );
        let ev = pods.subresource("eviction").expect("eviction");
        assert_eq!(ev.gvk("", "v1"), ("policy", "v1", "Eviction"));
        assert_eq!(pods.subresource("binding").map(|s| s.gvk("", "v1")), Some(("", "v1", "Binding")));
        assert_eq!(pods.subresource("log").map(|s| s.verbs), Some(GET));
        assert_eq!(pods.subresource("exec").map(|s| s.kind), Some("PodExecOptions"));
        assert_eq!(pods.subresource("proxy").map(|s| s.verbs), Some(PROXY));

        let deploy = lookup("apps", "v1", "deployments").expect("deployments");
        let scale = deploy.subresource("scale").expect("scale");
        assert_eq!(scale.gvk("apps", "v1"), ("autoscaling", "v1", "Scale"));
        assert_eq!(scale.verbs, ["get", "patch", "update"]);
        let rc = lookup("", "v1", "replicationcontrollers").expect("rc");
        assert_eq!(rc.subresource("scale").map(|s| s.group_version), Some(Some("autoscaling/v1")));

        let sa = lookup("", "v1", "serviceaccounts").expect("sa");
        let token = sa.subresource("token").expect("token");
        assert_eq!(token.gvk("", "v1"), ("authentication.k8s.io", "v1", "TokenRequest"));
        assert_eq!(token.verbs, ["create"]);

        let csr = lookup("certificates.k8s.io", "v1", "certificatesigningrequests").expect("csr");
        assert_eq!(csr.subresource("approval").map(|s| s.verbs), Some(GET_PATCH_UPDATE));

        assert_eq!(
            lookup("", "v1", "nodes").and_then(|r| r.subresource("proxy")).map(|s| s.kind),
            Some("NodeProxyOptions")
        );
        assert_eq!(
            lookup("", "v1", "services").and_then(|r| r.subresource("proxy")).map(|s| s.kind),
            Some("ServiceProxyOptions")
        );

        // Count of all subresource paths, as listed by legacy discovery.
        let total: usize = RESOURCES.iter().map(|r| r.subresources.len()).sum();
        assert_eq!(total, 41);
    }

    #[test]
    fn virtual_resources() {
        let mut virt: Vec<&str> = RESOURCES.iter().filter(|r| r.is_virtual()).map(|r| r.resource).collect();
        virt.sort();
        assert_eq!(
            virt,
            [
                "bindings",
                "componentstatuses",
                "localsubjectaccessreviews",
                "selfsubjectaccessreviews",
                "selfsubjectreviews",
                "selfsubjectrulesreviews",
                "subjectaccessreviews",
                "tokenreviews",
            ]
        );
        for r in RESOURCES.iter().filter(|r| !r.is_virtual()) {
            assert!(r.verbs == CRUD || r.verbs == CRUD_NO_COLLECTION, "{}", r.resource);
        }
    }

    #[test]
    fn storage_gvk_inputs() {
        // Checked against storageVersionHash values in kube's api/discovery fixtures.
        let cm = lookup("", "v1", "configmaps").and_then(|r| r.storage_gvk());
        assert_eq!(cm, Some(("", "v1", "ConfigMap"))); // "qFsyl6wFWjQ="
        let ev = lookup("events.k8s.io", "v1", "events").and_then(|r| r.storage_gvk());
        assert_eq!(ev, Some(("", "v1", "Event"))); // "r2yiGXH7wu8=", same as core
        let hpa = lookup("autoscaling", "v1", "horizontalpodautoscalers").and_then(|r| r.storage_gvk());
        assert_eq!(hpa, Some(("autoscaling", "v2", "HorizontalPodAutoscaler"))); // "qwQve8ut294="
        assert_eq!(lookup("", "v1", "bindings").and_then(|r| r.storage_gvk()), None);
    }
}
