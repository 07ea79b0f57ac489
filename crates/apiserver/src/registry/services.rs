//! Cluster IP and node port allocation for Services (kube's ipallocator and portallocator).
//! Each taken IP or port is a key in etcd, created in a transaction, so two servers over one
//! etcd never hand out the same one.

use std::net::Ipv4Addr;

use serde_json::{json, Value};

use crate::error::{ApiError, Cause, Result};
use crate::registry::resources::ResourceDef;
use crate::storage::Storage;

/// Hands out cluster IPs from `--service-cluster-ip-range` and node ports from
/// `--service-node-port-range`.
#[derive(Clone)]
pub struct Allocator {
    storage: Storage,
    prefix: String,
    network: u32,
    size: u32,
    ports: (u16, u16),
}

/// Parses `10.0.0.0/24` into (network, number of addresses).
pub fn parse_cidr(cidr: &str) -> Option<(u32, u32)> {
    let (ip, bits) = cidr.split_once('/')?;
    let ip: Ipv4Addr = ip.parse().ok()?;
    let bits: u32 = bits.parse().ok()?;
    if !(8..=30).contains(&bits) {
        return None;
    }
    let size = 1u32 << (32 - bits);
    Some((u32::from(ip) & !(size - 1), size))
}

impl Allocator {
    pub fn new(storage: Storage, etcd_prefix: &str, cidr: &str, ports: &str) -> anyhow::Result<Self> {
        let (network, size) = parse_cidr(cidr).ok_or_else(|| {
            anyhow::anyhow!("invalid --service-cluster-ip-range {cidr:?}: want an IPv4 CIDR between /8 and /30")
        })?;
        let (lo, hi) = ports
            .split_once('-')
            .and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)))
            .filter(|(a, b): &(u16, u16)| a < b)
            .ok_or_else(|| anyhow::anyhow!("invalid --service-node-port-range {ports:?}"))?;
        Ok(Allocator {
            storage,
            prefix: format!("{}/ranges", etcd_prefix.trim_end_matches('/')),
            network,
            size,
            ports: (lo, hi),
        })
    }

    /// The first usable address: the `kubernetes` Service's cluster IP.
    pub fn first_ip(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.network + 1)
    }

    fn contains(&self, ip: Ipv4Addr) -> bool {
        let n = u32::from(ip);
        n > self.network && n < self.network + self.size - 1
    }

    async fn claim(&self, kind: &str, what: &str) -> Result<bool> {
        let key = format!("{}/{kind}/{what}", self.prefix);
        Ok(self.storage.create(&key, b"1".to_vec()).await?.is_ok())
    }

    /// Whether objects of this resource get allocations.
    pub fn allocates(&self, def: &ResourceDef) -> bool {
        def.group.is_empty() && def.resource == "services"
    }

    /// Gives a new Service its cluster IP(s) and node ports, or checks the ones it asks for.
    pub async fn allocate(&self, def: &ResourceDef, svc: &mut Value) -> Result<()> {
        if !self.allocates(def) {
            return Ok(());
        }
        let name = svc.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("").to_string();
        let invalid = |causes| ApiError::invalid("", "Service", &name, causes);
        let svc_type = svc.pointer("/spec/type").and_then(Value::as_str).unwrap_or("ClusterIP").to_string();
        if svc_type == "ExternalName" {
            return Ok(());
        }
        let wanted = svc.pointer("/spec/clusterIP").and_then(Value::as_str).unwrap_or("").to_string();
        if wanted != "None" {
            let ip = if wanted.is_empty() {
                let mut found = None;
                // Start at a random offset so concurrent creates rarely race for one address.
                let start = rand::random::<u32>() % (self.size - 2);
                for i in 0..self.size - 2 {
                    let candidate = Ipv4Addr::from(self.network + 1 + (start + i) % (self.size - 2));
                    if self.claim("serviceips", &candidate.to_string()).await? {
                        found = Some(candidate);
                        break;
                    }
                }
                found.ok_or_else(|| {
                    invalid(vec![Cause::invalid(
                        "spec.clusterIPs",
                        &json!([""]),
                        "failed to allocate IP: range is full",
                    )])
                })?
            } else {
                let ip: Ipv4Addr = wanted.parse().map_err(|_| {
                    invalid(vec![Cause::invalid(
                        "spec.clusterIPs[0]",
                        &json!(wanted),
                        "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)",
                    )])
                })?;
                if !self.contains(ip) {
                    return Err(invalid(vec![Cause::invalid("spec.clusterIPs", &json!([wanted]), "failed to allocate IP: the provided IP is not in the valid range. The range of valid IPs is the service-cluster-ip-range")]));
                }
                if !self.claim("serviceips", &wanted).await? {
                    return Err(invalid(vec![Cause::invalid(
                        "spec.clusterIPs",
                        &json!([wanted]),
                        &format!("failed to allocate IP {wanted}: provided IP is already allocated"),
                    )]));
                }
                ip
            };
            svc["spec"]["clusterIP"] = json!(ip.to_string());
            svc["spec"]["clusterIPs"] = json!([ip.to_string()]);
        } else {
            svc["spec"]["clusterIPs"] = json!(["None"]);
        }
        if svc_type == "NodePort" || svc_type == "LoadBalancer" {
            let count = svc.pointer("/spec/ports").and_then(Value::as_array).map_or(0, Vec::len);
            for i in 0..count {
                let asked = svc["spec"]["ports"][i].get("nodePort").and_then(Value::as_u64).unwrap_or(0) as u16;
                let port = if asked != 0 {
                    if asked < self.ports.0
                        || asked > self.ports.1
                        || !self.claim("servicenodeports", &asked.to_string()).await?
                    {
                        return Err(invalid(vec![Cause::invalid(
                            format!("spec.ports[{i}].nodePort"),
                            &json!(asked),
                            "provided port is already allocated",
                        )]));
                    }
                    asked
                } else {
                    let span = u32::from(self.ports.1 - self.ports.0) + 1;
                    let start = rand::random::<u32>() % span;
                    let mut got = None;
                    for j in 0..span {
                        let p = self.ports.0 + ((start + j) % span) as u16;
                        if self.claim("servicenodeports", &p.to_string()).await? {
                            got = Some(p);
                            break;
                        }
                    }
                    got.ok_or_else(|| {
                        invalid(vec![Cause::invalid(format!("spec.ports[{i}].nodePort"), &json!(0), "range is full")])
                    })?
                };
                svc["spec"]["ports"][i]["nodePort"] = json!(port);
            }
        }
        Ok(())
    }

    /// Frees what a deleted (or never stored) Service held.
    pub async fn release(&self, def: &ResourceDef, svc: &Value) {
        if !self.allocates(def) {
            return;
        }
        for ip in svc.pointer("/spec/clusterIPs").and_then(Value::as_array).into_iter().flatten() {
            if let Some(ip) = ip.as_str().filter(|ip| *ip != "None") {
                let _ = self.storage.delete_key(&format!("{}/serviceips/{ip}", self.prefix)).await;
            }
        }
        for port in svc.pointer("/spec/ports").and_then(Value::as_array).into_iter().flatten() {
            if let Some(p) = port.get("nodePort").and_then(Value::as_u64) {
                let _ = self.storage.delete_key(&format!("{}/servicenodeports/{p}", self.prefix)).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_cidr;

    #[test]
    fn cidr_parsing() {
        assert_eq!(parse_cidr("10.0.0.0/24"), Some((0x0a00_0000, 256)));
        assert_eq!(parse_cidr("10.96.0.5/12"), Some((0x0a60_0000, 1 << 20)));
        assert_eq!(parse_cidr("10.0.0.0/31"), None);
        assert_eq!(parse_cidr("nope"), None);
    }
}
