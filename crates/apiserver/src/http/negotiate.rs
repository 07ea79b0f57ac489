//! Content negotiation: which representation a client asked for in `Accept` (JSON, YAML,
//! Table, PartialObjectMetadata, aggregated discovery), and decoding of request bodies
//! (JSON, YAML, and the Kubernetes protobuf that typed clientsets send; answers are JSON).

use bytes::Bytes;
use serde_json::Value;

use crate::error::ApiError;

/// A representation of an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    Json,
    Yaml,
    /// `as=Table;g=meta.k8s.io;v=v1` (or v1beta1).
    Table(&'static str),
    /// `as=PartialObjectMetadata` or `...List`.
    PartialMetadata(&'static str),
    /// `as=APIGroupDiscoveryList;g=apidiscovery.k8s.io;v=v2` (or v2beta1).
    Discovery(&'static str),
}

/// What an endpoint can produce beyond JSON and YAML.
#[derive(Debug, Clone, Copy, Default)]
pub struct Offers {
    pub table: bool,
    pub discovery: bool,
}

/// The media types kube lists in 406 answers.
pub const ACCEPTED: &str = "application/json, application/yaml, application/vnd.kubernetes.protobuf";

/// Picks the first acceptable representation in the client's order of preference.
pub fn negotiate(accept: Option<&str>, offers: Offers) -> Result<Output, ApiError> {
    let accept = accept.map(str::trim).filter(|a| !a.is_empty()).unwrap_or("application/json");
    let mut ranked: Vec<(f32, usize, &str)> = Vec::new();
    for (i, item) in accept.split(',').enumerate() {
        let q = item
            .split(';')
            .skip(1)
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.parse::<f32>().ok())
            .unwrap_or(1.0);
        ranked.push((q, i, item));
    }
    ranked.sort_by(|a, b| b.0.partial_cmp(&a.0).unwrap_or(std::cmp::Ordering::Equal).then(a.1.cmp(&b.1)));
    for (_, _, item) in ranked {
        let mut parts = item.split(';').map(str::trim);
        let media = parts.next().unwrap_or("").to_ascii_lowercase();
        let mut as_ = "";
        let mut g = "";
        let mut v = "";
        for p in parts {
            if let Some((k, val)) = p.split_once('=') {
                match k.trim() {
                    "as" => as_ = val.trim(),
                    "g" => g = val.trim(),
                    "v" => v = val.trim(),
                    _ => {}
                }
            }
        }
        let json_like = matches!(media.as_str(), "application/json" | "*/*" | "application/*");
        if json_like && as_.is_empty() {
            return Ok(Output::Json);
        }
        if media == "application/yaml" && as_.is_empty() {
            return Ok(Output::Yaml);
        }
        if media == "application/json" {
            match (as_, g, v) {
                ("Table", "meta.k8s.io", "v1") if offers.table => return Ok(Output::Table("v1")),
                ("Table", "meta.k8s.io", "v1beta1") if offers.table => return Ok(Output::Table("v1beta1")),
                ("PartialObjectMetadata", "meta.k8s.io", "v1") if offers.table => {
                    return Ok(Output::PartialMetadata("v1"))
                }
                ("PartialObjectMetadataList", "meta.k8s.io", "v1") if offers.table => {
                    return Ok(Output::PartialMetadata("v1"))
                }
                ("APIGroupDiscoveryList", "apidiscovery.k8s.io", "v2") if offers.discovery => {
                    return Ok(Output::Discovery("v2"))
                }
                ("APIGroupDiscoveryList", "apidiscovery.k8s.io", "v2beta1") if offers.discovery => {
                    return Ok(Output::Discovery("v2beta1"))
                }
                _ => {}
            }
        }
    }
    Err(ApiError::not_acceptable(ACCEPTED))
}

/// The Content-Type of an answer in a representation.
pub fn content_type(output: Output) -> String {
    match output {
        Output::Json => "application/json".into(),
        Output::Yaml => "application/yaml".into(),
        Output::Table(v) => format!("application/json;as=Table;v={v};g=meta.k8s.io"),
        Output::PartialMetadata(v) => format!("application/json;as=PartialObjectMetadataList;v={v};g=meta.k8s.io"),
        Output::Discovery(v) => format!("application/json;g=apidiscovery.k8s.io;v={v};as=APIGroupDiscoveryList"),
    }
}

/// Decodes a request body by its Content-Type.
pub fn decode_body(content_type: Option<&str>, body: &Bytes) -> Result<Value, ApiError> {
    let media =
        content_type.and_then(|c| c.split(';').next()).map(|m| m.trim().to_ascii_lowercase()).unwrap_or_default();
    match media.as_str() {
        ""
        | "application/json"
        | "*/*"
        | "application/json-patch+json"
        | "application/merge-patch+json"
        | "application/strategic-merge-patch+json" => serde_json::from_slice(body)
            .map_err(|e| ApiError::bad_request(format!("the body of the request could not be decoded as JSON: {e}"))),
        "application/yaml" | "application/apply-patch+yaml" => {
            let text = std::str::from_utf8(body)
                .map_err(|_| ApiError::bad_request("the body of the request is not valid UTF-8"))?;
            yaml_to_json(text)
        }
        "application/vnd.kubernetes.protobuf" => {
            super::protobuf::decode(body).map_err(|e| ApiError::bad_request(e.to_string()))
        }
        _ => Err(ApiError::unsupported_media_type(&[
            "application/json",
            "application/yaml",
            "application/vnd.kubernetes.protobuf",
        ])),
    }
}

/// Parses YAML (or JSON, which is YAML) into a JSON value.
pub fn yaml_to_json(text: &str) -> Result<Value, ApiError> {
    if let Ok(v) = serde_json::from_str::<Value>(text) {
        return Ok(v);
    }
    serde_saphyr::from_str::<Value>(text)
        .map_err(|e| ApiError::bad_request(format!("error converting YAML to JSON: {e}")))
}

/// Renders a JSON value as YAML for `Accept: application/yaml`.
pub fn to_yaml(value: &Value) -> String {
    serde_saphyr::to_string(value).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubectl_get_accept_header_gives_table() {
        let accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";
        assert_eq!(negotiate(Some(accept), Offers { table: true, discovery: false }).unwrap(), Output::Table("v1"));
        assert_eq!(negotiate(Some(accept), Offers::default()).unwrap(), Output::Json);
    }

    #[test]
    fn discovery_and_protobuf_fallbacks() {
        let accept = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";
        assert_eq!(negotiate(Some(accept), Offers { table: false, discovery: true }).unwrap(), Output::Discovery("v2"));
        let pb = "application/vnd.kubernetes.protobuf, */*";
        assert_eq!(negotiate(Some(pb), Offers::default()).unwrap(), Output::Json);
        let err = negotiate(Some("application/vnd.kubernetes.protobuf"), Offers::default()).unwrap_err();
        assert_eq!(err.code.as_u16(), 406);
        assert_eq!(negotiate(Some("text/plain;q=0.5, application/yaml"), Offers::default()).unwrap(), Output::Yaml);
    }

    #[test]
    fn bodies_in_json_yaml_and_protobuf() {
        let v = decode_body(Some("application/yaml"), &Bytes::from("a: 1\nb: [x]\n")).unwrap();
        assert_eq!(v, serde_json::json!({"a": 1, "b": ["x"]}));
        assert_eq!(decode_body(Some("application/json"), &Bytes::from("{")).unwrap_err().code.as_u16(), 400);
        assert_eq!(
            decode_body(Some("application/vnd.kubernetes.protobuf"), &Bytes::from("x")).unwrap_err().code.as_u16(),
            400
        );
        assert_eq!(decode_body(Some("text/plain"), &Bytes::from("x")).unwrap_err().code.as_u16(), 415);
    }
}
