//! `networking.k8s.io` printers: printers.go `printIngress`, `printIngressClass`,
//! `printNetworkPolicy`, `printIPAddress`, `printServiceCIDR`.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::core::load_balancer_string;
use super::helpers::{age, arr_at, format_label_selector, get, name, opt_str, s, str_at};
use super::{col, Column, Printer, AGE_COLUMN, NAME_COLUMN};

const INGRESS_COLUMNS: &[Column] = &[
    NAME_COLUMN,
    col("Class", "string", "The name of the IngressClass resource that should be used for additional configuration", 0),
    col("Hosts", "string", "Hosts that incoming requests are matched against before the ingress rule", 0),
    col("Address", "string", "Address is a list containing ingress points for the load-balancer", 0),
    col("Ports", "string", "Ports of TLS configurations that open", 0),
    AGE_COLUMN,
];

/// `printIngress`.
pub static INGRESS: Printer = Printer { columns: INGRESS_COLUMNS, row: ingress_row };

/// `formatHosts`: the first three non-empty hosts, "*" when there are none.
fn format_hosts(rules: &[Value]) -> String {
    const MAX: usize = 3;
    let mut list: Vec<&str> = Vec::new();
    let mut more = false;
    for rule in rules {
        if list.len() == MAX {
            more = true;
        }
        let host = str_at(rule, &["host"]);
        if !more && !host.is_empty() {
            list.push(host);
        }
    }
    if list.is_empty() {
        return "*".to_string();
    }
    let ret = list.join(",");
    if more {
        // kube subtracts from the number of rules, not of hosts.
        return format!("{ret} + {} more...", rules.len().saturating_sub(MAX));
    }
    ret
}

fn ingress_row(obj: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let ports = if arr_at(obj, &["spec", "tls"]).is_empty() { "80" } else { "80, 443" };
    vec![
        s(name(obj)),
        s(opt_str(obj, &["spec", "ingressClassName"]).unwrap_or("<none>")),
        s(format_hosts(arr_at(obj, &["spec", "rules"]))),
        s(load_balancer_string(arr_at(obj, &["status", "loadBalancer", "ingress"]))),
        s(ports),
        s(age(obj, now)),
    ]
}

const INGRESS_CLASS_COLUMNS: &[Column] = &[
    NAME_COLUMN,
    col("Controller", "string", "Controller that is responsible for handling this class", 0),
    col("Parameters", "string", "A reference to a resource with additional parameters", 0),
    AGE_COLUMN,
];

/// `printIngressClass`.
pub static INGRESS_CLASS: Printer = Printer { columns: INGRESS_CLASS_COLUMNS, row: ingress_class_row };

fn ingress_class_row(obj: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let parameters = match get(obj, &["spec", "parameters"]) {
        Some(p) if p.is_object() => {
            let mut out = str_at(p, &["kind"]).to_string();
            if let Some(group) = opt_str(p, &["apiGroup"]) {
                out = format!("{out}.{group}");
            }
            format!("{out}/{}", str_at(p, &["name"]))
        }
        _ => "<none>".to_string(),
    };
    vec![s(name(obj)), s(str_at(obj, &["spec", "controller"])), s(parameters), s(age(obj, now))]
}

const NETWORK_POLICY_COLUMNS: &[Column] = &[
    NAME_COLUMN,
    col("Pod-Selector", "string", "Selects the pods to which this NetworkPolicy object applies.", 0),
    AGE_COLUMN,
];

/// `printNetworkPolicy`.
pub static NETWORK_POLICY: Printer = Printer { columns: NETWORK_POLICY_COLUMNS, row: network_policy_row };

fn network_policy_row(obj: &Value, now: DateTime<Utc>) -> Vec<Value> {
    vec![s(name(obj)), s(format_label_selector(get(obj, &["spec", "podSelector"]))), s(age(obj, now))]
}

// printers.go registers only Name and ParentRef here, yet printIPAddress appends
// the age as a third cell; kube-apiserver serves the rows that way.
const IP_ADDRESS_COLUMNS: &[Column] = &[
    NAME_COLUMN,
    col("ParentRef", "string", "ParentRef references the resource that an IPAddress is attached to.", 0),
];

/// `printIPAddress`.
pub static IP_ADDRESS: Printer = Printer { columns: IP_ADDRESS_COLUMNS, row: ip_address_row };

fn ip_address_row(obj: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let parent = match get(obj, &["spec", "parentRef"]) {
        Some(p) if p.is_object() => {
            // schema.GroupResource.String(): "resource.group", or "resource" for core.
            let group = str_at(p, &["group"]);
            let resource = str_at(p, &["resource"]);
            let gr = if group.is_empty() { resource.to_string() } else { format!("{resource}.{group}") };
            let mut out = gr.to_lowercase();
            let ns = str_at(p, &["namespace"]);
            if !ns.is_empty() {
                out = format!("{out}/{ns}");
            }
            format!("{out}/{}", str_at(p, &["name"]))
        }
        _ => "<none>".to_string(),
    };
    vec![s(name(obj)), s(parent), s(age(obj, now))]
}

const SERVICE_CIDR_COLUMNS: &[Column] = &[
    NAME_COLUMN,
    col("CIDRs", "string", "CIDRs defines the IP blocks in CIDR notation (e.g. \"192.168.0.0/24\" or \"2001:db8::/64\") from which to assign service cluster IPs.", 0),
    AGE_COLUMN,
];

/// `printServiceCIDR`.
pub static SERVICE_CIDR: Printer = Printer { columns: SERVICE_CIDR_COLUMNS, row: service_cidr_row };

fn service_cidr_row(obj: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let cidrs: Vec<&str> = arr_at(obj, &["spec", "cidrs"]).iter().filter_map(Value::as_str).collect();
    vec![s(name(obj)), s(cidrs.join(",")), s(age(obj, now))]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    // Expected cells: printers_test.go TestPrintIngress / TestPrintIngressClass.
    #[test]
    fn ingress_and_class() {
        let now = Utc::now();
        let ten_years = (now - chrono::TimeDelta::hours(10 * 365 * 24)).to_rfc3339();
        let ing = json!({
            "metadata": {"name": "test1", "creationTimestamp": ten_years},
            "spec": {"ingressClassName": "foo", "defaultBackend": {"service": {"name": "default-backend", "port": {"number": 80}}}},
            "status": {"loadBalancer": {"ingress": [{"ip": "2.3.4.5", "hostname": "localhost.localdomain"}]}}
        });
        assert_eq!(
            ingress_row(&ing, now),
            vec![json!("test1"), json!("foo"), json!("*"), json!("2.3.4.5"), json!("80"), json!("10y")]
        );
        let many = json!({
            "metadata": {"name": "m"},
            "spec": {"tls": [{"hosts": ["a"]}], "rules": [{"host": "a"}, {"host": "b"}, {"host": "c"}, {"host": "d"}, {}]}
        });
        let cells = ingress_row(&many, now);
        assert_eq!(cells[1], json!("<none>"));
        assert_eq!(cells[2], json!("a,b,c + 2 more..."));
        assert_eq!(cells[4], json!("80, 443"));

        let class = json!({
            "metadata": {"name": "test1", "creationTimestamp": ten_years},
            "spec": {"controller": "example.com/controller", "parameters": {"apiGroup": "example.com", "kind": "customgroup", "name": "example"}}
        });
        assert_eq!(
            ingress_class_row(&class, now),
            vec![
                json!("test1"),
                json!("example.com/controller"),
                json!("customgroup.example.com/example"),
                json!("10y")
            ]
        );
    }

    #[test]
    fn ip_address_and_service_cidr() {
        let now = Utc::now();
        let ip = json!({
            "metadata": {"name": "10.96.0.1"},
            "spec": {"parentRef": {"group": "", "resource": "services", "namespace": "default", "name": "kubernetes"}}
        });
        assert_eq!(
            ip_address_row(&ip, now),
            vec![json!("10.96.0.1"), json!("services/default/kubernetes"), json!("<unknown>")]
        );
        let cidr = json!({"metadata": {"name": "kubernetes"}, "spec": {"cidrs": ["10.96.0.0/12", "fd00::/108"]}});
        assert_eq!(service_cidr_row(&cidr, now)[1], json!("10.96.0.0/12,fd00::/108"));
    }
}
