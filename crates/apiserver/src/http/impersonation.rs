//! Impersonation (`kubectl --as`, `--as-group`, `--as-uid`): the `Impersonate-*` headers make
//! a request run as another user, when the requester may `impersonate` each part of that
//! identity (kube's impersonation filter).

use http::HeaderMap;

use crate::error::{ApiError, Result};
use crate::http::authn::User;
use crate::http::authz::denied;
use crate::rbac::rules::Request;
use crate::rbac::Authorizer;

const AUTHENTICATION: &str = "authentication.k8s.io";

fn values(headers: &HeaderMap, name: &str) -> Vec<String> {
    headers.get_all(name).iter().filter_map(|v| v.to_str().ok()).map(str::to_string).collect()
}

/// The user the request runs as: `user` itself without impersonation headers.
pub fn impersonate(authorizer: &Authorizer, user: User, headers: &HeaderMap) -> Result<User> {
    let name = values(headers, "impersonate-user").into_iter().next();
    let groups = values(headers, "impersonate-group");
    let uid = values(headers, "impersonate-uid").into_iter().next();
    let extras: Vec<(String, String)> = headers
        .iter()
        .filter_map(|(k, v)| {
            let key = k.as_str().strip_prefix("impersonate-extra-")?;
            Some((key.to_string(), v.to_str().ok()?.to_string()))
        })
        .collect();
    let Some(name) = name else {
        if groups.is_empty() && uid.is_none() && extras.is_empty() {
            return Ok(user);
        }
        return Err(ApiError::internal("requested impersonation without impersonating a user"));
    };
    let check = |group: &str, resource: &str, subresource: &str, namespace: &str, target: &str| {
        let req =
            Request { verb: "impersonate", is_resource: true, group, resource, subresource, name: target, path: "" };
        match authorizer.decide(&user, namespace, &req) {
            Some(_) => Ok(()),
            None => Err(denied(&user, "impersonate", group, resource, subresource, namespace, target)),
        }
    };
    let service_account = name.strip_prefix("system:serviceaccount:").and_then(|rest| rest.split_once(':'));
    match service_account {
        Some((namespace, account)) => check("", "serviceaccounts", "", namespace, account)?,
        None => check("", "users", "", "", &name)?,
    }
    for group in &groups {
        check("", "groups", "", "", group)?;
    }
    if let Some(uid) = &uid {
        check(AUTHENTICATION, "uids", "", "", uid)?;
    }
    for (key, value) in &extras {
        check(AUTHENTICATION, "userextras", key, "", value)?;
    }
    let mut as_groups = groups;
    if as_groups.is_empty() {
        if let Some((namespace, _)) = service_account {
            as_groups = vec!["system:serviceaccounts".into(), format!("system:serviceaccounts:{namespace}")];
        }
    }
    let unauthenticated = as_groups.iter().any(|g| g == "system:authenticated" || g == "system:unauthenticated");
    if name != "system:anonymous" && !unauthenticated {
        as_groups.push("system:authenticated".into());
    }
    Ok(User { name, uid: uid.unwrap_or_default(), groups: as_groups })
}
