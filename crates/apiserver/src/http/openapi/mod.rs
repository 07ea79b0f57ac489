//! The OpenAPI documents: `/openapi/v2`, one Swagger 2.0 document in JSON or in gnostic's
//! protobuf, and `/openapi/v3`, an index of one OpenAPI 3.0 document per group-version.
//! kubectl reads them for `explain`, for the merge keys of client-side `apply`, and to learn
//! that the server validates fields itself.
//!
//! Documents are built per request from the resources served at that moment (CRDs come and
//! go) and not kept: they weigh megabytes, and clients cache them by ETag (If-None-Match is
//! answered 304) and by the hash in the v3 index.

mod definitions;
mod gnostic;
mod paths;

use std::sync::{Arc, Mutex, Weak};

use http::{header, HeaderMap, HeaderValue, Response, StatusCode};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha512};

use crate::error::{ApiError, Result};
use crate::http::handler::{full, Body};
use crate::registry::resources::Snapshot;
pub use definitions::with_structure;
use definitions::{definitions, Flavor};
use paths::paths;

const JSON: &str = "application/json";
/// gnostic's protobuf Document. Clients ask for it in either spelling; the answer names the
/// second, since Go's media type parser rejects the `@` of the first.
const PROTOBUF_V2: [&str; 2] = [
    "application/com.github.proto-openapi.spec.v2.v1.0+protobuf",
    "application/com.github.proto-openapi.spec.v2@v1.0+protobuf",
];

fn info() -> Value {
    json!({"title": "Kubernetes", "version": crate::http::discovery::GIT_VERSION})
}

fn security_scheme() -> Value {
    json!({"BearerToken": {"description": "Bearer Token authentication", "type": "apiKey", "name": "authorization", "in": "header"}})
}

/// The Swagger 2.0 document of everything served.
pub fn v2(snapshot: &Snapshot) -> Value {
    json!({
        "swagger": "2.0",
        "info": info(),
        "paths": paths(snapshot, None, Flavor::V2),
        "definitions": definitions(snapshot, None, Flavor::V2),
        "securityDefinitions": security_scheme(),
        "security": [{"BearerToken": []}],
    })
}

/// The OpenAPI 3.0 document of one group-version.
pub fn v3(snapshot: &Snapshot, group: &str, version: &str) -> Value {
    let only = Some((group, version));
    json!({
        "openapi": "3.0.0",
        "info": info(),
        "paths": paths(snapshot, only, Flavor::V3),
        "components": {"schemas": definitions(snapshot, only, Flavor::V3), "securitySchemes": security_scheme()},
    })
}

fn gv_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

/// kube-openapi's ETag: the SHA-512 of the served bytes in upper-case hex.
fn etag(bytes: &[u8]) -> String {
    Sha512::digest(bytes).iter().map(|b| format!("{b:02X}")).collect()
}

/// The last v3 index and the resources it was built from: kubectl asks for the index on every
/// `apply` and `explain`, and building it means building every group-version's document.
static INDEX: Mutex<Option<(Weak<Snapshot>, Value)>> = Mutex::new(None);

/// The v3 index: where each group-version's document is, its hash in the URL so that a
/// client may keep it for as long as the hash stays.
pub fn v3_index(snapshot: &Arc<Snapshot>) -> Value {
    let cached = INDEX
        .lock()
        .ok()
        .and_then(|c| c.as_ref().filter(|(s, _)| s.ptr_eq(&Arc::downgrade(snapshot))).map(|(_, v)| v.clone()));
    if let Some(index) = cached {
        return index;
    }
    let index = build_index(snapshot);
    if let Ok(mut c) = INDEX.lock() {
        *c = Some((Arc::downgrade(snapshot), index.clone()));
    }
    index
}

fn build_index(snapshot: &Snapshot) -> Value {
    let mut index = Map::new();
    for (group, versions) in snapshot.groups() {
        for version in versions {
            let path = gv_path(&group, &version);
            let bytes = serde_json::to_vec(&v3(snapshot, &group, &version)).unwrap_or_default();
            index.insert(
                path.clone(),
                json!({"serverRelativeURL": format!("/openapi/v3/{path}?hash={}", etag(&bytes))}),
            );
        }
    }
    json!({"paths": index})
}

/// Which of `offered` the Accept header takes first (no header, or a wildcard, takes the first).
fn choose<'a>(accept: Option<&str>, offered: &[&'a str]) -> Option<&'a str> {
    let Some(accept) = accept.filter(|a| !a.trim().is_empty()) else { return offered.first().copied() };
    for clause in accept.split(',') {
        let media = clause.split(';').next().unwrap_or("").trim();
        if media == "*/*" || media == "application/*" {
            return offered.first().copied();
        }
        if let Some(found) = offered.iter().find(|o| o.eq_ignore_ascii_case(media)) {
            return Some(found);
        }
    }
    None
}

fn header_value(text: &str) -> HeaderValue {
    HeaderValue::from_str(text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// A document answer with its ETag, or 304 when the client already holds it.
fn document(bytes: Vec<u8>, content_type: &str, headers: &HeaderMap) -> Response<Body> {
    let tag = format!("\"{}\"", etag(&bytes));
    let held = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag || t.trim() == "*"));
    let mut resp = if held {
        let mut r = Response::new(full(Vec::new()));
        *r.status_mut() = StatusCode::NOT_MODIFIED;
        r
    } else {
        Response::new(full(bytes))
    };
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, header_value(content_type));
    h.insert(header::ETAG, header_value(&tag));
    h.insert(header::VARY, HeaderValue::from_static("Accept"));
    resp
}

/// Answers `/openapi/v2`, `/openapi/v3` and `/openapi/v3/<group-version>`; `None` for any
/// other path.
pub fn serve(
    snapshot: &Arc<Snapshot>,
    path: &str,
    query: Option<&str>,
    headers: &HeaderMap,
) -> Option<Result<Response<Body>>> {
    let accept = headers.get(header::ACCEPT).and_then(|h| h.to_str().ok());
    if path == "/openapi/v2" {
        let mut offered = vec![JSON];
        offered.extend(PROTOBUF_V2);
        let answer = match choose(accept, &offered) {
            Some(JSON) => Ok(document(serde_json::to_vec(&v2(snapshot)).unwrap_or_default(), JSON, headers)),
            Some(_) => Ok(document(gnostic::encode(&v2(snapshot)), PROTOBUF_V2[0], headers)),
            None => Err(ApiError::not_acceptable(&offered.join(", "))),
        };
        return Some(answer);
    }
    if path == "/openapi/v3" {
        return Some(match choose(accept, &[JSON]) {
            Some(_) => Ok(document(serde_json::to_vec(&v3_index(snapshot)).unwrap_or_default(), JSON, headers)),
            None => Err(ApiError::not_acceptable(JSON)),
        });
    }
    let gv = path.strip_prefix("/openapi/v3/")?;
    let (group, version) = match gv.split('/').collect::<Vec<_>>().as_slice() {
        ["api", v] => (String::new(), v.to_string()),
        ["apis", g, v] => (g.to_string(), v.to_string()),
        _ => return Some(Err(ApiError::no_route())),
    };
    if !snapshot.groups().iter().any(|(g, vs)| *g == group && vs.contains(&version)) {
        return Some(Err(ApiError::no_route()));
    }
    if choose(accept, &[JSON]).is_none() {
        return Some(Err(ApiError::not_acceptable(JSON)));
    }
    let bytes = serde_json::to_vec(&v3(snapshot, &group, &version)).unwrap_or_default();
    let current = etag(&bytes);
    let asked = query.unwrap_or("").split('&').find_map(|p| p.strip_prefix("hash="));
    Some(Ok(match asked {
        // An old hash: the client is sent to the current document, as kube-openapi does.
        Some(hash) if hash != current => {
            let mut resp = Response::new(full(Vec::new()));
            *resp.status_mut() = StatusCode::MOVED_PERMANENTLY;
            resp.headers_mut().insert(
                header::LOCATION,
                header_value(&format!("/openapi/v3/{}?hash={current}", gv_path(&group, &version))),
            );
            resp
        }
        Some(_) => {
            let mut resp = document(bytes, JSON, headers);
            resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, immutable"));
            resp
        }
        None => document(bytes, JSON, headers),
    }))
}
