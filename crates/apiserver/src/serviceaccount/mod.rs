//! Service account tokens as kube-apiserver issues and checks them:
//! - `TokenRequest` (`serviceaccounts/<name>/token`, `kubectl create token`) signs a JWT for a
//!   service account, with audiences, an expiry, and optionally bound to a Pod, Secret or Node;
//! - a bearer token that is such a JWT authenticates as `system:serviceaccount:<ns>:<name>`
//!   while it is unexpired, meant for this server's audiences, and its service account (and
//!   bound object) still exist with the same UIDs;
//! - `TokenReview` tells another component what a token is worth;
//! - `/.well-known/openid-configuration` and `/openid/v1/jwks` publish the issuer and key, so
//!   others can check tokens without asking.

pub mod jwt;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::error::{ApiError, Cause, Result};
use crate::http::authn::User;
use crate::registry::meta::meta_str;
use crate::registry::store::Store;
use jwt::SigningKey;

/// kube-apiserver's default issuer when none is configured here.
pub const DEFAULT_ISSUER: &str = "https://kubernetes.default.svc.cluster.local";
/// How long a checked token is believed without looking again (kube's token cache TTL).
const CACHE_TTL: Duration = Duration::from_secs(10);
const CACHE_MAX: usize = 10_000;

/// The issuer of this server's service account tokens.
#[derive(Debug)]
pub struct Tokens {
    pub issuer: String,
    /// The audiences a token must name one of to authenticate here (`--api-audiences`).
    pub audiences: Vec<String>,
    key: SigningKey,
    jwks_uri: String,
    /// Tokens checked lately: SHA-256 of the token, the user, and until when.
    cache: Mutex<HashMap<[u8; 32], (User, Instant)>>,
}

/// Why a token does not authenticate, in kube's words.
pub type Invalid = String;

fn now_unix() -> i64 {
    chrono::Utc::now().timestamp()
}

fn rfc3339(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0).unwrap_or_default().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

impl Tokens {
    pub fn new(issuer: String, audiences: Vec<String>, key: SigningKey, server_address: &str) -> Self {
        let audiences = if audiences.is_empty() { vec![issuer.clone()] } else { audiences };
        Tokens {
            issuer,
            audiences,
            key,
            jwks_uri: format!("https://{server_address}/openid/v1/jwks"),
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// Answers a TokenRequest for service account `name` in `namespace`.
    pub async fn request(&self, store: &Store, namespace: &str, name: &str, mut req: Value) -> Result<Value> {
        let spec = req.get("spec").cloned().unwrap_or(Value::Null);
        let expiration = spec.get("expirationSeconds").and_then(Value::as_i64).unwrap_or(3600);
        let invalid = |field: &str, value: Value, detail: &str| {
            ApiError::invalid(
                "authentication.k8s.io",
                "TokenRequest",
                name,
                vec![Cause::invalid(field, &value, detail)],
            )
        };
        if expiration < 600 {
            return Err(invalid(
                "spec.expirationSeconds",
                json!(expiration),
                "may not specify a duration less than 10 minutes",
            ));
        }
        if expiration > 1 << 32 {
            return Err(invalid(
                "spec.expirationSeconds",
                json!(expiration),
                "may not specify a duration larger than 2^32 seconds",
            ));
        }
        let account = get(store, "serviceaccounts", namespace, name).await?;
        let mut identity = json!({
            "namespace": namespace,
            "serviceaccount": {"name": name, "uid": meta_str(&account, "uid")},
        });
        if let Some(bound) = spec.get("boundObjectRef").filter(|b| b.is_object()) {
            let kind = bound.get("kind").and_then(Value::as_str).unwrap_or("");
            let object_name = bound.get("name").and_then(Value::as_str).unwrap_or("");
            let (resource, field, scope) = match (bound.get("apiVersion").and_then(Value::as_str).unwrap_or("v1"), kind)
            {
                ("v1", "Pod") => ("pods", "pod", namespace),
                ("v1", "Secret") => ("secrets", "secret", namespace),
                ("v1", "Node") => ("nodes", "node", ""),
                _ => return Err(ApiError::bad_request(format!("cannot bind token for object of kind {kind:?}"))),
            };
            let object = get(store, resource, scope, object_name).await?;
            let uid = meta_str(&object, "uid");
            if kind == "Pod" {
                let runs_as = object.pointer("/spec/serviceAccountName").and_then(Value::as_str).unwrap_or("default");
                if runs_as != name {
                    return Err(ApiError::bad_request(format!(
                        "cannot bind token for serviceaccount {name:?} to pod running with different serviceaccount name."
                    )));
                }
            }
            if let Some(asked) = bound.get("uid").and_then(Value::as_str).filter(|u| !u.is_empty() && *u != uid) {
                return Err(ApiError::conflict(
                    "",
                    kind,
                    object_name,
                    &format!("the UID in the bound object reference ({asked}) does not match the UID in record. The object might have been deleted and then recreated"),
                ));
            }
            identity[field] = json!({"name": object_name, "uid": uid});
        }
        let audiences: Vec<String> = match spec.get("audiences").and_then(Value::as_array) {
            Some(list) if !list.is_empty() => list.iter().filter_map(Value::as_str).map(str::to_string).collect(),
            _ => self.audiences.clone(),
        };
        let now = now_unix();
        let claims = json!({
            "aud": audiences,
            "exp": now + expiration,
            "iat": now,
            "iss": self.issuer,
            "jti": uuid::Uuid::new_v4().to_string(),
            "kubernetes.io": identity,
            "nbf": now,
            "sub": format!("system:serviceaccount:{namespace}:{name}"),
        });
        let token = self.key.sign(&claims).map_err(|e| ApiError::internal(e.to_string()))?;
        req["metadata"] = json!({"name": name, "namespace": namespace, "creationTimestamp": null});
        req["spec"]["audiences"] = json!(audiences);
        req["spec"]["expirationSeconds"] = json!(expiration);
        req["status"] = json!({"token": token, "expirationTimestamp": rfc3339(now + expiration)});
        Ok(req)
    }

    /// The service account a bearer token names, when it is valid for one of `audiences`
    /// (this server's when `None`).
    pub async fn authenticate(
        &self,
        store: &Store,
        token: &str,
        audiences: Option<&[String]>,
    ) -> std::result::Result<User, Invalid> {
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        if audiences.is_none() {
            if let Some((user, until)) = self.cache.lock().ok().and_then(|c| c.get(&digest).cloned()) {
                if Instant::now() < until {
                    return Ok(user);
                }
            }
        }
        let claims = self.key.verify(token).ok_or("invalid bearer token, signature is invalid")?;
        if claims["iss"] != self.issuer.as_str() {
            return Err("invalid bearer token, token issuer is not this server".into());
        }
        let wanted = audiences.unwrap_or(&self.audiences);
        let token_audiences: Vec<&str> = match &claims["aud"] {
            Value::String(one) => vec![one.as_str()],
            Value::Array(list) => list.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        if !token_audiences.iter().any(|a| wanted.iter().any(|w| w == a)) {
            return Err(format!("invalid bearer token, token audiences {token_audiences:?} is invalid for the target audiences {wanted:?}"));
        }
        let now = now_unix();
        if claims["exp"].as_i64().is_none_or(|exp| exp <= now) {
            return Err("invalid bearer token, service account token has expired".into());
        }
        if claims["nbf"].as_i64().is_some_and(|nbf| nbf > now + 60) {
            return Err("invalid bearer token, service account token is not valid yet".into());
        }
        let identity = &claims["kubernetes.io"];
        let namespace = identity["namespace"].as_str().unwrap_or("");
        let invalidated = || Invalid::from("invalid bearer token, Token has been invalidated");
        for (field, resource, scope) in [
            ("serviceaccount", "serviceaccounts", namespace),
            ("pod", "pods", namespace),
            ("secret", "secrets", namespace),
            ("node", "nodes", ""),
        ] {
            let Some(bound) = identity.get(field) else { continue };
            let name = bound["name"].as_str().unwrap_or("");
            let object = get(store, resource, scope, name).await.map_err(|_| invalidated())?;
            if meta_str(&object, "uid") != bound["uid"].as_str().unwrap_or("")
                || (field == "pod" && object.pointer("/metadata/deletionTimestamp").is_some())
            {
                return Err(invalidated());
            }
        }
        let account = identity["serviceaccount"]["name"].as_str().unwrap_or("");
        let user = User {
            name: format!("system:serviceaccount:{namespace}:{account}"),
            uid: identity["serviceaccount"]["uid"].as_str().unwrap_or("").to_string(),
            groups: vec![
                "system:serviceaccounts".into(),
                format!("system:serviceaccounts:{namespace}"),
                "system:authenticated".into(),
            ],
        };
        if audiences.is_none() {
            if let Ok(mut cache) = self.cache.lock() {
                if cache.len() >= CACHE_MAX {
                    cache.clear();
                }
                cache.insert(digest, (user.clone(), Instant::now() + CACHE_TTL));
            }
        }
        Ok(user)
    }

    /// `/.well-known/openid-configuration`.
    pub fn openid_configuration(&self) -> Value {
        json!({
            "issuer": self.issuer,
            "jwks_uri": self.jwks_uri,
            "response_types_supported": ["id_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["ES256"],
        })
    }

    /// `/openid/v1/jwks`.
    pub fn jwks(&self) -> Value {
        json!({"keys": [self.key.jwk()]})
    }
}

/// An object this server stores, by resource (core v1), namespace and name.
async fn get(store: &Store, resource: &str, namespace: &str, name: &str) -> Result<Value> {
    store.get(&*store.def("", "v1", resource)?, "v1", namespace, name).await
}

impl Tokens {
    /// Answers a TokenReview. `known` is the user when the token is one of the static tokens.
    pub async fn review(&self, store: &Store, known: Option<User>, mut obj: Value) -> Result<Value> {
        let token = obj.pointer("/spec/token").and_then(Value::as_str).unwrap_or("").to_string();
        if token.is_empty() {
            return Err(ApiError::bad_request("token is required for TokenReview in authentication"));
        }
        let asked: Vec<String> = obj
            .pointer("/spec/audiences")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
            .unwrap_or_default();
        let audiences = if asked.is_empty() { self.audiences.clone() } else { asked };
        let checked = match known {
            Some(user) => Ok(user),
            None => self.authenticate(store, &token, Some(&audiences)).await,
        };
        obj["status"] = match checked {
            Ok(user) => json!({
                "authenticated": true,
                "user": {"username": user.name, "uid": user.uid, "groups": user.groups},
                "audiences": audiences,
            }),
            Err(why) => json!({"user": {}, "error": format!("[{why}]")}),
        };
        if obj.get("metadata").is_none() {
            obj["metadata"] = json!({"creationTimestamp": null});
        }
        Ok(obj)
    }
}
