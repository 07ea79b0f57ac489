//! `storage.k8s.io` printers: printers.go `printStorageClass`,
//! `printVolumeAttributesClass`, `printVolumeAttachment`, `printCSINode`,
//! `printCSIDriver`, `printCSIStorageCapacity`.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::helpers::{age, arr_at, b, bool_at, get, len_at, n, name, opt_bool, opt_str, quantity, s, str_at};
use super::{col, col_fmt, Column, Printer, AGE_COLUMN, NAME_COLUMN};

const STORAGE_CLASS_COLUMNS: &[Column] = &[
    NAME_COLUMN,
    col("Provisioner", "string", "provisioner indicates the type of the provisioner.", 0),
    col(
        "ReclaimPolicy",
        "string",
        "reclaimPolicy controls the reclaimPolicy for dynamically provisioned PersistentVolumes of this storage class.",
        0,
    ),
    col(
        "VolumeBindingMode",
        "string",
        "volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound.",
        0,
    ),
    col(
        "AllowVolumeExpansion",
        "string",
        "allowVolumeExpansion shows whether the storage class allow volume expand.",
        0,
    ),
    AGE_COLUMN,
];

/// `printStorageClass`.
pub static STORAGE_CLASS: Printer = Printer { columns: STORAGE_CLASS_COLUMNS, row: storage_class_row };

fn annotation<'a>(obj: &'a Value, key: &str) -> &'a str {
    str_at(obj, &["metadata", "annotations", key])
}

fn storage_class_row(obj: &Value, now: DateTime<Utc>) -> Vec<Value> {
    // storageutil.IsDefaultAnnotation accepts the GA and the beta annotation.
    let mut class_name = name(obj).to_string();
    if annotation(obj, "storageclass.kubernetes.io/is-default-class") == "true"
        || annotation(obj, "storageclass.beta.kubernetes.io/is-default-class") == "true"
    {
        class_name.push_str(" (default)");
    }
    vec![
        s(class_name),
        s(str_at(obj, &["provisioner"])),
        s(opt_str(obj, &["reclaimPolicy"]).unwrap_or("Delete")),
        s(opt_str(obj, &["volumeBindingMode"]).unwrap_or("Immediate")),
        // A bool cell under a "string" column, as kube registers it.
        b(bool_at(obj, &["allowVolumeExpansion"])),
        s(age(obj, now)),
    ]
}

const VOLUME_ATTRIBUTES_CLASS_COLUMNS: &[Column] =
    &[NAME_COLUMN, col("DriverName", "string", "Name of the CSI driver This field is immutable.", 0), AGE_COLUMN];

/// `printVolumeAttributesClass`.
pub static VOLUME_ATTRIBUTES_CLASS: Printer =
    Printer { columns: VOLUME_ATTRIBUTES_CLASS_COLUMNS, row: volume_attributes_class_row };

fn volume_attributes_class_row(obj: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let mut class_name = name(obj).to_string();
    if annotation(obj, "volumeattributesclass.alpha.kubernetes.io/is-default-class") == "true" {
        class_name.push_str(" (default)");
    }
    vec![s(class_name), s(str_at(obj, &["driverName"])), s(age(obj, now))]
}

const VOLUME_ATTACHMENT_COLUMNS: &[Column] = &[
    NAME_COLUMN,
    // kube marks this column with format "name" too.
    col_fmt(
        "Attacher",
        "string",
        "name",
        "attacher indicates the name of the volume driver that MUST handle this request.",
        0,
    ),
    col("PV", "string", "persistentVolumeName represents the name of the persistent volume to attach.", 0),
    col("Node", "string", "nodeName represents the node that the volume should be attached to.", 0),
    col("Attached", "boolean", "attached indicates the volume is successfully attached.", 0),
    AGE_COLUMN,
];

/// `printVolumeAttachment`.
pub static VOLUME_ATTACHMENT: Printer = Printer { columns: VOLUME_ATTACHMENT_COLUMNS, row: volume_attachment_row };

fn volume_attachment_row(obj: &Value, now: DateTime<Utc>) -> Vec<Value> {
    vec![
        s(name(obj)),
        s(str_at(obj, &["spec", "attacher"])),
        s(str_at(obj, &["spec", "source", "persistentVolumeName"])),
        s(str_at(obj, &["spec", "nodeName"])),
        b(bool_at(obj, &["status", "attached"])),
        s(age(obj, now)),
    ]
}

const CSI_NODE_COLUMNS: &[Column] = &[
    NAME_COLUMN,
    col("Drivers", "integer", "Drivers indicates the number of CSI drivers registered on the node", 0),
    AGE_COLUMN,
];

/// `printCSINode`.
pub static CSI_NODE: Printer = Printer { columns: CSI_NODE_COLUMNS, row: csi_node_row };

fn csi_node_row(obj: &Value, now: DateTime<Utc>) -> Vec<Value> {
    vec![s(name(obj)), n(len_at(obj, &["spec", "drivers"])), s(age(obj, now))]
}

const CSI_DRIVER_COLUMNS: &[Column] = &[
    NAME_COLUMN,
    col("AttachRequired", "boolean", "attachRequired indicates this CSI volume driver requires an attach operation (because it implements the CSI ControllerPublishVolume() method), and that the Kubernetes attach detach controller should call the attach volume interface which checks the volumeattachment status and waits until the volume is attached before proceeding to mounting.", 0),
    col("PodInfoOnMount", "boolean", "podInfoOnMount indicates this CSI volume driver requires additional pod information (like podName, podUID, etc.) during mount operations, if set to true.", 0),
    col("StorageCapacity", "boolean", "storageCapacity indicates that the CSI volume driver wants pod scheduling to consider the storage capacity that the driver deployment will report by creating CSIStorageCapacity objects with capacity information, if set to true.", 0),
    col("TokenRequests", "string", "tokenRequests indicates the CSI driver needs pods' service account tokens it is mounting volume for to do necessary authentication.", 0),
    col("RequiresRepublish", "boolean", "requiresRepublish indicates the CSI driver wants `NodePublishVolume` being periodically called to reflect any possible change in the mounted volume.", 0),
    col("Modes", "string", "volumeLifecycleModes defines what kind of volumes this CSI volume driver supports.", 0),
    AGE_COLUMN,
];

/// `printCSIDriver`.
pub static CSI_DRIVER: Printer = Printer { columns: CSI_DRIVER_COLUMNS, row: csi_driver_row };

fn csi_driver_row(obj: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let modes: Vec<&str> = arr_at(obj, &["spec", "volumeLifecycleModes"]).iter().filter_map(Value::as_str).collect();
    let modes = if modes.is_empty() { "<none>".to_string() } else { modes.join(",") };
    // A present (even empty) tokenRequests list prints its audiences.
    let token_requests = match get(obj, &["spec", "tokenRequests"]) {
        Some(Value::Array(reqs)) => reqs.iter().map(|r| str_at(r, &["audience"])).collect::<Vec<_>>().join(","),
        _ => "<unset>".to_string(),
    };
    vec![
        s(name(obj)),
        b(opt_bool(obj, &["spec", "attachRequired"]).unwrap_or(true)),
        b(bool_at(obj, &["spec", "podInfoOnMount"])),
        b(bool_at(obj, &["spec", "storageCapacity"])),
        s(token_requests),
        b(bool_at(obj, &["spec", "requiresRepublish"])),
        s(modes),
        s(age(obj, now)),
    ]
}

const CSI_STORAGE_CAPACITY_COLUMNS: &[Column] = &[
    NAME_COLUMN,
    col("StorageClassName", "string", "storageClassName represents the name of the StorageClass that the reported capacity applies to.", 0),
    col("Capacity", "string", "capacity is the value reported by the CSI driver in its GetCapacityResponse for a GetCapacityRequest with topology and parameters that match the previous fields.", 0),
];

/// `printCSIStorageCapacity`.
pub static CSI_STORAGE_CAPACITY: Printer =
    Printer { columns: CSI_STORAGE_CAPACITY_COLUMNS, row: csi_storage_capacity_row };

fn csi_storage_capacity_row(obj: &Value, _now: DateTime<Utc>) -> Vec<Value> {
    let capacity = match get(obj, &["capacity"]) {
        Some(q) if !q.is_null() => quantity(Some(q)),
        _ => "<unset>".to_string(),
    };
    vec![s(name(obj)), s(str_at(obj, &["storageClassName"])), s(capacity)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    // Expected cells derived from printers.go printStorageClass (reclaim policy defaults to Delete).
    #[test]
    fn default_storage_class() {
        let sc = json!({
            "metadata": {"name": "standard", "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
            "provisioner": "rancher.io/local-path",
            "volumeBindingMode": "WaitForFirstConsumer"
        });
        assert_eq!(
            storage_class_row(&sc, Utc::now()),
            vec![
                json!("standard (default)"),
                json!("rancher.io/local-path"),
                json!("Delete"),
                json!("WaitForFirstConsumer"),
                json!(false),
                json!("<unknown>")
            ]
        );
    }

    // Expected cells derived from printers.go printCSIDriver (attachRequired defaults to true).
    #[test]
    fn csi_driver() {
        let d = json!({
            "metadata": {"name": "driver1"},
            "spec": {"attachRequired": true, "podInfoOnMount": true, "volumeLifecycleModes": ["Persistent", "Ephemeral"]}
        });
        assert_eq!(
            csi_driver_row(&d, Utc::now()),
            vec![
                json!("driver1"),
                json!(true),
                json!(true),
                json!(false),
                json!("<unset>"),
                json!(false),
                json!("Persistent,Ephemeral"),
                json!("<unknown>")
            ]
        );
    }
}
