//! `certificates.k8s.io` printers: printers.go `printCertificateSigningRequest` and
//! `printClusterTrustBundle`.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::duration;
use super::helpers::{age, arr_at, name, opt_int, s, str_at};
use super::{col, Column, Printer, AGE_COLUMN, NAME_COLUMN};

const CSR_COLUMNS: &[Column] = &[
    NAME_COLUMN,
    AGE_COLUMN,
    col("SignerName", "string", "signerName indicates the requested signer, and is a qualified name.", 0),
    // kube describes REQUESTOR with the swagger doc of spec.request.
    col("Requestor", "string", "Base64-encoded PKCS#10 CSR data", 0),
    col(
        "RequestedDuration",
        "string",
        "expirationSeconds is the requested duration of validity of the issued certificate.",
        0,
    ),
    col("Condition", "string", "Conditions applied to the request, such as approval or denial.", 0),
];

/// `printCertificateSigningRequest`.
pub static CSR: Printer = Printer { columns: CSR_COLUMNS, row: csr_row };

/// `extractCSRStatus`: Denied beats Approved beats Pending, plus ",Failed" and ",Issued".
fn csr_status(csr: &Value) -> String {
    let (mut approved, mut denied, mut failed) = (false, false, false);
    for c in arr_at(csr, &["status", "conditions"]) {
        match str_at(c, &["type"]) {
            "Approved" => approved = true,
            "Denied" => denied = true,
            "Failed" => failed = true,
            _ => {}
        }
    }
    let mut status = if denied {
        "Denied"
    } else if approved {
        "Approved"
    } else {
        "Pending"
    }
    .to_string();
    if failed {
        status.push_str(",Failed");
    }
    if !str_at(csr, &["status", "certificate"]).is_empty() {
        status.push_str(",Issued");
    }
    status
}

fn csr_row(csr: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let signer = str_at(csr, &["spec", "signerName"]);
    let requested = match opt_int(csr, &["spec", "expirationSeconds"]) {
        Some(secs) => duration::human_duration(secs.saturating_mul(1_000_000_000)),
        None => "<none>".to_string(),
    };
    vec![
        s(name(csr)),
        s(age(csr, now)),
        s(if signer.is_empty() { "<none>" } else { signer }),
        s(str_at(csr, &["spec", "username"])),
        s(requested),
        s(csr_status(csr)),
    ]
}

const CLUSTER_TRUST_BUNDLE_COLUMNS: &[Column] =
    &[NAME_COLUMN, col("SignerName", "string", "signerName indicates the associated signer, if any.", 0)];

/// `printClusterTrustBundle`.
pub static CLUSTER_TRUST_BUNDLE: Printer =
    Printer { columns: CLUSTER_TRUST_BUNDLE_COLUMNS, row: cluster_trust_bundle_row };

fn cluster_trust_bundle_row(obj: &Value, _now: DateTime<Utc>) -> Vec<Value> {
    let signer = str_at(obj, &["spec", "signerName"]);
    vec![s(name(obj)), s(if signer.is_empty() { "<none>" } else { signer })]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    // Expected cells: printers_test.go TestPrintCertificateSigningRequest.
    #[test]
    fn csrs() {
        let now = Utc::now();
        let created = (now + chrono::TimeDelta::milliseconds(1900)).to_rfc3339();
        let bare = json!({"metadata": {"name": "csr1", "creationTimestamp": created}});
        assert_eq!(
            csr_row(&bare, now),
            vec![json!("csr1"), json!("0s"), json!("<none>"), json!(""), json!("<none>"), json!("Pending")]
        );
        let week = json!({
            "metadata": {"name": "csr2", "creationTimestamp": created},
            "spec": {"username": "CSR Requestor", "signerName": "example.com/test-signer", "expirationSeconds": 7 * 24 * 3600 + 3600},
            "status": {"conditions": [{"type": "Approved"}]}
        });
        assert_eq!(
            csr_row(&week, now),
            vec![
                json!("csr2"),
                json!("0s"),
                json!("example.com/test-signer"),
                json!("CSR Requestor"),
                json!("7d1h"),
                json!("Approved")
            ]
        );
        let issued = json!({
            "metadata": {"name": "csr2", "creationTimestamp": created},
            "spec": {"username": "CSR Requestor"},
            "status": {"conditions": [{"type": "Approved"}], "certificate": "Y2VydCBkYXRh"}
        });
        assert_eq!(csr_row(&issued, now)[5], json!("Approved,Issued"));
        let denied = json!({"metadata": {"name": "csr3"}, "status": {"conditions": [{"type": "Denied"}]}});
        assert_eq!(csr_row(&denied, now)[5], json!("Denied"));
    }
}
