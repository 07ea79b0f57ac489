//! Parses a request path into what it asks for (kube's request.RequestInfoFactory):
//! `/api/v1/namespaces/ns/pods/name/status`, `/apis/apps/v1/deployments`, `/healthz`, ...

use http::Method;

/// What a request is about.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RequestInfo {
    pub is_resource: bool,
    /// The verb as authorization sees it: get, list, watch, create, update, patch, delete,
    /// deletecollection; for non-resource paths the lowercased HTTP method.
    pub verb: String,
    pub path: String,
    /// "api" or "apis" for resource requests.
    pub prefix: String,
    pub group: String,
    pub version: String,
    pub namespace: String,
    pub resource: String,
    pub subresource: String,
    pub name: String,
    /// Remaining path segments after the subresource (for proxy subresources).
    pub rest: Vec<String>,
}

impl RequestInfo {
    /// Parses method, path and the `watch` query flag.
    pub fn parse(method: &Method, path: &str, watch_param: bool) -> Self {
        let mut info =
            RequestInfo { path: path.to_string(), verb: method.as_str().to_lowercase(), ..Default::default() };
        let parts: Vec<&str> = path.trim_matches('/').split('/').filter(|p| !p.is_empty()).collect();
        let mut i = match parts.first() {
            Some(&"api") => {
                info.prefix = "api".into();
                1
            }
            Some(&"apis") => {
                info.prefix = "apis".into();
                1
            }
            _ => return info,
        };
        if info.prefix == "apis" {
            let Some(g) = parts.get(i) else { return info };
            info.group = g.to_string();
            i += 1;
        }
        let Some(v) = parts.get(i) else { return info };
        info.version = v.to_string();
        i += 1;
        if parts.len() <= i {
            return info;
        }
        info.is_resource = true;
        let mut watch_path = false;
        if parts[i] == "watch" {
            // The deprecated /watch/ path prefix.
            watch_path = true;
            i += 1;
        }
        let rest: Vec<&str> = parts[i..].to_vec();
        // namespaces/<ns>/<resource>... unless it is a namespace's own subresource.
        let rest =
            if rest.first() == Some(&"namespaces") && rest.len() >= 3 && !matches!(rest[2], "status" | "finalize") {
                info.namespace = rest[1].to_string();
                rest[2..].to_vec()
            } else {
                rest
            };
        if rest.len() >= 2 && rest[0] == "namespaces" {
            // /api/v1/namespaces/<name> and /api/v1/namespaces/<name>/status|finalize.
            info.namespace = rest[1].to_string();
        }
        info.resource = rest.first().map(|s| s.to_string()).unwrap_or_default();
        info.name = rest.get(1).map(|s| s.to_string()).unwrap_or_default();
        info.subresource = rest.get(2).map(|s| s.to_string()).unwrap_or_default();
        info.rest = rest.iter().skip(3).map(|s| s.to_string()).collect();
        if info.resource == "namespaces" && !info.name.is_empty() {
            // A namespace object is cluster-scoped; kube still reports its name as namespace.
            info.namespace = info.name.clone();
        }
        info.verb = match *method {
            Method::GET | Method::HEAD => {
                if watch_path || watch_param {
                    "watch"
                } else if info.name.is_empty() {
                    "list"
                } else {
                    "get"
                }
            }
            Method::POST => "create",
            Method::PUT => "update",
            Method::PATCH => "patch",
            Method::DELETE => {
                if info.name.is_empty() {
                    "deletecollection"
                } else {
                    "delete"
                }
            }
            _ => "",
        }
        .to_string();
        info
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_paths_like_kube() {
        let i = RequestInfo::parse(&Method::GET, "/api/v1/namespaces/default/pods/web/log", false);
        assert_eq!(
            (i.verb.as_str(), i.namespace.as_str(), i.resource.as_str(), i.name.as_str(), i.subresource.as_str()),
            ("get", "default", "pods", "web", "log")
        );
        let i = RequestInfo::parse(&Method::GET, "/apis/apps/v1/deployments", true);
        assert_eq!((i.verb.as_str(), i.group.as_str(), i.resource.as_str()), ("watch", "apps", "deployments"));
        let i = RequestInfo::parse(&Method::DELETE, "/api/v1/namespaces/prod", false);
        assert_eq!(
            (i.verb.as_str(), i.resource.as_str(), i.name.as_str(), i.namespace.as_str()),
            ("delete", "namespaces", "prod", "prod")
        );
        let i = RequestInfo::parse(&Method::PUT, "/api/v1/namespaces/prod/finalize", false);
        assert_eq!((i.resource.as_str(), i.name.as_str(), i.subresource.as_str()), ("namespaces", "prod", "finalize"));
        let i = RequestInfo::parse(&Method::GET, "/api/v1/namespaces", false);
        assert_eq!((i.verb.as_str(), i.resource.as_str(), i.namespace.as_str()), ("list", "namespaces", ""));
        let i = RequestInfo::parse(&Method::GET, "/api/v1/watch/namespaces/x/configmaps", false);
        assert_eq!((i.verb.as_str(), i.namespace.as_str(), i.resource.as_str()), ("watch", "x", "configmaps"));
        let i = RequestInfo::parse(&Method::GET, "/healthz", false);
        assert!(!i.is_resource);
        let i = RequestInfo::parse(&Method::GET, "/apis/apps/v1", false);
        assert!(!i.is_resource);
        assert_eq!(i.version, "v1");
    }
}
