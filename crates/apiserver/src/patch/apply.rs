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
            json_patch::patch(&mut doc, &ops)
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
