//! What every cluster has from its first start: the four system namespaces, and the
//! `kubernetes` Service with its Endpoints and EndpointSlice in `default`.

use std::net::IpAddr;

use serde_json::{json, Value};
use tracing::info;

use crate::error::{ApiError, Result};
use crate::registry::store::{Store, WriteOptions};

async fn ensure(
    store: &Store,
    group: &str,
    version: &str,
    resource: &str,
    ns: &str,
    obj: Value,
    replace: bool,
) -> Result<()> {
    let def = store
        .resources
        .snapshot()
        .lookup(group, version, resource)
        .cloned()
        .ok_or_else(|| ApiError::internal(format!("{resource} are not served")))?;
    let name = obj.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("").to_string();
    match store.create(&def, version, ns, obj.clone(), &WriteOptions::default()).await {
        Ok(_) => Ok(()),
        Err(e) if e.reason == "AlreadyExists" => {
            if replace {
                let mut current = store.get(&def, version, ns, &name).await?;
                for field in ["subsets", "endpoints", "ports", "addressType"] {
                    if let Some(v) = obj.get(field) {
                        current[field] = v.clone();
                    }
                }
                store.update(&def, version, ns, &name, current, None, &WriteOptions::default()).await?;
            }
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// Creates what is missing; the endpoints are rewritten to this server's address.
pub async fn run(store: &Store, address: IpAddr, port: u16) -> Result<()> {
    for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] {
        ensure(store, "", "v1", "namespaces", "", json!({"metadata": {"name": ns}}), false).await?;
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
    ensure(store, "", "v1", "services", "default", service, false).await?;
    let endpoints = json!({
        "metadata": {"name": "kubernetes", "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"}},
        "subsets": [{"addresses": [{"ip": address.to_string()}], "ports": [{"name": "https", "port": port, "protocol": "TCP"}]}]
    });
    ensure(store, "", "v1", "endpoints", "default", endpoints, true).await?;
    let slice = json!({
        "metadata": {"name": "kubernetes", "labels": {"kubernetes.io/service-name": "kubernetes"}},
        "addressType": if address.is_ipv4() { "IPv4" } else { "IPv6" },
        "endpoints": [{"addresses": [address.to_string()], "conditions": {"ready": true}}],
        "ports": [{"name": "https", "port": port, "protocol": "TCP"}]
    });
    ensure(store, "discovery.k8s.io", "v1", "endpointslices", "default", slice, true).await?;
    info!(%address, port, "bootstrap objects in place");
    Ok(())
}
