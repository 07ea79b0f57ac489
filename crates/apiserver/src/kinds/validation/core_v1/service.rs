//! Service validation, including the update rules on cluster IPs and IP families.

use serde_json::Value;

use super::super::field::{child, duplicate_raw, go_string_slice, index, invalid_raw};
use super::super::meta::validate_labels;
use super::super::meta::{validate_object_meta, validate_object_meta_update};
use super::super::names::*;
use super::super::pod::{validate_port_num_or_name, validate_protocol};
use super::*;
use crate::error::Cause;
use crate::kinds::defaults::json::{at, get_arr, get_i64, get_str, is_nil, map_empty};

pub(super) fn is_headless(spec: &Value) -> bool {
    let ips: Vec<&str> = get_arr(spec, "clusterIPs").into_iter().flatten().filter_map(Value::as_str).collect();
    ips == ["None"]
}

pub(super) fn validate_service_port(
    p: &Value,
    require_name: bool,
    names: &mut Vec<String>,
    path: &str,
    out: &mut Vec<Cause>,
) {
    let name = get_str(p, "name");
    if require_name && name.is_empty() {
        out.push(Cause::required(child(path, "name"), ""));
    } else if !name.is_empty() {
        for m in is_dns1123_label(name) {
            out.push(Cause::invalid(child(path, "name"), &s(name), &m));
        }
        if names.iter().any(|n| n == name) {
            out.push(Cause::duplicate(child(path, "name"), &s(name)));
        } else {
            names.push(name.to_string());
        }
    }
    let port = get_i64(p, "port").unwrap_or(0);
    for m in is_valid_port_num(port) {
        out.push(Cause::invalid(child(path, "port"), &Value::from(port), &m));
    }
    validate_protocol(get_str(p, "protocol"), &child(path, "protocol"), out);
    validate_port_num_or_name(p.get("targetPort"), &child(path, "targetPort"), out);
    if let Some(ap) = p.get("appProtocol").and_then(Value::as_str) {
        for m in is_qualified_name(ap) {
            out.push(Cause::invalid(child(path, "appProtocol"), &s(ap), &m));
        }
    }
}

pub(super) fn validate_cluster_ips_related(spec: &Value, out: &mut Vec<Cause>) {
    if get_str(spec, "type") == "ExternalName" {
        return;
    }
    let cip = get_str(spec, "clusterIP");
    let ips: Vec<&str> = get_arr(spec, "clusterIPs").into_iter().flatten().filter_map(Value::as_str).collect();
    let ips_rendered = go_string_slice(spec.get("clusterIPs"));
    if !cip.is_empty() {
        if ips.is_empty() {
            out.push(Cause::required("spec.clusterIPs", ""));
        } else if ips[0] != cip {
            out.push(invalid_raw("spec.clusterIPs", &ips_rendered, "first value must match `clusterIP`"));
        }
    } else if !ips.is_empty() {
        out.push(invalid_raw("spec.clusterIPs", &ips_rendered, "must be empty when `clusterIP` is not specified"));
    }
    let mut seen = Vec::new();
    for (i, f) in get_arr(spec, "ipFamilies").into_iter().flatten().enumerate() {
        let f = f.as_str().unwrap_or_default();
        if f != "IPv4" && f != "IPv6" {
            out.push(Cause::not_supported(index("spec.ipFamilies", i), &s(f), &["IPv4", "IPv6"]));
        }
        if seen.contains(&f) {
            out.push(Cause::duplicate(index("spec.ipFamilies", i), &s(f)));
        }
        seen.push(f);
    }
    if let Some(p) = spec.get("ipFamilyPolicy").and_then(Value::as_str) {
        if !["SingleStack", "PreferDualStack", "RequireDualStack"].contains(&p) {
            out.push(Cause::not_supported(
                "spec.ipFamilyPolicy",
                &s(p),
                &["PreferDualStack", "RequireDualStack", "SingleStack"],
            ));
        }
    }
    let mut bad = false;
    for (i, ip) in ips.iter().enumerate() {
        if i == 0 && *ip == "None" {
            if ips.len() > 1 {
                bad = true;
                out.push(invalid_raw("spec.clusterIPs", &ips_rendered, "'None' must be the first and only value"));
            }
            continue;
        }
        let msgs = is_valid_ip(ip);
        bad |= !msgs.is_empty();
        for m in msgs {
            out.push(Cause::invalid(index("spec.clusterIPs", i), &s(ip), &m));
        }
    }
    if ips.len() > 2 {
        out.push(invalid_raw("spec.clusterIPs", &ips_rendered, "may only hold up to 2 values"));
    }
    if bad {
        return;
    }
    if ips.len() > 1 && ips.iter().filter(|ip| ip.contains(':')).count() != 1 {
        out.push(invalid_raw("spec.clusterIPs", &ips_rendered, "may specify no more than one IP for each IP family"));
    }
    let families: Vec<&str> = get_arr(spec, "ipFamilies").into_iter().flatten().filter_map(Value::as_str).collect();
    if !is_headless(spec) {
        for (i, ip) in ips.iter().enumerate().take(families.len()) {
            if families[i] == "IPv4" && ip.contains(':') {
                out.push(Cause::invalid(
                    index("spec.clusterIPs", i),
                    &s(ip),
                    &format!("expected an IPv4 value as indicated by `ipFamilies[{i}]`"),
                ));
            }
            if families[i] == "IPv6" && !ip.contains(':') {
                out.push(Cause::invalid(
                    index("spec.clusterIPs", i),
                    &s(ip),
                    &format!("expected an IPv6 value as indicated by `ipFamilies[{i}]`"),
                ));
            }
        }
    }
}

pub(super) fn externally_accessible(spec: &Value) -> bool {
    match get_str(spec, "type") {
        "LoadBalancer" | "NodePort" => true,
        "ClusterIP" => !map_empty(spec, "externalIPs"),
        _ => false,
    }
}

/// `ValidateService`.
pub(super) fn validate_service(obj: &Value, out: &mut Vec<Cause>) {
    out.extend(validate_object_meta(obj, true, NameRule::Dns1035));
    let ann = at(obj, &["metadata", "annotations"]);
    let hints = ann.and_then(|a| a.get("service.kubernetes.io/topology-aware-hints")).and_then(Value::as_str);
    let mode = ann.and_then(|a| a.get("service.kubernetes.io/topology-mode")).and_then(Value::as_str);
    if let (Some(h), Some(m)) = (hints, mode) {
        if h != m {
            out.push(Cause::invalid(
                "metadata.annotations[service.kubernetes.io/topology-mode]",
                &s(m),
                "must match annotations[service.kubernetes.io/topology-aware-hints] when both are specified",
            ));
        }
    }
    let spec = obj.get("spec").cloned().unwrap_or(Value::Null);
    let ty = get_str(&spec, "type");
    let ports: Vec<&Value> = get_arr(&spec, "ports").into_iter().flatten().collect();
    if ports.is_empty() && !is_headless(&spec) && ty != "ExternalName" {
        out.push(Cause::required("spec.ports", ""));
    }
    match ty {
        "LoadBalancer" => {
            for (i, p) in ports.iter().enumerate() {
                if get_i64(p, "port") == Some(10250) {
                    out.push(Cause::invalid(
                        index("spec.ports", i),
                        &Value::from(10250),
                        "may not expose port 10250 externally since it is used by kubelet",
                    ));
                }
            }
            if is_headless(&spec) {
                out.push(Cause::invalid(
                    "spec.clusterIPs[0]",
                    &s("None"),
                    "may not be set to 'None' for LoadBalancer services",
                ));
            }
        }
        "NodePort" if is_headless(&spec) => {
            out.push(Cause::invalid(
                "spec.clusterIPs[0]",
                &s("None"),
                "may not be set to 'None' for NodePort services",
            ));
        }
        "ExternalName" => {
            if !map_empty(&spec, "clusterIPs") {
                out.push(Cause::forbidden("spec.clusterIPs", "may not be set for ExternalName services"));
            }
            if !map_empty(&spec, "ipFamilies") {
                out.push(Cause::forbidden("spec.ipFamilies", "may not be set for ExternalName services"));
            }
            if !is_nil(&spec, "ipFamilyPolicy") {
                out.push(Cause::forbidden("spec.ipFamilyPolicy", "may not be set for ExternalName services"));
            }
            let cname = get_str(&spec, "externalName");
            let cname = cname.strip_suffix('.').unwrap_or(cname);
            if cname.is_empty() {
                out.push(Cause::required("spec.externalName", ""));
            } else {
                for m in is_dns1123_subdomain(cname) {
                    out.push(Cause::invalid("spec.externalName", &s(cname), &m));
                }
            }
        }
        _ => {}
    }
    let mut names = Vec::new();
    for (i, p) in ports.iter().enumerate() {
        validate_service_port(p, ports.len() > 1, &mut names, &index("spec.ports", i), out);
    }
    if spec.get("selector").is_some_and(|v| !v.is_null()) {
        validate_labels(spec.get("selector"), "spec.selector", out);
    }
    let sa = get_str(&spec, "sessionAffinity");
    if sa.is_empty() {
        out.push(Cause::required("spec.sessionAffinity", ""));
    } else if sa != "ClientIP" && sa != "None" {
        out.push(Cause::not_supported("spec.sessionAffinity", &s(sa), &["ClientIP", "None"]));
    }
    if sa == "ClientIP" {
        let detail = "when session affinity type is ClientIP";
        match spec.get("sessionAffinityConfig").filter(|v| !v.is_null()) {
            None => out.push(Cause::required("spec.sessionAffinityConfig", detail)),
            Some(cfg) => match cfg.get("clientIP").filter(|v| !v.is_null()) {
                None => out.push(Cause::required("spec.sessionAffinityConfig.clientIP", detail)),
                Some(c) => match get_i64(c, "timeoutSeconds") {
                    None => out.push(Cause::required("spec.sessionAffinityConfig.clientIP.timeoutSeconds", detail)),
                    Some(t) if t <= 0 || t > 86400 => out.push(Cause::invalid(
                        "spec.sessionAffinityConfig.clientIP.timeoutSeconds",
                        &Value::from(t),
                        "must be greater than 0 and less than 86400",
                    )),
                    _ => {}
                },
            },
        }
    } else if sa == "None" && !is_nil(&spec, "sessionAffinityConfig") {
        out.push(Cause::forbidden("spec.sessionAffinityConfig", "must not be set when session affinity is None"));
    }
    validate_cluster_ips_related(&spec, out);
    for (i, ip) in get_arr(&spec, "externalIPs").into_iter().flatten().enumerate() {
        let ip = ip.as_str().unwrap_or_default();
        let p = index("spec.externalIPs", i);
        let msgs = is_valid_ip(ip);
        if msgs.is_empty() {
            non_special_ip(ip, &p, out);
        }
        for m in msgs {
            out.push(Cause::invalid(p.clone(), &s(ip), &m));
        }
    }
    if ty.is_empty() {
        out.push(Cause::required("spec.type", ""));
    } else if !["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"].contains(&ty) {
        out.push(Cause::not_supported("spec.type", &s(ty), &["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"]));
    }
    if ty == "ClusterIP" {
        for (i, p) in ports.iter().enumerate() {
            if get_i64(p, "nodePort").unwrap_or(0) != 0 {
                out.push(Cause::forbidden(
                    child(&index("spec.ports", i), "nodePort"),
                    "may not be used when `type` is 'ClusterIP'",
                ));
            }
        }
    }
    let mut node_ports = Vec::new();
    for (i, p) in ports.iter().enumerate() {
        let np = get_i64(p, "nodePort").unwrap_or(0);
        if np == 0 {
            continue;
        }
        let k = (get_str(p, "protocol"), np);
        if node_ports.contains(&k) {
            out.push(Cause::duplicate(child(&index("spec.ports", i), "nodePort"), &Value::from(np)));
        }
        node_ports.push(k);
    }
    let mut seen = Vec::new();
    for (i, p) in ports.iter().enumerate() {
        let k = (get_str(p, "protocol"), get_i64(p, "port").unwrap_or(0));
        if seen.contains(&k) {
            out.push(duplicate_port(&index("spec.ports", i), k.0, k.1));
        }
        seen.push(k);
    }
    let ranges: Vec<&str> =
        get_arr(&spec, "loadBalancerSourceRanges").into_iter().flatten().filter_map(Value::as_str).collect();
    if !ranges.is_empty() {
        // kube's path really is capitalized here.
        let fp = "spec.LoadBalancerSourceRanges";
        if ty != "LoadBalancer" {
            out.push(Cause::forbidden(fp, "may only be used when `type` is 'LoadBalancer'"));
        }
        for (i, r) in ranges.iter().enumerate() {
            cidr_error(&index(fp, i), r.trim(), out);
        }
    } else if let Some(v) =
        ann.and_then(|a| a.get("service.beta.kubernetes.io/load-balancer-source-ranges")).and_then(Value::as_str)
    {
        let fp = "metadata.annotations[service.beta.kubernetes.io/load-balancer-source-ranges]";
        if ty != "LoadBalancer" {
            out.push(Cause::forbidden(fp, "may only be used when `type` is 'LoadBalancer'"));
        }
        let v = v.trim();
        if !v.is_empty() {
            for r in v.split(',') {
                cidr_error(fp, r.trim(), out);
            }
        }
    }
    if !is_nil(&spec, "allocateLoadBalancerNodePorts") && ty != "LoadBalancer" {
        out.push(Cause::forbidden(
            "spec.allocateLoadBalancerNodePorts",
            "may only be used when `type` is 'LoadBalancer'",
        ));
    }
    if ty == "LoadBalancer" && is_nil(&spec, "allocateLoadBalancerNodePorts") {
        // kube's path lacks the "spec." prefix here.
        out.push(Cause::required("allocateLoadBalancerNodePorts", ""));
    }
    if let Some(lbc) = spec.get("loadBalancerClass").and_then(Value::as_str) {
        if ty == "LoadBalancer" {
            for m in is_qualified_name(lbc) {
                out.push(Cause::invalid("spec.loadBalancerClass", &s(lbc), &m));
            }
        } else {
            out.push(Cause::forbidden("spec.loadBalancerClass", "may only be used when `type` is 'LoadBalancer'"));
        }
    }
    let etp = get_str(&spec, "externalTrafficPolicy");
    if !externally_accessible(&spec) {
        if !etp.is_empty() {
            out.push(Cause::invalid(
                "spec.externalTrafficPolicy",
                &s(etp),
                "may only be set for externally-accessible services",
            ));
        }
    } else if etp.is_empty() {
        out.push(Cause::required("spec.externalTrafficPolicy", ""));
    } else if etp != "Cluster" && etp != "Local" {
        out.push(Cause::not_supported("spec.externalTrafficPolicy", &s(etp), &["Cluster", "Local"]));
    }
    let hc = get_i64(&spec, "healthCheckNodePort").unwrap_or(0);
    if !(ty == "LoadBalancer" && etp == "Local") {
        if hc != 0 {
            out.push(Cause::invalid(
                "spec.healthCheckNodePort",
                &Value::from(hc),
                "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'",
            ));
        }
    } else if hc != 0 {
        for m in is_valid_port_num(hc) {
            out.push(Cause::invalid("spec.healthCheckNodePort", &Value::from(hc), &m));
        }
    }
    match spec.get("internalTrafficPolicy").and_then(Value::as_str) {
        None if matches!(ty, "NodePort" | "LoadBalancer" | "ClusterIP") => {
            out.push(Cause::required("spec.internalTrafficPolicy", ""))
        }
        Some(p) if p != "Cluster" && p != "Local" => {
            out.push(Cause::not_supported("spec.internalTrafficPolicy", &s(p), &["Cluster", "Local"]))
        }
        _ => {}
    }
    if let Some(td) = spec.get("trafficDistribution").and_then(Value::as_str) {
        if td != "PreferClose" {
            out.push(Cause::not_supported("spec.trafficDistribution", &s(td), &["PreferClose"]));
        }
    }
}

/// Services, including the update rules on cluster IPs and IP families.
pub(crate) fn service(obj: &Value, old: Option<&Value>) -> Vec<Cause> {
    let mut out = Vec::new();
    if let Some(old) = old {
        out.extend(validate_object_meta_update(obj, old));
        let ns = obj.get("spec").cloned().unwrap_or(Value::Null);
        let os = old.get("spec").cloned().unwrap_or(Value::Null);
        let external = get_str(&ns, "type") == "ExternalName" || get_str(&os, "type") == "ExternalName";
        let ips = |sp: &Value| -> Vec<String> {
            get_arr(sp, "clusterIPs").into_iter().flatten().filter_map(Value::as_str).map(str::to_string).collect()
        };
        let (nips, oips) = (ips(&ns), ips(&os));
        let rendered = go_string_slice(ns.get("clusterIPs"));
        if !(external || is_headless(&ns) && is_headless(&os)) {
            if oips.len() == nips.len() {
                for (i, ip) in oips.iter().enumerate() {
                    if *ip != nips[i] {
                        out.push(invalid_raw(index("spec.clusterIPs", i), &rendered, "may not change once set"));
                    }
                }
            } else if oips.len() > nips.len() {
                if nips.is_empty() {
                    out.push(invalid_raw("spec.clusterIPs[0]", &rendered, "primary clusterIP can not be unset"));
                }
                if !oips.is_empty() && !nips.is_empty() && nips[0] != oips[0] {
                    out.push(invalid_raw("spec.clusterIPs[0]", &rendered, "may not change once set"));
                }
                if nips.len() == 1 && get_str(&ns, "ipFamilyPolicy") != "SingleStack" {
                    out.push(Cause::invalid(
                        "spec.ipFamilyPolicy",
                        ns.get("ipFamilyPolicy").unwrap_or(&s("null")),
                        "must be set to 'SingleStack' when releasing the secondary clusterIP",
                    ));
                }
            } else if !oips.is_empty() && nips[0] != oips[0] {
                out.push(invalid_raw("spec.clusterIPs[0]", &rendered, "may not change once set"));
            }
        }
        let fams = |sp: &Value| -> Vec<String> {
            get_arr(sp, "ipFamilies").into_iter().flatten().filter_map(Value::as_str).map(str::to_string).collect()
        };
        let (nf, of) = (fams(&ns), fams(&os));
        if !external && !is_headless(&ns) && !is_headless(&os) {
            let frendered =
                format!("[]core.IPFamily{{{}}}", nf.iter().map(|f| format!("{f:?}")).collect::<Vec<_>>().join(", "));
            if of.len() == nf.len() {
                if of != nf {
                    out.push(invalid_raw("spec.ipFamilies[0]", &frendered, "may not change once set"));
                }
            } else if of.len() > nf.len() {
                if nips.is_empty() {
                    out.push(invalid_raw("spec.ipFamilies[0]", &frendered, "primary ipFamily can not be unset"));
                }
                if !nf.is_empty() && nf[0] != of[0] {
                    out.push(invalid_raw("spec.ipFamilies[0]", &rendered, "may not change once set"));
                }
                if nf.len() == 1 && get_str(&ns, "ipFamilyPolicy") != "SingleStack" {
                    out.push(Cause::invalid(
                        "spec.ipFamilyPolicy",
                        ns.get("ipFamilyPolicy").unwrap_or(&s("null")),
                        "must be set to 'SingleStack' when releasing the secondary ipFamily",
                    ));
                }
            } else if !of.is_empty() && !nf.is_empty() && nf[0] != of[0] {
                out.push(invalid_raw("spec.ipFamilies[0]", &rendered, "may not change once set"));
            }
        }
        if get_str(&ns, "type") == "LoadBalancer"
            && get_str(&os, "type") == "LoadBalancer"
            && ns.get("loadBalancerClass") != os.get("loadBalancerClass")
        {
            out.push(Cause::invalid(
                "spec.loadBalancerClass",
                ns.get("loadBalancerClass").unwrap_or(&s("null")),
                "may not change once set",
            ));
        }
        let needs_hc =
            |sp: &Value| get_str(sp, "type") == "LoadBalancer" && get_str(sp, "externalTrafficPolicy") == "Local";
        if needs_hc(&ns) && needs_hc(&os) && get_i64(&ns, "healthCheckNodePort") != get_i64(&os, "healthCheckNodePort")
        {
            out.push(Cause::forbidden("spec.healthCheckNodePort", "field is immutable"));
        }
    }
    validate_service(obj, &mut out);
    out
}

/// Renders the `duplicate` of a service port key the way kube prints `core.ServicePort`.
pub(crate) fn go_service_port_key(protocol: &str, port: i64) -> String {
    format!(
        "core.ServicePort{{Name:\"\", Protocol:{}, AppProtocol:(*string)(nil), Port:{port}, TargetPort:intstr.IntOrString{{Type:0, IntVal:0, StrVal:\"\"}}, NodePort:0}}",
        super::super::field::go_quote(protocol)
    )
}

/// A `field.Duplicate` for a port key.
pub(crate) fn duplicate_port(path: &str, protocol: &str, port: i64) -> Cause {
    duplicate_raw(path, &go_service_port_key(protocol, port))
}
