//! ConfigMaps and Secrets: key names, total size, typed secrets, `immutable: true`.

use serde_json::Value;

use super::super::field::key;
use super::super::meta::{validate_object_meta, validate_object_meta_update};
use super::super::names::*;
use super::*;
use crate::error::Cause;
use crate::kinds::defaults::base64_decode;
use crate::kinds::defaults::json::{at, get_obj, get_str, normalize};

/// Max total size of a Secret's or ConfigMap's data (1 MiB).
pub(super) const MAX_SECRET_SIZE: usize = 1024 * 1024;

pub(super) fn decoded(v: &Value) -> Vec<u8> {
    let raw = v.as_str().unwrap_or_default();
    base64_decode(raw).unwrap_or_else(|| raw.as_bytes().to_vec())
}

/// `ValidateSecret`.
pub(super) fn validate_secret(obj: &Value, out: &mut Vec<Cause>) {
    out.extend(validate_object_meta(obj, true, NameRule::Subdomain));
    let data = get_obj(obj, "data");
    let mut total = 0;
    for (k, v) in data.into_iter().flatten() {
        for m in is_config_map_key(k) {
            out.push(Cause::invalid(key("data", k), &s(k), &m));
        }
        total += decoded(v).len();
    }
    if total > MAX_SECRET_SIZE {
        out.push(Cause::too_long("data", MAX_SECRET_SIZE));
    }
    let has = |k: &str| data.is_some_and(|d| d.contains_key(k));
    let json_ok = |k: &str| {
        data.and_then(|d| d.get(k))
            .map(|v| serde_json::from_slice::<serde_json::Map<String, Value>>(&decoded(v)).is_ok())
    };
    match get_str(obj, "type") {
        "kubernetes.io/service-account-token" => {
            let name =
                at(obj, &["metadata", "annotations", "kubernetes.io/service-account.name"]).and_then(Value::as_str);
            if name.is_none_or(str::is_empty) {
                out.push(Cause::required("metadata.annotations[kubernetes.io/service-account.name]", ""));
            }
        }
        "kubernetes.io/dockercfg" => match json_ok(".dockercfg") {
            None => out.push(Cause::required("data[.dockercfg]", "")),
            Some(false) => out.push(Cause::invalid(
                "data[.dockercfg]",
                &s("<secret contents redacted>"),
                "invalid character in JSON",
            )),
            Some(true) => {}
        },
        "kubernetes.io/dockerconfigjson" => match json_ok(".dockerconfigjson") {
            None => out.push(Cause::required("data[.dockerconfigjson]", "")),
            Some(false) => out.push(Cause::invalid(
                "data[.dockerconfigjson]",
                &s("<secret contents redacted>"),
                "invalid character in JSON",
            )),
            Some(true) => {}
        },
        // username or password may be empty, but one of the keys must exist.
        "kubernetes.io/basic-auth" if !has("username") && !has("password") => {
            out.push(Cause::required("data[username]", ""));
            out.push(Cause::required("data[password]", ""));
        }
        "kubernetes.io/ssh-auth"
            if data.and_then(|d| d.get("ssh-privatekey")).map(|v| decoded(v).is_empty()).unwrap_or(true) =>
        {
            out.push(Cause::required("data[ssh-privatekey]", ""));
        }
        "kubernetes.io/tls" => {
            if !has("tls.crt") {
                out.push(Cause::required("data[tls.crt]", ""));
            }
            if !has("tls.key") {
                out.push(Cause::required("data[tls.key]", ""));
            }
        }
        _ => {}
    }
}

pub(super) fn immutable_when_set(obj: &Value, old: &Value, fields: &[&str], out: &mut Vec<Cause>) {
    if old.get("immutable").and_then(Value::as_bool) != Some(true) {
        return;
    }
    if obj.get("immutable").and_then(Value::as_bool) != Some(true) {
        out.push(Cause::forbidden("immutable", "field is immutable when `immutable` is set"));
    }
    for f in fields {
        if normalize(obj.get(*f).unwrap_or(&Value::Null)) != normalize(old.get(*f).unwrap_or(&Value::Null)) {
            out.push(Cause::forbidden(*f, "field is immutable when `immutable` is set"));
        }
    }
}

/// Secrets.
pub(crate) fn secret(obj: &Value, old: Option<&Value>) -> Vec<Cause> {
    let mut out = Vec::new();
    if let Some(old) = old {
        out.extend(validate_object_meta_update(obj, old));
        let (nt, ot) = (get_str(obj, "type"), get_str(old, "type"));
        if nt != ot {
            out.push(Cause::invalid("type", &s(nt), "field is immutable"));
        }
        immutable_when_set(obj, old, &["data"], &mut out);
    }
    validate_secret(obj, &mut out);
    out
}

/// ConfigMaps.
pub(crate) fn config_map(obj: &Value, old: Option<&Value>) -> Vec<Cause> {
    let mut out = Vec::new();
    if let Some(old) = old {
        out.extend(validate_object_meta_update(obj, old));
        immutable_when_set(obj, old, &["data", "binaryData"], &mut out);
    }
    out.extend(validate_object_meta(obj, true, NameRule::Subdomain));
    let binary = get_obj(obj, "binaryData");
    let mut total = 0;
    for (k, v) in get_obj(obj, "data").into_iter().flatten() {
        for m in is_config_map_key(k) {
            out.push(Cause::invalid(key("data", k), &s(k), &m));
        }
        if binary.is_some_and(|b| b.contains_key(k)) {
            out.push(Cause::invalid(key("data", k), &s(k), "duplicate of key present in binaryData"));
        }
        total += v.as_str().map(str::len).unwrap_or(0);
    }
    for (k, v) in binary.into_iter().flatten() {
        for m in is_config_map_key(k) {
            out.push(Cause::invalid(key("binaryData", k), &s(k), &m));
        }
        total += decoded(v).len();
    }
    if total > MAX_SECRET_SIZE {
        // kube reports this one against the whole object, with an empty field path.
        out.push(Cause::too_long("", MAX_SECRET_SIZE));
    }
    out
}
