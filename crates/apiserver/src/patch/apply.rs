//! Applies a PATCH body of any type to a stored object (kube's handlers/patch.go).

use serde_json::Value;

use crate::error::{ApiError, Result};
use crate::registry::resources::ResourceDef;
use crate::registry::store::PatchType;

/// The patch media types a resource takes: strategic merge patch only for built-ins.
pub fn accepted(def: &ResourceDef) -> Vec<&'static str> {
    if def.crd.is_some() {
        vec!["application/json-patch+json", "application/merge-patch+json", "application/apply-patch+yaml"]
    } else {
        vec![
            "application/json-patch+json",
            "application/merge-patch+json",
            "application/strategic-merge-patch+json",
            "application/apply-patch+yaml",
        ]
    }
}

/// Applies JSON patch operations in order. As kube-apiserver's json-patch library, a `test` of
/// `null` passes on a path that does not exist (kube-runtime's finalizer helper tests
/// `/metadata/finalizers` that way before adding the first one).
fn json_patch_ops(doc: &mut Value, ops: &json_patch::Patch) -> Result<(), json_patch::PatchError> {
    for op in ops.iter() {
        if let json_patch::PatchOperation::Test(test) = op {
            if test.value.is_null() && doc.pointer(test.path.as_str()).is_none() {
                continue;
            }
        }
        json_patch::patch(doc, std::slice::from_ref(op))?;
    }
    Ok(())
}

/// Applies `patch` to `original` and answers the patched object.
pub fn apply(def: &ResourceDef, original: &Value, patch_type: PatchType, patch: &Value) -> Result<Value> {
    match patch_type {
        PatchType::Json => {
            let ops: json_patch::Patch = serde_json::from_value(patch.clone()).map_err(|e| {
                ApiError::bad_request(format!(
                    "the server rejected our request due to an error in our request: invalid JSON patch: {e}"
                ))
            })?;
            let mut doc = original.clone();
            json_patch_ops(&mut doc, &ops)
                .map_err(|e| {
                    ApiError::invalid(
                        &def.group,
                        &def.kind,
                        crate::registry::meta::meta_str(original, "name"),
                        vec![crate::error::Cause {
                            reason: "FieldValueInvalid".into(),
                            message: format!("the server rejected our request due to an error in our request: {e}"),
                            field: String::new(),
                        }],
                    )
                })
                .map(|_| doc)
        }
        PatchType::Merge | PatchType::Apply => {
            if !patch.is_object() {
                return Err(ApiError::bad_request("the body of the request must be a JSON object for a merge patch"));
            }
            let mut doc = original.clone();
            json_patch::merge(&mut doc, patch);
            Ok(doc)
        }
        PatchType::Strategic => {
            let schema = super::schema::for_kind(&def.group, &def.kind).unwrap_or_else(super::schema::metadata_only);
            super::strategic::apply(original, patch, schema).map_err(|e| {
                let code = http::StatusCode::from_u16(e.http_code()).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
                ApiError::new(code, e.status_reason(), e.status_message())
            })
        }
    }
}

#[cfg(test)]
mod json_patch_tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    fn ops(v: Value) -> json_patch::Patch {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn test_of_null_passes_on_a_missing_path_only() {
        let mut doc = json!({"metadata": {"name": "a"}});
        let add = ops(json!([
            {"op": "test", "path": "/metadata/finalizers", "value": null},
            {"op": "add", "path": "/metadata/finalizers", "value": ["x"]}
        ]));
        json_patch_ops(&mut doc, &add).unwrap();
        assert_eq!(doc["metadata"]["finalizers"], json!(["x"]));
        // Now the path exists: the same test fails, and nothing is changed.
        let mut again = doc.clone();
        assert!(json_patch_ops(&mut again, &add).is_err());
        let wrong = ops(json!([{"op": "test", "path": "/metadata/name", "value": "b"}]));
        assert!(json_patch_ops(&mut doc, &wrong).is_err());
    }
}
