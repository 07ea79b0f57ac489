//! Authorization of each request through the server's authorizer (RBAC, or AlwaysAllow), and
//! kube-apiserver's 403 wording when it says no. Health and version are open to everyone and
//! discovery to every authenticated user even before the bootstrap policy that grants them
//! (system:public-info-viewer, system:discovery) has been read.

use crate::error::ApiError;
use crate::http::authn::User;
use crate::http::request_info::RequestInfo;
use crate::rbac::rules::Request;
use crate::rbac::Authorizer;

/// Paths every user, even anonymous, may GET (system:public-info-viewer).
const PUBLIC: &[&str] = &["/healthz", "/livez", "/readyz", "/version", "/version/"];

/// Paths every authenticated user may GET (system:discovery).
fn is_discovery(path: &str) -> bool {
    path == "/api"
        || path == "/apis"
        || path.starts_with("/api/")
        || path.starts_with("/apis/")
        || path.starts_with("/openapi")
}

fn is_health(path: &str) -> bool {
    PUBLIC.contains(&path) || ["/healthz/", "/livez/", "/readyz/"].iter().any(|p| path.starts_with(p))
}

/// kube's 403 for `user` not allowed `verb` on a resource (`pods`, `pods/log`) in `namespace`
/// (cluster scope when empty).
pub fn denied(
    user: &User,
    verb: &str,
    group: &str,
    resource: &str,
    subresource: &str,
    namespace: &str,
    name: &str,
) -> ApiError {
    let shown = if subresource.is_empty() { resource.to_string() } else { format!("{resource}/{subresource}") };
    let scope = if namespace.is_empty() {
        "at the cluster scope".to_string()
    } else {
        format!("in the namespace {namespace:?}")
    };
    let why = format!("User {:?} cannot {verb} resource {shown:?} in API group {group:?} {scope}", user.name);
    ApiError::forbidden(group, resource, name, &why)
}

/// Allows or denies a request; the error is the 403 Status to answer.
pub fn authorize(authorizer: &Authorizer, user: &User, info: &RequestInfo) -> Result<(), ApiError> {
    let req = Request {
        verb: &info.verb,
        is_resource: info.is_resource,
        group: &info.group,
        resource: &info.resource,
        subresource: &info.subresource,
        name: &info.name,
        path: &info.path,
    };
    if authorizer.decide(user, &info.namespace, &req).is_some() {
        return Ok(());
    }
    if !info.is_resource {
        if info.verb == "get" && (is_health(&info.path) || (!user.is_anonymous() && is_discovery(&info.path))) {
            return Ok(());
        }
        let why = format!("User {:?} cannot {} path {:?}", user.name, info.verb, info.path);
        return Err(ApiError::forbidden("", "", "", &why));
    }
    Err(denied(user, &info.verb, &info.group, &info.resource, &info.subresource, &info.namespace, &info.name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rbac::policy::Policy;
    use http::Method;
    use serde_json::json;
    use std::sync::Arc;

    fn user(groups: &[&str]) -> User {
        User { name: "x".into(), uid: String::new(), groups: groups.iter().map(|g| g.to_string()).collect() }
    }

    #[test]
    fn masters_may_do_anything_others_get_kube_messages() {
        let authorizer = Authorizer { mode: crate::rbac::Mode::Rbac, policy: Arc::new(Policy::default()) };
        let info = RequestInfo::parse(&Method::GET, "/api/v1/namespaces/y/pods", false);
        assert!(authorize(&authorizer, &user(&["system:masters"]), &info).is_ok());
        let err = authorize(&authorizer, &user(&["system:authenticated"]), &info).unwrap_err();
        assert_eq!(
            err.message,
            r#"pods is forbidden: User "x" cannot list resource "pods" in API group "" in the namespace "y""#
        );
        let info = RequestInfo::parse(&Method::GET, "/apis/apps/v1/deployments", false);
        let err = authorize(&authorizer, &user(&[]), &info).unwrap_err();
        assert!(err.message.ends_with(r#"in API group "apps" at the cluster scope"#));
        let info = RequestInfo::parse(&Method::GET, "/version", false);
        assert!(authorize(&authorizer, &User::anonymous(), &info).is_ok());
        let info = RequestInfo::parse(&Method::GET, "/apis", false);
        assert!(authorize(&authorizer, &User::anonymous(), &info).is_err());
        assert!(authorize(&authorizer, &user(&["system:authenticated"]), &info).is_ok());
    }

    #[test]
    fn role_bindings_grant_in_their_namespace_only() {
        let policy = Policy::default();
        policy.note(
            "roles/team/reader",
            Some(&json!({"rules": [{"verbs": ["get", "list"], "apiGroups": [""], "resources": ["pods"]}]})),
        );
        policy.note(
            "rolebindings/team/reader",
            Some(&json!({"roleRef": {"kind": "Role", "name": "reader"}, "subjects": [{"kind": "User", "name": "x"}]})),
        );
        let authorizer = Authorizer { mode: crate::rbac::Mode::Rbac, policy: Arc::new(policy) };
        let x = user(&["system:authenticated"]);
        assert!(authorize(&authorizer, &x, &RequestInfo::parse(&Method::GET, "/api/v1/namespaces/team/pods", false))
            .is_ok());
        assert!(authorize(&authorizer, &x, &RequestInfo::parse(&Method::GET, "/api/v1/namespaces/other/pods", false))
            .is_err());
        assert!(authorize(
            &authorizer,
            &x,
            &RequestInfo::parse(&Method::DELETE, "/api/v1/namespaces/team/pods/a", false)
        )
        .is_err());
        let always = Authorizer { mode: crate::rbac::Mode::AlwaysAllow, ..authorizer };
        assert!(authorize(&always, &x, &RequestInfo::parse(&Method::DELETE, "/api/v1/namespaces/team/pods/a", false))
            .is_ok());
    }
}
