//! Authorization for part 1: `system:masters` may do everything; every authenticated user may
//! read discovery, health and version (kube's system:discovery and system:public-info-viewer
//! roles); everything else is denied with kube-apiserver's message. RBAC replaces this later.

use crate::error::ApiError;
use crate::http::authn::User;
use crate::http::request_info::RequestInfo;

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

/// Allows or denies a request; the error is the 403 Status to answer.
pub fn authorize(user: &User, info: &RequestInfo) -> Result<(), ApiError> {
    if user.groups.iter().any(|g| g == "system:masters") {
        return Ok(());
    }
    if !info.is_resource {
        let health = PUBLIC.contains(&info.path.as_str())
            || info.path.starts_with("/healthz/")
            || info.path.starts_with("/livez/")
            || info.path.starts_with("/readyz/");
        if info.verb == "get" && (health || (!user.is_anonymous() && is_discovery(&info.path))) {
            return Ok(());
        }
        let why = format!("User {:?} cannot {} path {:?}", user.name, info.verb, info.path);
        return Err(ApiError::forbidden("", "", "", &why));
    }
    let mut resource = info.resource.clone();
    if !info.subresource.is_empty() {
        resource = format!("{resource}/{}", info.subresource);
    }
    let why = if info.namespace.is_empty() {
        format!(
            "User {:?} cannot {} resource {:?} in API group {:?} at the cluster scope",
            user.name, info.verb, resource, info.group
        )
    } else {
        format!(
            "User {:?} cannot {} resource {:?} in API group {:?} in the namespace {:?}",
            user.name, info.verb, resource, info.group, info.namespace
        )
    };
    Err(ApiError::forbidden(&info.group, &info.resource, &info.name, &why))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::Method;

    fn user(groups: &[&str]) -> User {
        User { name: "x".into(), uid: String::new(), groups: groups.iter().map(|g| g.to_string()).collect() }
    }

    #[test]
    fn masters_may_do_anything_others_get_kube_messages() {
        let info = RequestInfo::parse(&Method::GET, "/api/v1/namespaces/y/pods", false);
        assert!(authorize(&user(&["system:masters"]), &info).is_ok());
        let err = authorize(&user(&["system:authenticated"]), &info).unwrap_err();
        assert_eq!(
            err.message,
            r#"pods is forbidden: User "x" cannot list resource "pods" in API group "" in the namespace "y""#
        );
        let info = RequestInfo::parse(&Method::GET, "/apis/apps/v1/deployments", false);
        let err = authorize(&user(&[]), &info).unwrap_err();
        assert!(err.message.ends_with(r#"in API group "apps" at the cluster scope"#));
        let info = RequestInfo::parse(&Method::GET, "/version", false);
        assert!(authorize(&User::anonymous(), &info).is_ok());
        let info = RequestInfo::parse(&Method::GET, "/apis", false);
        assert!(authorize(&User::anonymous(), &info).is_err());
        assert!(authorize(&user(&["system:authenticated"]), &info).is_ok());
    }
}
