//! The request chain: authentication, authorization, in-flight limits, then routing to
//! health, version, metrics, discovery or the resource handlers; every answer is counted
//! and logged.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::{FutureExt, StreamExt};
use http::{header, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{combinators::BoxBody, BodyExt, Full, Limited, StreamBody};
use hyper::body::{Frame, Incoming};
use serde_json::{json, Value};
use tokio::sync::Semaphore;
use tracing::debug;

use crate::error::{ApiError, Result};
use crate::http::authn::{Authenticator, Authn, User};
use crate::http::metrics::{DurationLabels, Metrics};
use crate::http::negotiate::{self, Offers, Output};
use crate::http::request_info::RequestInfo;
use crate::http::table::{self, IncludeObject};
use crate::http::{authz, discovery, impersonation, openapi};
use crate::kinds::strategy::Propagation;
use crate::kinds::unknown_fields::{self, FieldValidation};
use crate::registry::resources::ResourceDef;
use crate::registry::selector::{FieldSelector, LabelSelector};
use crate::registry::store::WriteCheck;
use crate::registry::store::{DeleteOptions, ListOptions, PatchType, Store, WriteOptions};
use crate::registry::{subresources, watch};

/// The body type of every answer.
pub type Body = BoxBody<Bytes, Infallible>;

/// kube-apiserver's request body limit (3 MiB).
pub const MAX_BODY: usize = 3 * 1024 * 1024;

/// Everything a request handler needs.
pub struct State {
    pub store: Arc<Store>,
    pub authn: Authenticator,
    pub authorizer: crate::rbac::Authorizer,
    /// The issuer and checker of service account tokens.
    pub tokens: crate::serviceaccount::Tokens,
    pub metrics: Metrics,
    pub server_address: String,
    pub readonly_slots: Semaphore,
    pub mutating_slots: Semaphore,
    pub min_request_timeout: u64,
    /// Deadline of every request but watches.
    pub request_timeout: Duration,
    /// Flips to true when the server shuts down: watches end cleanly.
    pub shutdown: tokio::sync::watch::Receiver<bool>,
}

pub fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into()).map_err(|never| match never {}).boxed()
}

/// A Status answer for an error.
pub fn error_response(err: &ApiError) -> Response<Body> {
    let body = serde_json::to_vec(&err.to_status()).unwrap_or_default();
    let mut resp = Response::new(full(body));
    *resp.status_mut() = err.code;
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Some(secs) = err.details.as_ref().and_then(|d| d.retry_after_seconds) {
        if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
    }
    resp
}

/// A JSON or YAML answer in the negotiated representation.
fn object_response(status: StatusCode, output: Output, value: &Value) -> Response<Body> {
    let body = match output {
        Output::Yaml => negotiate::to_yaml(value).into_bytes(),
        _ => serde_json::to_vec(value).unwrap_or_default(),
    };
    encoded_response(status, output, body)
}

fn encoded_response(status: StatusCode, output: Output, body: Vec<u8>) -> Response<Body> {
    let mut resp = Response::new(full(body));
    *resp.status_mut() = status;
    if let Ok(v) = HeaderValue::from_str(&negotiate::content_type(output)) {
        resp.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    resp
}

fn text_response(status: StatusCode, text: impl Into<String>) -> Response<Body> {
    let mut resp = Response::new(full(text.into()));
    *resp.status_mut() = status;
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    resp
}

/// Query parameters, percent-decoded (last value wins, as Go's `Get` takes the first; kube
/// clients never repeat them).
fn parse_query(query: Option<&str>) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        out.entry(decode(k)).or_insert_with(|| decode(v));
    }
    out
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"), 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Serves one request from a connection whose client certificate named `cert_user`.
pub async fn serve(
    state: Arc<State>,
    cert_user: Option<Arc<User>>,
    req: Request<Incoming>,
) -> std::result::Result<Response<Body>, Infallible> {
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let query = parse_query(req.uri().query());
    let watch_flag = matches!(query.get("watch").map(String::as_str), Some("true" | "1"));
    let info = RequestInfo::parse(&method, &path, watch_flag);
    // A bug reached by some input must cost one 500, never the connection or the server;
    // kube-apiserver's panic filter answers the same way.
    let handled =
        std::panic::AssertUnwindSafe(handle(&state, cert_user.as_deref(), &info, &query, req)).catch_unwind().await;
    let response = match handled {
        Ok(Ok(resp)) => resp,
        Ok(Err(err)) => error_response(&err),
        Err(_) => {
            tracing::error!(path = %path, "request handler panicked");
            error_response(&ApiError::internal("This request caused apiserver to panic. Look in the logs for details."))
        }
    };
    let code = response.status().as_u16();
    let scope = if !info.is_resource {
        ""
    } else if !info.name.is_empty() && info.resource != "namespaces" {
        "resource"
    } else if !info.namespace.is_empty() {
        "namespace"
    } else {
        "cluster"
    };
    let verb = match info.verb.as_str() {
        "list" if watch_flag => "WATCH",
        v => v,
    }
    .to_uppercase();
    state.metrics.observe(
        DurationLabels {
            verb: verb.clone(),
            group: info.group.clone(),
            version: info.version.clone(),
            resource: info.resource.clone(),
            subresource: info.subresource.clone(),
            scope: scope.into(),
            component: "apiserver".into(),
        },
        code,
        started.elapsed().as_secs_f64(),
    );
    debug!(verb = %verb, path = %path, code, latency_ms = started.elapsed().as_millis() as u64, "request");
    Ok(response)
}

async fn handle(
    state: &Arc<State>,
    cert_user: Option<&User>,
    info: &RequestInfo,
    query: &HashMap<String, String>,
    req: Request<Incoming>,
) -> Result<Response<Body>> {
    let auth_header = req.headers().get(header::AUTHORIZATION).and_then(|h| h.to_str().ok());
    let user = match state.authn.authenticate(cert_user, auth_header) {
        Authn::User(u) => u,
        Authn::Token(token) => {
            state.tokens.authenticate(&state.store, &token, None).await.map_err(|_| ApiError::unauthorized())?
        }
        Authn::Rejected => return Err(ApiError::unauthorized()),
    };
    let user = impersonation::impersonate(&state.authorizer, user, req.headers())?;
    authz::authorize(&state.authorizer, &user, info)?;
    let long_running = info.verb == "watch";
    let mutating = matches!(info.verb.as_str(), "create" | "update" | "patch" | "delete" | "deletecollection");
    let _slot = if long_running {
        None
    } else {
        let slots = if mutating { &state.mutating_slots } else { &state.readonly_slots };
        Some(slots.try_acquire().map_err(|_| ApiError::too_many_requests())?)
    };
    let work = async {
        if !info.is_resource {
            return non_resource(state, info, &req).await;
        }
        resource(state, &user, info, query, req).await
    };
    if long_running {
        return work.await;
    }
    // kube-apiserver's timeout filter: the client hears 504 rather than waiting forever
    // (e.g. while etcd does not answer).
    tokio::time::timeout(state.request_timeout, work).await.unwrap_or_else(|_| {
        Err(ApiError::timeout("Timeout: request did not complete within requested timeout - context deadline exceeded"))
    })
}

/// Health, version, metrics and discovery.
async fn non_resource(state: &Arc<State>, info: &RequestInfo, req: &Request<Incoming>) -> Result<Response<Body>> {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return Err(ApiError::method_not_supported("", "", req.method().as_str()));
    }
    let path = info.path.trim_end_matches('/');
    let accept = req.headers().get(header::ACCEPT).and_then(|h| h.to_str().ok());
    match path {
        "/healthz" | "/livez" | "/healthz/ping" | "/livez/ping" => return Ok(text_response(StatusCode::OK, "ok")),
        "/readyz" | "/healthz/etcd" | "/livez/etcd" | "/readyz/etcd" => {
            // A stalled etcd must not stall the probe: two seconds, then not ready.
            let etcd_ok =
                matches!(tokio::time::timeout(Duration::from_secs(2), state.store.storage.ping()).await, Ok(Ok(())));
            let failed = if !etcd_ok {
                Some("etcd")
            } else if *state.shutdown.borrow() {
                Some("shutdown")
            } else {
                None
            };
            return Ok(match failed {
                None => text_response(StatusCode::OK, "ok"),
                Some(check) => text_response(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    format!("[-]{check} failed: reason withheld\nreadyz check failed"),
                ),
            });
        }
        "/version" => return Ok(object_response(StatusCode::OK, Output::Json, &discovery::version())),
        "/.well-known/openid-configuration" => {
            return Ok(object_response(StatusCode::OK, Output::Json, &state.tokens.openid_configuration()))
        }
        "/openid/v1/jwks" => return Ok(object_response(StatusCode::OK, Output::Json, &state.tokens.jwks())),
        "/metrics" => {
            let mut resp = text_response(StatusCode::OK, state.metrics.render());
            resp.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"));
            return Ok(resp);
        }
        _ => {}
    }
    let snapshot = state.store.resources.snapshot();
    if let Some(answer) = openapi::serve(&snapshot, path, req.uri().query(), req.headers()) {
        return answer;
    }
    let offers = Offers { table: false, discovery: path == "/api" || path == "/apis" };
    let output = negotiate::negotiate(accept, offers)?;
    let doc = match (path, output) {
        ("/api", Output::Discovery(v)) => discovery::aggregated(&snapshot, true, v),
        ("/apis", Output::Discovery(v)) => discovery::aggregated(&snapshot, false, v),
        ("/api", _) => discovery::api_versions(&state.server_address),
        ("/apis", _) => discovery::api_groups(&snapshot),
        _ => {
            let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
            match parts.as_slice() {
                ["api", version] => discovery::resource_list(&snapshot, "", version),
                ["apis", group] => discovery::api_group(&snapshot, group),
                ["apis", group, version] => discovery::resource_list(&snapshot, group, version),
                _ => None,
            }
            .ok_or_else(ApiError::no_route)?
        }
    };
    Ok(object_response(StatusCode::OK, output, &doc))
}

async fn read_body(req: Request<Incoming>) -> Result<(Option<String>, Bytes)> {
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|h| h.to_str().ok()).map(str::to_string);
    // The body is read up to the limit before answering 413, as kube's MaxBytesReader does:
    // answering before reading makes HTTP/2 clients see a reset stream instead of the Status.
    let body = Limited::new(req.into_body(), MAX_BODY)
        .collect()
        .await
        .map_err(|e| {
            if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() {
                ApiError::too_large(MAX_BODY)
            } else {
                ApiError::bad_request(format!("failed to read the request body: {e}"))
            }
        })?
        .to_bytes();
    Ok((content_type, body))
}

/// Reads a body and decodes it by its Content-Type.
async fn read_object(req: Request<Incoming>) -> Result<Value> {
    let (content_type, body) = read_body(req).await?;
    negotiate::decode_body(content_type.as_deref(), &body)
}

/// A whole object sent to create or update, and the keys a JSON body repeated.
async fn read_written_object(req: Request<Incoming>, write: &WriteOptions) -> Result<(Value, WriteOptions)> {
    let (content_type, body) = read_body(req).await?;
    let obj = negotiate::decode_body(content_type.as_deref(), &body)?;
    let json = content_type.as_deref().is_none_or(|ct| ct.starts_with("application/json"));
    let duplicates = if json { unknown_fields::duplicates(&body) } else { Vec::new() };
    Ok((obj, WriteOptions { duplicates, ..write.clone() }))
}

fn dry_run(query: &HashMap<String, String>) -> Result<bool> {
    match query.get("dryRun").map(String::as_str) {
        None | Some("") => Ok(false),
        Some("All") => Ok(true),
        Some(other) => Err(ApiError::bad_request(format!("Invalid dryRun value: {other:?}: valid values are \"All\""))),
    }
}

fn list_options(query: &HashMap<String, String>) -> Result<ListOptions> {
    let limit = match query.get("limit").filter(|l| !l.is_empty()) {
        Some(l) => l.parse::<i64>().map_err(|_| ApiError::bad_request(format!("invalid limit: {l:?}")))?,
        None => 0,
    };
    Ok(ListOptions {
        labels: LabelSelector::parse(query.get("labelSelector").map(String::as_str).unwrap_or(""))?,
        fields: FieldSelector::parse(query.get("fieldSelector").map(String::as_str).unwrap_or(""))?,
        limit,
        continue_token: query.get("continue").filter(|c| !c.is_empty()).cloned(),
        resource_version: query.get("resourceVersion").filter(|c| !c.is_empty()).cloned(),
        resource_version_match: query.get("resourceVersionMatch").filter(|c| !c.is_empty()).cloned(),
    })
}

fn delete_options(query: &HashMap<String, String>, body: &Bytes, content_type: Option<&str>) -> Result<DeleteOptions> {
    let body: Value = if body.is_empty() { json!({}) } else { negotiate::decode_body(content_type, body)? };
    let mut opts = DeleteOptions { dry_run: dry_run(query)?, ..Default::default() };
    if body.get("dryRun").and_then(Value::as_array).is_some_and(|a| a.iter().any(|v| v == "All")) {
        opts.dry_run = true;
    }
    opts.grace_period = match query.get("gracePeriodSeconds") {
        Some(g) => Some(g.parse().map_err(|_| ApiError::bad_request(format!("invalid gracePeriodSeconds: {g:?}")))?),
        None => body.get("gracePeriodSeconds").and_then(Value::as_i64),
    };
    let policy = query
        .get("propagationPolicy")
        .cloned()
        .or_else(|| body.get("propagationPolicy").and_then(Value::as_str).map(str::to_string));
    opts.propagation = match policy {
        Some(p) => Some(Propagation::parse(&p).ok_or_else(|| {
            ApiError::invalid(
                "meta.k8s.io",
                "DeleteOptions",
                "",
                vec![crate::error::Cause::not_supported(
                    "propagationPolicy",
                    &json!(p),
                    &["Foreground", "Background", "Orphan", "nil"],
                )],
            )
        })?),
        None => {
            let orphan = query
                .get("orphanDependents")
                .map(|o| o == "true")
                .or_else(|| body.get("orphanDependents").and_then(Value::as_bool));
            orphan.map(|o| if o { Propagation::Orphan } else { Propagation::Background })
        }
    };
    opts.uid = body.pointer("/preconditions/uid").and_then(Value::as_str).map(str::to_string);
    opts.resource_version = body.pointer("/preconditions/resourceVersion").and_then(Value::as_str).map(str::to_string);
    Ok(opts)
}

/// Answers an object or list in the negotiated representation (JSON, YAML, Table, metadata).
fn render(
    def: &ResourceDef,
    version: &str,
    output: Output,
    status: StatusCode,
    value: Value,
    query: &HashMap<String, String>,
) -> Response<Body> {
    let is_list =
        value.get("items").is_some() && value.get("kind").and_then(Value::as_str).is_some_and(|k| k.ends_with("List"));
    let is_status = value.get("kind") == Some(&json!("Status"));
    match output {
        Output::Table(tv) if !is_status => {
            let include = IncludeObject::parse(query.get("includeObject").map(String::as_str));
            let (meta, items) = if is_list {
                (
                    value.get("metadata").cloned().unwrap_or_else(|| json!({})),
                    value.get("items").and_then(Value::as_array).cloned().unwrap_or_default(),
                )
            } else {
                (
                    json!({"resourceVersion": value.pointer("/metadata/resourceVersion").cloned().unwrap_or(Value::Null)}),
                    vec![value],
                )
            };
            object_response(status, output, &table::to_table(def, version, tv, meta, &items, include, true))
        }
        Output::PartialMetadata(_) if !is_status => {
            if is_list {
                let meta = value.get("metadata").cloned().unwrap_or_else(|| json!({}));
                let items = value.get("items").and_then(Value::as_array).cloned().unwrap_or_default();
                object_response(status, output, &table::partial_list(meta, &items))
            } else {
                object_response(status, output, &table::partial(&value))
            }
        }
        Output::Yaml => object_response(status, Output::Yaml, &value),
        _ => object_response(status, Output::Json, &value),
    }
}

async fn resource(
    state: &Arc<State>,
    user: &User,
    info: &RequestInfo,
    query: &HashMap<String, String>,
    req: Request<Incoming>,
) -> Result<Response<Body>> {
    let snapshot = state.store.resources.snapshot();
    let def = snapshot.lookup(&info.group, &info.version, &info.resource).cloned().ok_or_else(ApiError::no_route)?;
    if !info.subresource.is_empty() && !def.has_subresource(&info.subresource) {
        return Err(ApiError::no_route());
    }
    if def.namespaced && info.namespace.is_empty() && !info.name.is_empty() {
        return Err(ApiError::no_route());
    }
    let verb = info.verb.as_str();
    let sub_verbs = def.subresources.iter().find(|s| s.name == info.subresource).map(|s| s.verbs.clone());
    let allowed = match &sub_verbs {
        Some(verbs) => verbs.iter().any(|v| v == verb),
        None => def.supports(verb),
    };
    if !allowed {
        return Err(ApiError::method_not_supported(&def.group, &def.resource, verb));
    }
    let accept = req.headers().get(header::ACCEPT).and_then(|h| h.to_str().ok()).map(str::to_string);
    let output = negotiate::negotiate(accept.as_deref(), Offers { table: true, discovery: false })?;
    let store = &state.store;
    let version = info.version.as_str();
    let ns = if def.namespaced { info.namespace.as_str() } else { "" };
    let ns_filter = (!ns.is_empty()).then_some(ns);
    let options_kind = match verb {
        "create" => "CreateOptions",
        "update" => "UpdateOptions",
        _ => "PatchOptions",
    };
    let header_text = |name| req.headers().get(name).and_then(|h: &HeaderValue| h.to_str().ok()).map(str::to_string);
    let manager = match verb {
        "create" | "update" | "patch" => {
            let apply = verb == "patch"
                && header_text(header::CONTENT_TYPE).is_some_and(|ct| ct.starts_with("application/apply-patch"));
            Some(crate::fieldmanager::manager(
                query.get("fieldManager").map(String::as_str),
                header_text(header::USER_AGENT).as_deref(),
                apply,
                query.get("force").map(String::as_str),
            )?)
        }
        _ => None,
    };
    let write = WriteOptions {
        manager,
        duplicates: Vec::new(),
        dry_run: dry_run(query)?,
        field_validation: FieldValidation::parse(query.get("fieldValidation").map(String::as_str), options_kind)?,
        warnings: Arc::default(),
        patched: false,
        check: (def.group == crate::rbac::GROUP).then(|| {
            let (authorizer, writer) = (state.authorizer.clone(), user.clone());
            WriteCheck(Arc::new(move |def: &ResourceDef, obj: &Value| authorizer.check_escalation(&writer, def, obj)))
        }),
    };
    let sub = (!info.subresource.is_empty()).then_some(info.subresource.as_str());
    let mut response = match (verb, sub) {
        ("get", None | Some("status")) => {
            let obj = store.get(&def, version, ns, &info.name).await?;
            Ok(render(&def, version, output, StatusCode::OK, obj, query))
        }
        ("get", Some("scale")) => Ok(object_response(
            StatusCode::OK,
            Output::Json,
            &subresources::get_scale(store, &def, version, ns, &info.name).await?,
        )),
        ("list", None) => {
            let options = list_options(query)?;
            let text = match output {
                Output::Json => store.list_json(&def, version, ns_filter, &options).await?,
                _ => None,
            };
            match text {
                Some(body) => Ok(encoded_response(StatusCode::OK, output, body)),
                None => {
                    let list = store.list(&def, version, ns_filter, &options).await?;
                    Ok(render(&def, version, output, StatusCode::OK, list, query))
                }
            }
        }
        ("watch", None) => watch_response(state, def, version, ns_filter, query, output).await,
        ("create", None) => {
            let (obj, write) = read_written_object(req, &write).await?;
            let created = if def.group.is_empty() && def.resource == "bindings" {
                subresources::bind(store, ns, &obj, &write).await?
            } else if def.kind == "TokenReview" {
                let token = obj.pointer("/spec/token").and_then(Value::as_str).unwrap_or("");
                state.tokens.review(store, state.authn.static_user(token), obj).await?
            } else if !def.is_stored() {
                subresources::review(&state.authorizer, &def, user, ns, obj)?
            } else {
                store.create(&def, version, ns, obj, &write).await?
            };
            Ok(render(&def, version, output, StatusCode::CREATED, created, query))
        }
        ("create", Some("binding")) => {
            let obj = read_object(req).await?;
            if crate::registry::meta::meta_str(&obj, "name") != info.name {
                return Err(ApiError::bad_request("name in URL does not match name in Binding object"));
            }
            Ok(object_response(StatusCode::CREATED, Output::Json, &subresources::bind(store, ns, &obj, &write).await?))
        }
        ("create", Some("token")) => {
            let obj = read_object(req).await?;
            let answer = state.tokens.request(store, ns, &info.name, obj).await?;
            Ok(object_response(StatusCode::CREATED, Output::Json, &answer))
        }
        ("create", Some("eviction")) => {
            let d = DeleteOptions { dry_run: write.dry_run, ..Default::default() };
            store.delete(&def, version, ns, &info.name, &d).await?;
            let status =
                json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201});
            Ok(object_response(StatusCode::CREATED, Output::Json, &status))
        }
        ("update", None | Some("status")) => {
            let (obj, write) = read_written_object(req, &write).await?;
            let updated = store.update(&def, version, ns, &info.name, obj, sub, &write).await?;
            Ok(render(&def, version, output, StatusCode::OK, updated, query))
        }
        ("update", Some("finalize")) => {
            let obj = read_object(req).await?;
            Ok(object_response(
                StatusCode::OK,
                Output::Json,
                &subresources::finalize_namespace(store, &def, &info.name, &obj, &write).await?,
            ))
        }
        ("update", Some("scale")) => {
            let obj = read_object(req).await?;
            Ok(object_response(
                StatusCode::OK,
                Output::Json,
                &subresources::update_scale(store, &def, version, ns, &info.name, &obj, &write).await?,
            ))
        }
        ("patch", None | Some("status") | Some("scale")) => {
            let ct = req.headers().get(header::CONTENT_TYPE).and_then(|h| h.to_str().ok()).unwrap_or("").to_string();
            let patch_type = PatchType::from_content_type(&ct)
                .ok_or_else(|| ApiError::unsupported_media_type(&crate::patch::accepted(&def)))?;
            if patch_type == PatchType::Strategic && def.crd.is_some() {
                return Err(ApiError::unsupported_media_type(&crate::patch::accepted(&def)));
            }
            // The patch media types decode as JSON, apply patches as YAML (negotiate::decode_body).
            let patch = read_object(req).await?;
            let patched = if sub == Some("scale") {
                subresources::patch_scale(store, &def, version, ns, &info.name, patch_type, &patch, &write).await?
            } else {
                store.patch(&def, version, ns, &info.name, patch_type, &patch, sub, &write).await?
            };
            Ok(render(&def, version, output, StatusCode::OK, patched, query))
        }
        ("delete", None) => {
            let (ct, body) = read_body(req).await?;
            let opts = delete_options(query, &body, ct.as_deref())?;
            let out = store.delete(&def, version, ns, &info.name, &opts).await?;
            Ok(render(&def, version, output, StatusCode::OK, out, query))
        }
        ("deletecollection", None) => {
            let (ct, body) = read_body(req).await?;
            let opts = delete_options(query, &body, ct.as_deref())?;
            let out = store.delete_collection(&def, version, ns_filter, &list_options(query)?, &opts).await?;
            Ok(render(&def, version, output, StatusCode::OK, out, query))
        }
        ("list", Some(_)) | ("get", Some(_)) | ("create", Some(_)) | ("update", Some(_)) => {
            Err(ApiError::method_not_supported(&def.group, &format!("{}/{}", def.resource, info.subresource), verb))
        }
        _ => Err(ApiError::method_not_supported(&def.group, &def.resource, verb)),
    }?;
    for warning in write.warnings.take() {
        // RFC 7234 warn-text, as kube writes it: `299 - "unknown field \"spec.x\""`.
        let text = format!("299 - \"{}\"", warning.replace('\\', "\\\\").replace('"', "\\\""));
        if let Ok(value) = HeaderValue::from_str(&text) {
            response.headers_mut().append(header::WARNING, value);
        }
    }
    Ok(response)
}

/// Streams watch events as JSON lines (chunked on HTTP/1.1, DATA frames on HTTP/2).
async fn watch_response(
    state: &Arc<State>,
    def: Arc<ResourceDef>,
    version: &str,
    namespace: Option<&str>,
    query: &HashMap<String, String>,
    output: Output,
) -> Result<Response<Body>> {
    let timeout = match query.get("timeoutSeconds").filter(|t| !t.is_empty()) {
        Some(t) => {
            Duration::from_secs(t.parse().map_err(|_| ApiError::bad_request(format!("invalid timeoutSeconds: {t:?}")))?)
        }
        None => {
            // kube spreads watch lengths between the minimum and twice it.
            let min = state.min_request_timeout;
            Duration::from_secs(min + rand::random::<u64>() % min.max(1))
        }
    };
    let opts = watch::WatchOptions {
        list: list_options(query)?,
        allow_bookmarks: matches!(query.get("allowWatchBookmarks").map(String::as_str), Some("true" | "1")),
        send_initial_events: query.get("sendInitialEvents").map(|s| s == "true"),
        timeout,
        bookmark_every: Duration::from_secs(30),
    };
    let rx = watch::start(state.store.clone(), def.clone(), version.to_string(), namespace.map(str::to_string), opts)
        .await?;
    let mut shutdown = state.shutdown.clone();
    let version = version.to_string();
    let include = IncludeObject::parse(query.get("includeObject").map(String::as_str));
    let mut first = true;
    let events = tokio_stream::wrappers::ReceiverStream::new(rx)
        .take_until(async move {
            let _ = shutdown.wait_for(|down| *down).await;
        })
        .map(move |ev| {
            let object = match output {
                Output::Table(tv) if ev.kind != "ERROR" && ev.kind != "BOOKMARK" => {
                    let meta = json!({"resourceVersion": ev.object.pointer("/metadata/resourceVersion").cloned().unwrap_or(Value::Null)});
                    let t = table::to_table(&def, &version, tv, meta, std::slice::from_ref(&ev.object), include, first);
                    first = false;
                    t
                }
                Output::PartialMetadata(_) if ev.kind != "ERROR" => table::partial(&ev.object),
                _ => ev.object,
            };
            let mut line = serde_json::to_vec(&json!({"type": ev.kind, "object": object})).unwrap_or_default();
            line.push(b'\n');
            Ok::<_, Infallible>(Frame::data(Bytes::from(line)))
        });
    let mut resp = Response::new(BodyExt::boxed(StreamBody::new(events)));
    let ct = match output {
        Output::Table(_) | Output::PartialMetadata(_) => negotiate::content_type(output),
        _ => "application/json".to_string(),
    };
    if let Ok(v) = HeaderValue::from_str(&ct) {
        resp.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_decoding() {
        let q = parse_query(Some("labelSelector=app%3Dweb%2Ctier+in+(a)&limit=5&x"));
        assert_eq!(q["labelSelector"], "app=web,tier in (a)");
        assert_eq!(q["limit"], "5");
        assert_eq!(q["x"], "");
        assert_eq!(decode("%zz%4"), "%zz%4");
    }
}
