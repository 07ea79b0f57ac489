//! The native provisioner: a tenant's control plane as workloads of the super cluster, in a
//! namespace named after the cluster key. etcd is a StatefulSet with a volume claim and a
//! headless Service; the API server a StatefulSet behind the Service `apiserver` (port 443);
//! the controllers a StatefulSet of one. Images and extra flags come from the tenant's
//! ClusterVersion, else from the manager's defaults. The platform's kubelets supervise the
//! pods; a tenant is ready when its API server's pod passes its `/readyz` probe.

use std::collections::BTreeMap;
use std::fmt::Debug;

use futures::future::BoxFuture;
use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{Namespace, Secret, Service};
use k8s_openapi::ByteString;
use kube::api::{Api, DeleteParams, PostParams};
use kube::{Resource, ResourceExt};
use nestor_api::keys;
use nestor_api::types::{ClusterVersionSpec, Component, Endpoint};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tracing::info;

use super::{Error, Provisioned, Provisioner, Result, Tenant};

/// The annotation holding a hash of what the manager last wrote: an object is written again
/// only when what it should be changed (the API server fills in defaults, so comparing specs
/// would always differ).
const WRITTEN_HASH: &str = "nestor.dev/written-hash";

/// Where the API server listens in its pod, and the Service's port.
const APISERVER_PORT: i32 = 6443;
const SERVICE_PORT: i32 = 443;

/// Settings of the native provisioner.
#[derive(Debug, Clone)]
pub struct NativeConfig {
    /// The parts of a control plane whose VirtualCluster names no ClusterVersion.
    pub default_version: ClusterVersionSpec,
    /// Size of each tenant's etcd volume claim.
    pub etcd_storage: String,
}

pub struct NativeProvisioner {
    client: kube::Client,
    config: NativeConfig,
}

impl NativeProvisioner {
    pub fn new(client: kube::Client, config: NativeConfig) -> NativeProvisioner {
        NativeProvisioner { client, config }
    }

    async fn ensure_tenant(&self, tenant: &Tenant) -> Result<Provisioned> {
        let ns = tenant.key.as_str();
        let version = tenant.version.as_ref().unwrap_or(&self.config.default_version);
        let labels = labels(tenant);
        let namespaces: Api<Namespace> = Api::all(self.client.clone());
        let namespace = json!({"metadata": {"name": ns, "labels": labels, "annotations": vc_annotations(tenant)}});
        write(&namespaces, namespace).await?;

        let secrets: Api<Secret> = Api::namespaced(self.client.clone(), ns);
        write(&secrets, pki_secret(tenant)).await?;
        let server = format!("https://{}:{SERVICE_PORT}", service_host(ns));
        let kubeconfig = tenant.pki.kubeconfig(&server, &tenant.name);
        write(&secrets, secret("controllers-kubeconfig", &labels, [("kubeconfig", kubeconfig.into_bytes())])).await?;

        let services: Api<Service> = Api::namespaced(self.client.clone(), ns);
        write(&services, etcd_service(&labels)).await?;
        write(&services, apiserver_service(&labels)).await?;
        let sets: Api<StatefulSet> = Api::namespaced(self.client.clone(), ns);
        write(&sets, etcd(&labels, &version.etcd, &self.config.etcd_storage)).await?;
        let apiserver = write(&sets, apiserver(&labels, &version.api_server)).await?;
        match &version.controllers {
            Some(controllers) => {
                write(&sets, self::controllers(&labels, controllers)).await?;
            }
            None => delete_if_there(&sets, "controllers").await?,
        }
        let ready = apiserver.status.and_then(|s| s.ready_replicas).unwrap_or(0) >= 1;
        Ok(Provisioned { server, in_cluster: Endpoint { host: service_host(ns), port: SERVICE_PORT }, ready })
    }

    async fn remove_tenant(&self, key: &str) -> Result<()> {
        let namespaces: Api<Namespace> = Api::all(self.client.clone());
        match namespaces.get_opt(key).await.map_err(api_error)? {
            None => Ok(()),
            Some(ns) if ns.labels().get(keys::CLUSTER).map(String::as_str) != Some(key) => {
                // Not made by the manager: never deleted.
                Ok(())
            }
            Some(ns) => {
                if ns.metadata.deletion_timestamp.is_none() {
                    info!(tenant = %key, "deleting the control plane's namespace");
                    namespaces.delete(key, &DeleteParams::default()).await.map_err(api_error)?;
                }
                // Retried until the namespace is gone: nothing is left behind.
                Err(Error::Removing(format!("namespace {key} is still being deleted")))
            }
        }
    }
}

impl Provisioner for NativeProvisioner {
    fn name(&self) -> &'static str {
        "native"
    }

    fn ensure<'a>(&'a self, tenant: &'a Tenant) -> BoxFuture<'a, Result<Provisioned>> {
        Box::pin(self.ensure_tenant(tenant))
    }

    fn remove<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(self.remove_tenant(key))
    }
}

/// The in-cluster name of a tenant's API server Service.
fn service_host(namespace: &str) -> String {
    format!("apiserver.{namespace}.svc")
}

fn api_error(e: kube::Error) -> Error {
    Error::Api(e.to_string())
}

fn labels(tenant: &Tenant) -> BTreeMap<String, String> {
    BTreeMap::from([
        (keys::CLUSTER.to_string(), tenant.key.clone()),
        ("app.kubernetes.io/managed-by".to_string(), "nestor-manager".to_string()),
    ])
}

fn vc_annotations(tenant: &Tenant) -> BTreeMap<String, String> {
    BTreeMap::from([
        (keys::VC_NAMESPACE.to_string(), tenant.namespace.clone()),
        (keys::VC_NAME.to_string(), tenant.name.clone()),
        (keys::VC_UID.to_string(), tenant.uid.clone()),
    ])
}

/// Creates `desired` (JSON of a `K`), or replaces the object when what it should be changed.
async fn write<K>(api: &Api<K>, mut desired: Value) -> Result<K>
where
    K: Resource + Clone + Debug + Serialize + DeserializeOwned,
{
    let hash = hex(&Sha256::digest(desired.to_string().as_bytes()));
    desired["metadata"]["annotations"][WRITTEN_HASH] = json!(hash);
    let name = desired["metadata"]["name"].as_str().unwrap_or_default().to_string();
    let object: K = serde_json::from_value(desired).map_err(|e| Error::Api(e.to_string()))?;
    match api.get_opt(&name).await.map_err(api_error)? {
        None => api.create(&PostParams::default(), &object).await.map_err(api_error),
        Some(current) if current.annotations().get(WRITTEN_HASH) == Some(&hash) => Ok(current),
        Some(current) => {
            let mut object = object;
            object.meta_mut().resource_version = current.resource_version();
            api.replace(&name, &PostParams::default(), &object).await.map_err(api_error)
        }
    }
}

async fn delete_if_there<K>(api: &Api<K>, name: &str) -> Result<()>
where
    K: Resource + Clone + Debug + DeserializeOwned,
{
    match api.delete(name, &DeleteParams::default()).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
        Err(e) => Err(api_error(e)),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

fn secret<const N: usize>(name: &str, labels: &BTreeMap<String, String>, data: [(&str, Vec<u8>); N]) -> Value {
    let data: BTreeMap<String, ByteString> = data.into_iter().map(|(k, v)| (k.to_string(), ByteString(v))).collect();
    json!({"metadata": {"name": name, "labels": labels}, "type": "Opaque", "data": data})
}

/// The certificates and keys the API server mounts.
fn pki_secret(tenant: &Tenant) -> Value {
    let pki = &tenant.pki;
    secret(
        "pki",
        &labels(tenant),
        [
            ("ca.crt", pki.ca.cert_pem.clone().into_bytes()),
            ("tls.crt", pki.serving.cert_pem.clone().into_bytes()),
            ("tls.key", pki.serving.key_pem.clone().into_bytes()),
            ("sa.pub", pki.service_account.cert_pem.clone().into_bytes()),
            ("sa.key", pki.service_account.key_pem.clone().into_bytes()),
        ],
    )
}

fn etcd_service(labels: &BTreeMap<String, String>) -> Value {
    json!({
        "metadata": {"name": "etcd", "labels": labels},
        "spec": {
            "clusterIP": "None",
            "publishNotReadyAddresses": true,
            "selector": {"app.kubernetes.io/name": "etcd"},
            "ports": [{"name": "client", "port": 2379}, {"name": "peer", "port": 2380}],
        },
    })
}

fn apiserver_service(labels: &BTreeMap<String, String>) -> Value {
    json!({
        "metadata": {"name": "apiserver", "labels": labels},
        "spec": {
            "selector": {"app.kubernetes.io/name": "apiserver"},
            "ports": [{"name": "https", "port": SERVICE_PORT, "targetPort": APISERVER_PORT}],
        },
    })
}

/// A StatefulSet of one pod named `name` running `component` with `args` before its own.
fn stateful_set(
    name: &str,
    labels: &BTreeMap<String, String>,
    component: &Component,
    args: Vec<String>,
    extra: Value,
) -> Value {
    let mut pod_labels = labels.clone();
    pod_labels.insert("app.kubernetes.io/name".to_string(), name.to_string());
    let args: Vec<String> = args.into_iter().chain(component.args.iter().cloned()).collect();
    let mut container = json!({"name": name, "image": component.image, "args": args});
    let mut spec = json!({
        "replicas": 1,
        "serviceName": name,
        "selector": {"matchLabels": {"app.kubernetes.io/name": name, keys::CLUSTER: labels[keys::CLUSTER]}},
        "template": {"metadata": {"labels": pod_labels}, "spec": {"containers": []}},
    });
    if let Some(fields) = extra.get("container").and_then(Value::as_object) {
        for (k, v) in fields {
            container[k] = v.clone();
        }
    }
    if let Some(fields) = extra.get("pod").and_then(Value::as_object) {
        for (k, v) in fields {
            spec["template"]["spec"][k] = v.clone();
        }
    }
    if let Some(claims) = extra.get("volumeClaimTemplates") {
        spec["volumeClaimTemplates"] = claims.clone();
    }
    spec["template"]["spec"]["containers"] = json!([container]);
    json!({"metadata": {"name": name, "labels": labels}, "spec": spec})
}

fn etcd(labels: &BTreeMap<String, String>, component: &Component, storage: &str) -> Value {
    let peer = "http://etcd-0.etcd:2380";
    let args = vec![
        "--name=etcd-0".to_string(),
        "--data-dir=/var/lib/etcd".to_string(),
        "--listen-client-urls=http://0.0.0.0:2379".to_string(),
        "--advertise-client-urls=http://etcd-0.etcd:2379".to_string(),
        "--listen-peer-urls=http://0.0.0.0:2380".to_string(),
        format!("--initial-advertise-peer-urls={peer}"),
        format!("--initial-cluster=etcd-0={peer}"),
    ];
    let extra = json!({
        "container": {
            "command": ["etcd"],
            "ports": [{"name": "client", "containerPort": 2379}, {"name": "peer", "containerPort": 2380}],
            "volumeMounts": [{"name": "data", "mountPath": "/var/lib/etcd"}],
            "readinessProbe": {"httpGet": {"path": "/health", "port": 2379}, "periodSeconds": 5},
        },
        "volumeClaimTemplates": [{
            "metadata": {"name": "data"},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": storage}}},
        }],
    });
    stateful_set("etcd", labels, component, args, extra)
}

fn apiserver(labels: &BTreeMap<String, String>, component: &Component) -> Value {
    let args = vec![
        "--etcd-servers=http://etcd-0.etcd:2379".to_string(),
        format!("--secure-port={APISERVER_PORT}"),
        "--tls-cert-file=/pki/tls.crt".to_string(),
        "--tls-private-key-file=/pki/tls.key".to_string(),
        "--client-ca-file=/pki/ca.crt".to_string(),
    ];
    let extra = json!({
        "container": {
            "ports": [{"name": "https", "containerPort": APISERVER_PORT}],
            "volumeMounts": [{"name": "pki", "mountPath": "/pki", "readOnly": true}],
            "readinessProbe": {"httpGet": {"path": "/readyz", "port": APISERVER_PORT, "scheme": "HTTPS"}, "periodSeconds": 2},
            "livenessProbe": {"httpGet": {"path": "/livez", "port": APISERVER_PORT, "scheme": "HTTPS"}, "periodSeconds": 10, "failureThreshold": 6},
        },
        "pod": {"volumes": [{"name": "pki", "secret": {"secretName": "pki"}}]},
    });
    stateful_set("apiserver", labels, component, args, extra)
}

fn controllers(labels: &BTreeMap<String, String>, component: &Component) -> Value {
    let args = vec!["--kubeconfig=/kubeconfig/kubeconfig".to_string(), super::TENANT_CONTROLLERS.to_string()];
    let extra = json!({
        "container": {"volumeMounts": [{"name": "kubeconfig", "mountPath": "/kubeconfig", "readOnly": true}]},
        "pod": {"volumes": [{"name": "kubeconfig", "secret": {"secretName": "controllers-kubeconfig"}}]},
    });
    stateful_set("controllers", labels, component, args, extra)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels() -> BTreeMap<String, String> {
        BTreeMap::from([(keys::CLUSTER.to_string(), "blue-1234".to_string())])
    }

    #[test]
    fn the_api_server_runs_the_version_image_with_its_flags_after_ours() {
        let component = Component { image: "example/nestor-apiserver:v1".into(), args: vec!["--v=2".into()] };
        let set: StatefulSet = serde_json::from_value(apiserver(&labels(), &component)).unwrap();
        let pod = set.spec.as_ref().unwrap().template.spec.as_ref().unwrap();
        let container = &pod.containers[0];
        assert_eq!(container.image.as_deref(), Some("example/nestor-apiserver:v1"));
        let args = container.args.clone().unwrap();
        assert_eq!(args.first().map(String::as_str), Some("--etcd-servers=http://etcd-0.etcd:2379"));
        assert_eq!(args.last().map(String::as_str), Some("--v=2"));
        assert_eq!(pod.volumes.as_ref().unwrap()[0].secret.as_ref().unwrap().secret_name.as_deref(), Some("pki"));
        let selector = set.spec.as_ref().unwrap().selector.match_labels.clone().unwrap();
        let template = set.spec.unwrap().template.metadata.unwrap().labels.unwrap();
        assert!(selector.iter().all(|(k, v)| template.get(k) == Some(v)), "the selector selects the pods");
    }

    #[test]
    fn etcd_keeps_its_data_on_a_claim() {
        let component = Component { image: "registry.k8s.io/etcd:3.5.17-0".into(), args: vec![] };
        let set: StatefulSet = serde_json::from_value(etcd(&labels(), &component, "2Gi")).unwrap();
        let spec = set.spec.unwrap();
        let claim = &spec.volume_claim_templates.unwrap()[0];
        assert_eq!(claim.metadata.name.as_deref(), Some("data"));
        let mounts = spec.template.spec.unwrap().containers[0].volume_mounts.clone().unwrap();
        assert_eq!(mounts[0].mount_path, "/var/lib/etcd");
    }
}
