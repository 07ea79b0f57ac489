//! Kubernetes `Status` errors, built and worded as kube-apiserver builds them
//! (k8s.io/apimachinery/pkg/api/errors/errors.go), so clients that match on reason,
//! code or message behave as they do against a real cluster.

use http::StatusCode;
use serde::Serialize;
use serde_json::{json, Value};

/// A failed request, answered as a `metav1.Status`.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub code: StatusCode,
    pub reason: &'static str,
    pub message: String,
    /// Boxed to keep `Result<T, ApiError>` small on the hot path.
    pub details: Option<Box<Details>>,
}

/// The `details` of a Status.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Details {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub group: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub kind: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub causes: Vec<Cause>,
    #[serde(rename = "retryAfterSeconds", skip_serializing_if = "Option::is_none")]
    pub retry_after_seconds: Option<u32>,
}

pub type Result<T, E = ApiError> = std::result::Result<T, E>;

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.code.as_u16(), self.reason, self.message)
    }
}

impl std::error::Error for ApiError {}

/// A group and resource as kube prints them: `pods`, `deployments.apps`.
pub fn qualified(group: &str, resource: &str) -> String {
    if group.is_empty() {
        resource.to_string()
    } else {
        format!("{resource}.{group}")
    }
}

impl ApiError {
    /// A Status with any code, reason and message.
    pub fn new(code: StatusCode, reason: &'static str, message: impl Into<String>) -> Self {
        ApiError { code, reason, message: message.into(), details: None }
    }

    fn with_details(mut self, name: &str, group: &str, kind: &str) -> Self {
        self.details = Some(Box::new(Details {
            name: name.to_string(),
            group: group.to_string(),
            kind: kind.to_string(),
            ..Default::default()
        }));
        self
    }

    /// 404 `pods "x" not found`.
    pub fn not_found(group: &str, resource: &str, name: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "NotFound", format!("{} {name:?} not found", qualified(group, resource)))
            .with_details(name, group, resource)
    }

    /// 404 for a path that names no resource; kube answers the plain text
    /// "the server could not find the requested resource" as a Status.
    pub fn no_route() -> Self {
        Self::new(StatusCode::NOT_FOUND, "NotFound", "the server could not find the requested resource")
            .with_details("", "", "")
    }

    /// 409 `pods "x" already exists`.
    pub fn already_exists(group: &str, resource: &str, name: &str) -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "AlreadyExists",
            format!("{} {name:?} already exists", qualified(group, resource)),
        )
        .with_details(name, group, resource)
    }

    /// 409 Conflict with a reason after the object name.
    pub fn conflict(group: &str, resource: &str, name: &str, why: &str) -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "Conflict",
            format!("Operation cannot be fulfilled on {} {name:?}: {why}", qualified(group, resource)),
        )
        .with_details(name, group, resource)
    }

    /// 409 for a stale resourceVersion, kube's optimistic-concurrency message.
    pub fn modified(group: &str, resource: &str, name: &str) -> Self {
        Self::conflict(
            group,
            resource,
            name,
            "the object has been modified; please apply your changes to the latest version and try again",
        )
    }

    /// 422 `Pod "x" is invalid: spec.containers: Required value`.
    pub fn invalid(group: &str, kind: &str, name: &str, causes: Vec<Cause>) -> Self {
        // The message lists each distinct problem once, as kube's error aggregate does.
        let mut lines: Vec<String> = Vec::new();
        for line in causes.iter().map(Cause::to_line) {
            if !lines.contains(&line) {
                lines.push(line);
            }
        }
        let aggregate = if lines.len() == 1 { lines[0].clone() } else { format!("[{}]", lines.join(", ")) };
        let qualified_kind = qualified(group, kind);
        let mut err = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Invalid",
            format!("{qualified_kind} {name:?} is invalid: {aggregate}"),
        )
        .with_details(name, group, kind);
        if let Some(d) = err.details.as_mut() {
            d.causes = causes;
        }
        err
    }

    /// 400 BadRequest.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BadRequest", message)
    }

    /// 403 for an authorization denial; `why` is the authorizer's sentence.
    pub fn forbidden(group: &str, resource: &str, name: &str, why: &str) -> Self {
        let message = if resource.is_empty() {
            format!("forbidden: {why}")
        } else if name.is_empty() {
            format!("{} is forbidden: {why}", qualified(group, resource))
        } else {
            format!("{} {name:?} is forbidden: {why}", qualified(group, resource))
        };
        Self::new(StatusCode::FORBIDDEN, "Forbidden", message).with_details(name, group, resource)
    }

    /// 403 for a write into a namespace that is being deleted.
    pub fn namespace_terminating(group: &str, resource: &str, name: &str, namespace: &str) -> Self {
        let why = format!("unable to create new content in namespace {namespace} because it is being terminated");
        let mut err = Self::forbidden(group, resource, name, &why);
        if let Some(d) = err.details.as_mut() {
            d.causes =
                vec![Cause { reason: "NamespaceTerminating".into(), message: why, field: "metadata.namespace".into() }];
        }
        err
    }

    /// 401, for bad or missing credentials.
    pub fn unauthorized() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "Unauthorized", "Unauthorized")
    }

    /// 405 `create is not supported on resources of kind "componentstatuses"`.
    pub fn method_not_supported(group: &str, resource: &str, verb: &str) -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            format!("{verb} is not supported on resources of kind {:?}", qualified(group, resource)),
        )
        .with_details("", group, resource)
    }

    /// 406 when no offered media type can be produced.
    pub fn not_acceptable(accepted: &str) -> Self {
        Self::new(
            StatusCode::NOT_ACCEPTABLE,
            "NotAcceptable",
            format!("only the following media types are accepted: {accepted}"),
        )
    }

    /// 415 for a body or patch type we cannot decode; protobuf bodies land here so
    /// clients are told to send JSON.
    pub fn unsupported_media_type(accepted: &[&str]) -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: {}",
                accepted.join(", ")
            ),
        )
    }

    /// 410 Expired, for a list continue token whose revision was compacted.
    pub fn expired(message: impl Into<String>) -> Self {
        Self::new(StatusCode::GONE, "Expired", message)
    }

    /// 410 Gone, for a watch from a compacted resourceVersion.
    pub fn gone(message: impl Into<String>) -> Self {
        Self::new(StatusCode::GONE, "Expired", message)
    }

    /// 413 for a body over the limit.
    pub fn too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestEntityTooLarge",
            format!("Request entity too large: limit is {limit}"),
        )
    }

    /// 429 with Retry-After, when the in-flight limit is reached.
    pub fn too_many_requests() -> Self {
        let mut err =
            Self::new(StatusCode::TOO_MANY_REQUESTS, "TooManyRequests", "Too many requests, please try again later.");
        err.details = Some(Box::new(Details { retry_after_seconds: Some(1), ..Default::default() }));
        err
    }

    /// 503, e.g. when etcd is unreachable.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "ServiceUnavailable", message)
    }

    /// 504 for a request that ran past its deadline.
    pub fn timeout(message: impl Into<String>) -> Self {
        Self::new(StatusCode::GATEWAY_TIMEOUT, "Timeout", message)
    }

    /// 500 `Internal error occurred: ...`.
    pub fn internal(err: impl std::fmt::Display) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "InternalError", format!("Internal error occurred: {err}"))
    }

    /// The Status object sent on the wire.
    pub fn to_status(&self) -> Value {
        let mut status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
        });
        if let Some(details) = &self.details {
            status["details"] = serde_json::to_value(details).unwrap_or_default();
        }
        status["code"] = json!(self.code.as_u16());
        status
    }
}

/// One field problem inside a 422 Invalid Status, as kube-apiserver's field.Error renders it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cause {
    /// CauseType, e.g. "FieldValueRequired".
    pub reason: String,
    /// The error body, e.g. "Required value" or "Invalid value: -1: must be greater than or equal to 0".
    pub message: String,
    /// The field path, e.g. "spec.template.spec.containers[0].image".
    pub field: String,
}

impl Cause {
    fn new(reason: &str, field: impl Into<String>, body: String, detail: &str) -> Self {
        let message = if detail.is_empty() { body } else { format!("{body}: {detail}") };
        Cause { reason: reason.to_string(), message, field: field.into() }
    }
    /// "Required value[: detail]"
    pub fn required(field: impl Into<String>, detail: &str) -> Self {
        Self::new("FieldValueRequired", field, "Required value".into(), detail)
    }
    /// "Invalid value: <value>[: detail]"; strings are quoted like Go's %q, numbers and bools bare.
    pub fn invalid(field: impl Into<String>, value: &Value, detail: &str) -> Self {
        Self::new("FieldValueInvalid", field, format!("Invalid value: {}", render(value)), detail)
    }
    /// "Forbidden[: detail]"
    pub fn forbidden(field: impl Into<String>, detail: &str) -> Self {
        Self::new("FieldValueForbidden", field, "Forbidden".into(), detail)
    }
    /// "Unsupported value: \"x\": supported values: \"a\", \"b\""
    pub fn not_supported(field: impl Into<String>, value: &Value, valid: &[&str]) -> Self {
        let list: Vec<String> = valid.iter().map(|v| format!("{v:?}")).collect();
        Self::new(
            "FieldValueNotSupported",
            field,
            format!("Unsupported value: {}", render(value)),
            &format!("supported values: {}", list.join(", ")),
        )
    }
    /// "Duplicate value: <value>"
    pub fn duplicate(field: impl Into<String>, value: &Value) -> Self {
        Self::new("FieldValueDuplicate", field, format!("Duplicate value: {}", render(value)), "")
    }
    /// "Too long: may not be more than <max> bytes"
    pub fn too_long(field: impl Into<String>, max: usize) -> Self {
        Self::new("FieldValueTooLong", field, "Too long".into(), &format!("may not be more than {max} bytes"))
    }
    /// "field: message", how the cause appears inside the Status message.
    pub fn to_line(&self) -> String {
        format!("{}: {}", self.field, self.message)
    }
}

/// Renders a bad value as kube's field errors do: strings quoted, others as JSON.
pub fn render(value: &Value) -> String {
    match value {
        Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_found_names_group_and_resource() {
        let e = ApiError::not_found("apps", "deployments", "web");
        assert_eq!(e.message, r#"deployments.apps "web" not found"#);
        let s = e.to_status();
        assert_eq!(s["details"], json!({"name": "web", "group": "apps", "kind": "deployments"}));
        assert_eq!(s["code"], 404);
    }

    #[test]
    fn invalid_aggregates_several_causes_in_brackets() {
        let one = ApiError::invalid("", "Pod", "p", vec![Cause::required("spec.containers", "")]);
        assert_eq!(one.message, r#"Pod "p" is invalid: spec.containers: Required value"#);
        let two = ApiError::invalid(
            "apps",
            "Deployment",
            "d",
            vec![
                Cause::required("a", ""),
                Cause::invalid("spec.replicas", &json!(-1), "must be greater than or equal to 0"),
            ],
        );
        assert_eq!(
            two.message,
            r#"Deployment.apps "d" is invalid: [a: Required value, spec.replicas: Invalid value: -1: must be greater than or equal to 0]"#
        );
    }

    #[test]
    fn forbidden_wording_matches_kube() {
        let e = ApiError::forbidden(
            "",
            "pods",
            "",
            r#"User "x" cannot list resource "pods" in API group "" in the namespace "y""#,
        );
        assert_eq!(
            e.message,
            r#"pods is forbidden: User "x" cannot list resource "pods" in API group "" in the namespace "y""#
        );
    }
}
