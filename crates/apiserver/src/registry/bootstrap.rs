//! What every cluster has from its first start: the four system namespaces, the bootstrap
//! RBAC policy, and the `kubernetes` Service with its Endpoints and EndpointSlice in `default`.

use std::net::IpAddr;

use serde_json::{json, Value};
use tracing::info;

use crate::error::Result;
use crate::registry::store::{Store, WriteOptions};

/// Creates an object through the API unless it exists.
async fn ensure(store: &Store, group: &str, version: &str, resource: &str, ns: &str, obj: Value) -> Result<()> {
    let def = store.def(group, version, resource)?;
    match store.create(&def, version, ns, obj, &WriteOptions::default()).await {
        Ok(_) => Ok(()),
        Err(e) if e.reason == "AlreadyExists" => Ok(()),
        Err(e) => Err(e),
    }
}

/// Creates what is missing; the endpoints are rewritten to this server's address.
pub async fn run(store: &Store, address: IpAddr, port: u16) -> Result<()> {
    for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] {
        ensure(store, "", "v1", "namespaces", "", json!({"metadata": {"name": ns}})).await?;
    }
    for (resource, obj) in crate::rbac::bootstrap::objects()? {
        ensure(store, crate::rbac::GROUP, "v1", resource, "", obj).await?;
    }
    let ip = store.services.first_ip().to_string();
    let service = json!({
        "metadata": {"name": "kubernetes", "labels": {"component": "apiserver", "provider": "kubernetes"}},
        "spec": {
            "clusterIP": ip,
            "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": port}],
            "sessionAffinity": "None",
            "type": "ClusterIP"
        }
    });
    ensure(store, "", "v1", "services", "default", service).await?;
    let endpoints = json!({
        "metadata": {"name": "kubernetes", "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"}},
        "subsets": [{"addresses": [{"ip": address.to_string()}], "ports": [{"name": "https", "port": port, "protocol": "TCP"}]}]
    });
    // kube-apiserver's endpoint reconciler writes these straight to storage (an apiserver on
    // loopback would fail Endpoints validation), and so do we.
    store.write_system(&*store.def("", "v1", "endpoints")?, "default", endpoints).await?;
    let slice = json!({
        "metadata": {"name": "kubernetes", "labels": {"kubernetes.io/service-name": "kubernetes"}},
        "addressType": if address.is_ipv4() { "IPv4" } else { "IPv6" },
        "endpoints": [{"addresses": [address.to_string()], "conditions": {"ready": true}}],
        "ports": [{"name": "https", "port": port, "protocol": "TCP"}]
    });
    store.write_system(&*store.def("discovery.k8s.io", "v1", "endpointslices")?, "default", slice).await?;
    info!(%address, port, "bootstrap objects in place");
    Ok(())
}
