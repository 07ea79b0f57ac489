//! What the caches keep. Controllers never read managedFields or the last-applied annotation,
//! and of a pod they read only labels, owners, node, ports and readiness: dropping the rest
//! keeps a cache of thousands of pods small. Cached objects are therefore never written back
//! whole; every write is a patch of the fields a controller owns.

use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{
    ConfigMap, Endpoints, Namespace, Node, PersistentVolumeClaim, Pod, ReplicationController, Service, ServiceAccount,
};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

/// kubectl's copy of the applied manifest, often the largest annotation of an object.
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Drops what no controller reads from a cached object.
pub trait Trim {
    fn trim(&mut self);
}

fn trim_meta(meta: &mut ObjectMeta) {
    meta.managed_fields = None;
    if let Some(annotations) = meta.annotations.as_mut() {
        annotations.remove(LAST_APPLIED);
    }
}

impl Trim for Pod {
    fn trim(&mut self) {
        trim_meta(&mut self.metadata);
        if let Some(spec) = self.spec.as_mut() {
            spec.volumes = None;
            spec.affinity = None;
            spec.tolerations = None;
            spec.init_containers = None;
            spec.ephemeral_containers = None;
            spec.topology_spread_constraints = None;
            for c in &mut spec.containers {
                c.env = None;
                c.env_from = None;
                c.volume_mounts = None;
                c.command = None;
                c.args = None;
                c.liveness_probe = None;
                c.readiness_probe = None;
                c.startup_probe = None;
                c.resources = None;
                c.security_context = None;
                c.lifecycle = None;
            }
        }
        if let Some(status) = self.status.as_mut() {
            status.init_container_statuses = None;
            status.ephemeral_container_statuses = None;
            for s in status.container_statuses.iter_mut().flatten() {
                s.image_id = String::new();
                s.container_id = None;
                s.last_state = None;
                s.volume_mounts = None;
            }
        }
    }
}

impl Trim for ReplicaSet {
    fn trim(&mut self) {
        trim_meta(&mut self.metadata);
    }
}

impl Trim for ReplicationController {
    fn trim(&mut self) {
        trim_meta(&mut self.metadata);
    }
}

impl Trim for Deployment {
    fn trim(&mut self) {
        trim_meta(&mut self.metadata);
    }
}

impl Trim for Service {
    fn trim(&mut self) {
        trim_meta(&mut self.metadata);
    }
}

impl Trim for Endpoints {
    fn trim(&mut self) {
        trim_meta(&mut self.metadata);
    }
}

impl Trim for EndpointSlice {
    fn trim(&mut self) {
        trim_meta(&mut self.metadata);
    }
}

impl Trim for Namespace {
    fn trim(&mut self) {
        trim_meta(&mut self.metadata);
        self.spec = None;
    }
}

impl Trim for ServiceAccount {
    fn trim(&mut self) {
        trim_meta(&mut self.metadata);
        self.secrets = None;
        self.image_pull_secrets = None;
    }
}

impl Trim for ConfigMap {
    fn trim(&mut self) {
        trim_meta(&mut self.metadata);
        self.binary_data = None;
    }
}

/// Kinds whose every field some controller reads: only the metadata is trimmed.
macro_rules! trim_meta_only {
    ($($kind:ty),*) => {$(
        impl Trim for $kind {
            fn trim(&mut self) {
                trim_meta(&mut self.metadata);
            }
        }
    )*};
}

trim_meta_only!(StatefulSet, DaemonSet, ControllerRevision, Job, CronJob, Lease, PersistentVolumeClaim);

impl Trim for Node {
    fn trim(&mut self) {
        trim_meta(&mut self.metadata);
        if let Some(status) = self.status.as_mut() {
            // The image list is the largest part of a node and no controller reads it.
            status.images = None;
        }
    }
}
