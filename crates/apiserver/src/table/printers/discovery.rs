//! `discovery.k8s.io` printer: printers.go `printEndpointSlice`.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::helpers::{age, arr_at, list_with_more, name, opt_int, opt_str, s, str_at};
use super::{col, Column, Printer, AGE_COLUMN, NAME_COLUMN};

const ENDPOINT_SLICE_COLUMNS: &[Column] = &[
    NAME_COLUMN,
    col("AddressType", "string", "addressType specifies the type of address carried by this EndpointSlice.", 0),
    col("Ports", "string", "ports specifies the list of network ports exposed by each endpoint in this slice.", 0),
    col("Endpoints", "string", "endpoints is a list of unique endpoints in this slice.", 0),
    AGE_COLUMN,
];

/// `printEndpointSlice`.
pub static ENDPOINT_SLICE: Printer = Printer { columns: ENDPOINT_SLICE_COLUMNS, row: endpoint_slice_row };

const MAX: usize = 3;

/// `formatDiscoveryPorts`: port numbers (or names, or "*"), at most three.
fn format_ports(ports: &[Value]) -> String {
    let mut list = Vec::new();
    let mut more = false;
    for port in ports {
        if list.len() < MAX {
            let num = match (opt_int(port, &["port"]), opt_str(port, &["name"])) {
                (Some(p), _) => p.to_string(),
                (None, Some(n)) => n.to_string(),
                (None, None) => "*".to_string(),
            };
            list.push(num);
        } else if list.len() == MAX {
            more = true;
        }
    }
    list_with_more(&list, more, ports.len(), MAX)
}

/// `formatDiscoveryEndpoints`: every endpoint address, at most three.
fn format_endpoints(endpoints: &[Value]) -> String {
    let mut list = Vec::new();
    let mut more = false;
    let mut count = 0;
    for ep in endpoints {
        for addr in arr_at(ep, &["addresses"]) {
            if list.len() < MAX {
                list.push(addr.as_str().unwrap_or("").to_string());
            } else if list.len() == MAX {
                more = true;
            }
            count += 1;
        }
    }
    list_with_more(&list, more, count, MAX)
}

fn endpoint_slice_row(obj: &Value, now: DateTime<Utc>) -> Vec<Value> {
    vec![
        s(name(obj)),
        s(str_at(obj, &["addressType"])),
        s(format_ports(arr_at(obj, &["ports"]))),
        s(format_endpoints(arr_at(obj, &["endpoints"]))),
        s(age(obj, now)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    // Expected cells: printers_test.go TestPrintEndpointSlice (same objects, v1 address types).
    #[test]
    fn endpoint_slices() {
        let now = Utc::now();
        let a = json!({
            "metadata": {"name": "abcslice.123"},
            "addressType": "IPv4",
            "ports": [{"name": "http", "port": 80, "protocol": "TCP"}],
            "endpoints": [{"addresses": ["10.1.2.3", "2001:db8::1234:5678"]}]
        });
        assert_eq!(
            endpoint_slice_row(&a, now)[1..4],
            [json!("IPv4"), json!("80"), json!("10.1.2.3,2001:db8::1234:5678")]
        );
        let b = json!({
            "metadata": {"name": "longerslicename.123"},
            "addressType": "IPv6",
            "ports": [{"name": "http", "port": 80}, {"name": "https", "port": 443}],
            "endpoints": [{"addresses": ["10.1.2.3", "2001:db8::1234:5678"]}, {"addresses": ["10.2.3.4", "2001:db8::2345:6789"]}]
        });
        assert_eq!(
            endpoint_slice_row(&b, now)[2..4],
            [json!("80,443"), json!("10.1.2.3,2001:db8::1234:5678,10.2.3.4 + 1 more...")]
        );
        let empty = json!({"metadata": {"name": "e"}, "addressType": "IPv4"});
        assert_eq!(endpoint_slice_row(&empty, now)[2..4], [json!("<unset>"), json!("<unset>")]);
    }
}
