//! Decodes Kubernetes protobuf request bodies (`application/vnd.kubernetes.protobuf`) into
//! the JSON object kube-apiserver would hold for the same Go object.
//!
//! client-go typed clients (and so kubectl for built-in types) send protobuf and never fall
//! back to JSON, so the server must read it. The body is the 4-byte magic `k8s\0` followed by
//! a `runtime.Unknown` envelope whose `raw` holds the object's message. The messages are read
//! with the descriptor set build.rs compiles from `proto/`, and rendered as Go's
//! `encoding/json` renders the decoded struct: that needs facts protobuf does not carry, which
//! the schema adds as field options (`nestor.keep_zero`, `nestor.inline`).

use std::collections::HashSet;
use std::sync::LazyLock;

use base64::Engine as _;
use prost_reflect::{DescriptorPool, DynamicMessage, MapKey, MessageDescriptor, ReflectMessage as _, Value as PbValue};
use serde_json::{Map, Number, Value};

/// The prefix kube's protobuf serializer puts before every encoded object.
const MAGIC: &[u8; 4] = b"k8s\0";

const META_V1: &str = "k8s.io.apimachinery.pkg.apis.meta.v1";
const UNKNOWN: &str = "k8s.io.apimachinery.pkg.runtime.Unknown";

/// Why a protobuf body could not be turned into JSON.
#[derive(Debug, thiserror::Error)]
pub enum ProtobufError {
    /// The envelope is missing or malformed: no magic prefix, no type, undecodable Unknown.
    #[error("bad protobuf envelope: {0}")]
    BadEnvelope(String),
    /// The envelope names an apiVersion/kind this server has no protobuf schema for.
    #[error("no kind \"{kind}\" is registered for version \"{api_version}\" in protobuf")]
    UnknownType {
        /// The envelope's apiVersion, e.g. "apps/v1".
        api_version: String,
        /// The envelope's kind, e.g. "Deployment".
        kind: String,
    },
    /// The object bytes do not match the schema of the named kind.
    #[error("failed to decode protobuf {kind}: {reason}")]
    Decode {
        /// The kind being decoded.
        kind: String,
        /// What went wrong.
        reason: String,
    },
    /// The embedded descriptor set could not be loaded (a build problem).
    #[error("protobuf schema unavailable: {0}")]
    Schema(String),
}

/// The embedded schema plus the nestor option facts, read once.
struct Schema {
    pool: DescriptorPool,
    /// Full names of fields whose zero value still shows in JSON (Go pointer or no omitempty).
    keep_zero: HashSet<String>,
    /// Full names of fields Go embeds with `json:",inline"`.
    inline: HashSet<String>,
}

static SCHEMA: LazyLock<Result<Schema, String>> = LazyLock::new(load_schema);

fn load_schema() -> Result<Schema, String> {
    let bytes: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/k8s.bin"));
    let pool = DescriptorPool::decode(bytes).map_err(|e| e.to_string())?;
    let keep_ext = pool.get_extension_by_name("nestor.keep_zero").ok_or("nestor.keep_zero missing")?;
    let inline_ext = pool.get_extension_by_name("nestor.inline").ok_or("nestor.inline missing")?;
    let mut keep_zero = HashSet::new();
    let mut inline = HashSet::new();
    for message in pool.all_messages() {
        for field in message.fields() {
            let options = field.options();
            if options.has_extension(&keep_ext) && options.get_extension(&keep_ext).as_bool() == Some(true) {
                keep_zero.insert(field.full_name().to_string());
            }
            if options.has_extension(&inline_ext) && options.get_extension(&inline_ext).as_bool() == Some(true) {
                inline.insert(field.full_name().to_string());
            }
        }
    }
    Ok(Schema { pool, keep_zero, inline })
}

fn schema() -> Result<&'static Schema, ProtobufError> {
    SCHEMA.as_ref().map_err(|e| ProtobufError::Schema(e.clone()))
}

/// Decodes a `k8s\0`-prefixed protobuf body into the object's JSON, with `kind` and
/// `apiVersion` from the envelope placed first, as kube's JSON encoder writes TypeMeta.
pub fn decode(body: &[u8]) -> Result<Value, ProtobufError> {
    let schema = schema()?;
    let rest = body
        .strip_prefix(MAGIC.as_slice())
        .ok_or_else(|| ProtobufError::BadEnvelope("missing the k8s\\0 prefix".into()))?;
    let unknown_desc = message(schema, UNKNOWN)?;
    let unknown = DynamicMessage::decode(unknown_desc, rest).map_err(|e| ProtobufError::BadEnvelope(e.to_string()))?;

    let (api_version, kind) = match unknown.get_field_by_number(1).as_deref() {
        Some(PbValue::Message(type_meta)) => (string_field(type_meta, 1), string_field(type_meta, 2)),
        _ => (String::new(), String::new()),
    };
    if api_version.is_empty() || kind.is_empty() {
        return Err(ProtobufError::BadEnvelope("the envelope has no apiVersion or kind".into()));
    }
    // client-go never sets contentEncoding; an encoded (compressed) payload is refused rather
    // than guessed at. contentType is left empty by client-go and not consulted, as the payload
    // of a protobuf request is always the protobuf message itself.
    let encoding = string_field(&unknown, 3);
    if !encoding.is_empty() {
        return Err(ProtobufError::BadEnvelope(format!("unsupported content encoding {encoding:?}")));
    }
    let desc = lookup(schema, &api_version, &kind)
        .ok_or_else(|| ProtobufError::UnknownType { api_version: api_version.clone(), kind: kind.clone() })?;
    let raw = bytes_field(&unknown, 2);
    let object = DynamicMessage::decode(desc, raw.as_slice())
        .map_err(|e| ProtobufError::Decode { kind: kind.clone(), reason: e.to_string() })?;
    let body = message_json(schema, &object).map_err(|reason| ProtobufError::Decode { kind: kind.clone(), reason })?;

    let mut out = Map::new();
    out.insert("kind".into(), Value::String(kind));
    out.insert("apiVersion".into(), Value::String(api_version));
    if let Value::Object(fields) = body {
        out.extend(fields);
    }
    Ok(Value::Object(out))
}

/// Finds the message for apiVersion + kind: `v1` is the core group, `apps/v1` is
/// `k8s.io.api.apps.v1`, DNS-style groups drop their `.k8s.io` suffix (`rbac.authorization.k8s.io`
/// is `rbac`), and the meta types every group version carries (DeleteOptions, Status...) fall
/// back to `meta/v1`.
fn lookup(schema: &Schema, api_version: &str, kind: &str) -> Option<MessageDescriptor> {
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    let package = match group {
        "" => format!("k8s.io.api.core.{version}"),
        "apiextensions.k8s.io" => format!("k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.{version}"),
        "meta.k8s.io" => format!("k8s.io.apimachinery.pkg.apis.meta.{version}"),
        _ => {
            let short = group.split('.').next().unwrap_or(group);
            format!("k8s.io.api.{short}.{version}")
        }
    };
    schema
        .pool
        .get_message_by_name(&format!("{package}.{kind}"))
        .or_else(|| schema.pool.get_message_by_name(&format!("{META_V1}.{kind}")))
        .filter(is_object_kind)
}

/// Only top-level API objects (with metadata) and the meta option types can be request
/// bodies; this keeps a kind like "PodSpec" from being accepted.
fn is_object_kind(desc: &MessageDescriptor) -> bool {
    desc.get_field_by_name("metadata").is_some() || desc.package_name() == META_V1
}

fn message(schema: &Schema, name: &str) -> Result<MessageDescriptor, ProtobufError> {
    schema.pool.get_message_by_name(name).ok_or_else(|| ProtobufError::Schema(format!("{name} missing")))
}

fn string_field(msg: &DynamicMessage, number: u32) -> String {
    match msg.get_field_by_number(number).as_deref() {
        Some(PbValue::String(s)) => s.clone(),
        _ => String::new(),
    }
}

fn bytes_field(msg: &DynamicMessage, number: u32) -> Vec<u8> {
    match msg.get_field_by_number(number).as_deref() {
        Some(PbValue::Bytes(b)) => b.to_vec(),
        _ => Vec::new(),
    }
}

fn int_field(msg: &DynamicMessage, number: u32) -> i64 {
    match msg.get_field_by_number(number).as_deref() {
        Some(PbValue::I64(v)) => *v,
        Some(PbValue::I32(v)) => i64::from(*v),
        _ => 0,
    }
}

/// Renders one message as Go's encoding/json renders the struct it decodes into.
fn message_json(schema: &Schema, msg: &DynamicMessage) -> Result<Value, String> {
    let desc = msg.descriptor();
    let name = desc.full_name();
    if let Some(special) = special_json(schema, name, msg)? {
        return Ok(special);
    }
    let mut out = Map::new();
    for field in desc.fields() {
        if field.is_list() || field.is_map() {
            // Empty lists and maps decode to nil in Go; omitempty drops them, and a nil without
            // omitempty would print `null`, which reads back the same, so leave them out.
            let value = msg.get_field(&field);
            let rendered = if field.is_map() { map_json(schema, &value)? } else { list_json(schema, &value)? };
            if let Some(rendered) = rendered {
                out.insert(field.json_name().to_string(), rendered);
            }
            continue;
        }
        if !msg.has_field(&field) {
            continue;
        }
        let value = msg.get_field(&field);
        if let PbValue::Message(sub) = value.as_ref() {
            // client-go writes every non-pointer struct field, so a present message is one the
            // Go struct has; Go prints structs even when empty (`"resources": {}`).
            let rendered = message_json(schema, sub)?;
            if schema.inline.contains(field.full_name()) {
                if let Value::Object(inner) = rendered {
                    out.extend(inner);
                }
            } else {
                out.insert(field.json_name().to_string(), rendered);
            }
            continue;
        }
        // client-go also writes every non-pointer scalar, zero or not; Go's omitempty then drops
        // the zeros. Pointers (`replicas: 0`) and fields without omitempty keep them.
        if is_zero(&value) && !schema.keep_zero.contains(field.full_name()) {
            continue;
        }
        out.insert(field.json_name().to_string(), scalar_json(&value)?);
    }
    Ok(Value::Object(out))
}

/// The types with their own JSON form in Go (MarshalJSON methods, or Go types that are not
/// structs), keyed by message full name.
fn special_json(schema: &Schema, name: &str, msg: &DynamicMessage) -> Result<Option<Value>, String> {
    let value = match name {
        "k8s.io.apimachinery.pkg.apis.meta.v1.Time" => time_json(msg, false)?,
        "k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime" => time_json(msg, true)?,
        "k8s.io.apimachinery.pkg.apis.meta.v1.Duration" => Value::String(go_duration(int_field(msg, 1))),
        "k8s.io.apimachinery.pkg.api.resource.Quantity" | "k8s.io.apimachinery.pkg.api.resource.QuantityValue" => {
            // The string as sent; canonical formatting happens where JSON input gets it too.
            let s = string_field(msg, 1);
            Value::String(if s.is_empty() { "0".into() } else { s })
        }
        "k8s.io.apimachinery.pkg.util.intstr.IntOrString" => {
            if int_field(msg, 1) == 1 {
                Value::String(string_field(msg, 3))
            } else {
                Value::Number(int_field(msg, 2).into())
            }
        }
        "k8s.io.apimachinery.pkg.runtime.RawExtension"
        | "k8s.io.apimachinery.pkg.apis.meta.v1.FieldsV1"
        | "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1.JSON" => raw_json(&bytes_field(msg, 1))?,
        "k8s.io.apimachinery.pkg.apis.meta.v1.Verbs"
        | "k8s.io.api.authentication.v1.ExtraValue"
        | "k8s.io.api.authorization.v1.ExtraValue"
        | "k8s.io.api.certificates.v1.ExtraValue" => {
            // Go `[]string` types: the proto wraps them in a message, JSON does not.
            match msg.get_field_by_number(1).as_deref() {
                Some(PbValue::List(items)) => Value::Array(items.iter().map(scalar_json).collect::<Result<_, _>>()?),
                _ => Value::Array(Vec::new()),
            }
        }
        "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrArray" => {
            // MarshalJSON: the array form when it has items, else the single schema.
            match list_json_by_number(schema, msg, 2)? {
                Some(array) => array,
                None => sub_message_json(schema, msg, 1)?.unwrap_or(Value::Null),
            }
        }
        "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrBool" => {
            match sub_message_json(schema, msg, 2)? {
                Some(schema_json) => schema_json,
                None => Value::Bool(matches!(msg.get_field_by_number(1).as_deref(), Some(PbValue::Bool(true)))),
            }
        }
        "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrStringArray" => {
            match list_json_by_number(schema, msg, 2)? {
                Some(array) => array,
                None => sub_message_json(schema, msg, 1)?.unwrap_or(Value::Null),
            }
        }
        _ => return Ok(None),
    };
    Ok(Some(value))
}

fn sub_message_json(schema: &Schema, msg: &DynamicMessage, number: u32) -> Result<Option<Value>, String> {
    if !msg.has_field_by_number(number) {
        return Ok(None);
    }
    match msg.get_field_by_number(number).as_deref() {
        Some(PbValue::Message(sub)) => message_json(schema, sub).map(Some),
        _ => Ok(None),
    }
}

fn list_json_by_number(schema: &Schema, msg: &DynamicMessage, number: u32) -> Result<Option<Value>, String> {
    let field = msg.descriptor().get_field(number).ok_or_else(|| format!("field {number} missing"))?;
    list_json(schema, &msg.get_field(&field))
}

fn list_json(schema: &Schema, value: &PbValue) -> Result<Option<Value>, String> {
    let PbValue::List(items) = value else { return Ok(None) };
    if items.is_empty() {
        return Ok(None);
    }
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        out.push(element_json(schema, item)?);
    }
    Ok(Some(Value::Array(out)))
}

fn map_json(schema: &Schema, value: &PbValue) -> Result<Option<Value>, String> {
    let PbValue::Map(entries) = value else { return Ok(None) };
    if entries.is_empty() {
        return Ok(None);
    }
    // Go's encoding/json writes map keys sorted.
    let mut keyed: Vec<(String, &PbValue)> = entries.iter().map(|(k, v)| (map_key(k), v)).collect();
    keyed.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out = Map::new();
    for (key, v) in keyed {
        out.insert(key, element_json(schema, v)?);
    }
    Ok(Some(Value::Object(out)))
}

fn element_json(schema: &Schema, value: &PbValue) -> Result<Value, String> {
    match value {
        PbValue::Message(sub) => message_json(schema, sub),
        other => scalar_json(other),
    }
}

fn map_key(key: &MapKey) -> String {
    match key {
        MapKey::String(s) => s.clone(),
        MapKey::Bool(b) => b.to_string(),
        MapKey::I32(v) => v.to_string(),
        MapKey::I64(v) => v.to_string(),
        MapKey::U32(v) => v.to_string(),
        MapKey::U64(v) => v.to_string(),
    }
}

fn is_zero(value: &PbValue) -> bool {
    match value {
        PbValue::Bool(b) => !b,
        PbValue::I32(v) => *v == 0,
        PbValue::I64(v) => *v == 0,
        PbValue::U32(v) => *v == 0,
        PbValue::U64(v) => *v == 0,
        PbValue::F32(v) => *v == 0.0,
        PbValue::F64(v) => *v == 0.0,
        PbValue::String(s) => s.is_empty(),
        PbValue::Bytes(b) => b.is_empty(),
        PbValue::EnumNumber(v) => *v == 0,
        PbValue::Message(_) | PbValue::List(_) | PbValue::Map(_) => false,
    }
}

fn scalar_json(value: &PbValue) -> Result<Value, String> {
    Ok(match value {
        PbValue::Bool(b) => Value::Bool(*b),
        PbValue::I32(v) => Value::Number((*v).into()),
        PbValue::I64(v) => Value::Number((*v).into()),
        PbValue::U32(v) => Value::Number((*v).into()),
        PbValue::U64(v) => Value::Number((*v).into()),
        PbValue::F32(v) => float_json(f64::from(*v))?,
        PbValue::F64(v) => float_json(*v)?,
        PbValue::String(s) => Value::String(s.clone()),
        // Go marshals []byte as standard base64 (Secret data, caBundle...).
        PbValue::Bytes(b) => Value::String(base64::engine::general_purpose::STANDARD.encode(b)),
        PbValue::EnumNumber(v) => Value::Number((*v).into()),
        PbValue::Message(_) | PbValue::List(_) | PbValue::Map(_) => {
            return Err("nested value where a scalar belongs".into())
        }
    })
}

fn float_json(v: f64) -> Result<Value, String> {
    // Whole numbers stay integers, as Go prints float64 2 as `2`.
    if v.fract() == 0.0 && v.abs() < 9.0e15 {
        #[allow(clippy::cast_possible_truncation)]
        return Ok(Value::Number((v as i64).into()));
    }
    Number::from_f64(v).map(Value::Number).ok_or_else(|| format!("{v} has no JSON form"))
}

/// `runtime.RawExtension`, `metav1.FieldsV1` and `apiextensions JSON` carry JSON bytes that Go
/// writes through verbatim; empty means nil and prints `null`. A RawExtension may also hold a
/// nested protobuf object (its own `k8s\0` envelope).
fn raw_json(raw: &[u8]) -> Result<Value, String> {
    if raw.is_empty() {
        return Ok(Value::Null);
    }
    if raw.starts_with(MAGIC) {
        return decode(raw).map_err(|e| e.to_string());
    }
    serde_json::from_slice(raw).map_err(|e| format!("embedded JSON: {e}"))
}

/// `metav1.Time` (RFC 3339, whole seconds) and `metav1.MicroTime` (six fractional digits),
/// always in UTC. Go's zero time marshals to no fields and prints `null`. Time drops the
/// nanoseconds on decode, as kube's Time.Unmarshal does.
fn time_json(msg: &DynamicMessage, micro: bool) -> Result<Value, String> {
    if !msg.has_field_by_number(1) && !msg.has_field_by_number(2) {
        return Ok(Value::Null);
    }
    let seconds = int_field(msg, 1);
    let nanos = u32::try_from(int_field(msg, 2)).map_err(|_| "negative nanoseconds".to_string())?;
    let at = chrono::DateTime::from_timestamp(seconds, 0).ok_or_else(|| format!("time {seconds} out of range"))?;
    let base = at.format("%Y-%m-%dT%H:%M:%S");
    Ok(Value::String(if micro { format!("{base}.{:06}Z", nanos / 1000) } else { format!("{base}Z") }))
}

/// Formats nanoseconds as Go's `time.Duration.String` does: "1h2m3.5s", "150ms", "0s".
fn go_duration(nanos: i64) -> String {
    let neg = nanos < 0;
    let u = nanos.unsigned_abs();
    let mut out = String::new();
    if u < 1_000_000_000 {
        // Below one second Go picks the largest unit that keeps an integer part.
        let (unit, scale) = match u {
            0 => return "0s".into(),
            1..=999 => ("ns", 1),
            1_000..=999_999 => ("\u{b5}s", 1_000),
            _ => ("ms", 1_000_000),
        };
        out.push_str(&with_fraction(u, scale));
        out.push_str(unit);
    } else {
        let whole_seconds = u / 1_000_000_000;
        let hours = whole_seconds / 3600;
        let minutes = (whole_seconds / 60) % 60;
        if hours > 0 {
            out.push_str(&format!("{hours}h"));
        }
        if hours > 0 || minutes > 0 {
            out.push_str(&format!("{minutes}m"));
        }
        out.push_str(&with_fraction(u % 60_000_000_000, 1_000_000_000));
        out.push('s');
    }
    if neg {
        out.insert(0, '-');
    }
    out
}

/// `value / scale` with the fraction's trailing zeros (and a bare point) trimmed.
fn with_fraction(value: u64, scale: u64) -> String {
    let whole = value / scale;
    let frac = value % scale;
    if frac == 0 {
        return whole.to_string();
    }
    let digits = scale.to_string().len() - 1;
    let frac = format!("{frac:0digits$}");
    format!("{whole}.{}", frac.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_pb::api::{apps, batch, coordination, core};
    use k8s_pb::apiextensions_apiserver::pkg::apis::apiextensions::v1 as crd;
    use k8s_pb::apimachinery::pkg::api::resource::Quantity;
    use k8s_pb::apimachinery::pkg::apis::meta::v1 as meta;
    use k8s_pb::apimachinery::pkg::runtime::{RawExtension, TypeMeta, Unknown};
    use k8s_pb::apimachinery::pkg::util::intstr::IntOrString;
    use prost::Message;
    use serde_json::json;
    use std::collections::BTreeMap;

    /// Wraps an object as client-go's protobuf serializer does: the magic, then an Unknown
    /// whose contentEncoding and contentType are written even though empty.
    fn envelope(api_version: &str, kind: &str, object: &impl Message) -> Vec<u8> {
        let unknown = Unknown {
            type_meta: Some(TypeMeta { api_version: Some(api_version.into()), kind: Some(kind.into()) }),
            raw: Some(object.encode_to_vec()),
            content_encoding: Some(String::new()),
            content_type: Some(String::new()),
        };
        let mut body = MAGIC.to_vec();
        body.extend(unknown.encode_to_vec());
        body
    }

    fn s(v: &str) -> Option<String> {
        Some(v.to_string())
    }

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    /// ObjectMeta as client-go writes it: every non-pointer field, zero or not, and a zero
    /// creationTimestamp as an empty message.
    fn client_meta(name: &str, namespace: &str, labels: BTreeMap<String, String>) -> meta::ObjectMeta {
        meta::ObjectMeta {
            name: s(name),
            generate_name: s(""),
            namespace: s(namespace),
            self_link: s(""),
            uid: s(""),
            resource_version: s(""),
            generation: Some(0),
            creation_timestamp: Some(meta::Time::default()),
            labels,
            ..Default::default()
        }
    }

    /// A Container with the zero scalars client-go always sends.
    fn client_container(name: &str, image: &str) -> core::v1::Container {
        core::v1::Container {
            name: s(name),
            image: s(image),
            working_dir: s(""),
            resources: Some(core::v1::ResourceRequirements::default()),
            termination_message_path: s(""),
            termination_message_policy: s(""),
            image_pull_policy: s(""),
            stdin: Some(false),
            stdin_once: Some(false),
            tty: Some(false),
            ..Default::default()
        }
    }

    fn quantity(v: &str) -> Quantity {
        Quantity { string: s(v) }
    }

    fn decoded(api_version: &str, kind: &str, object: &impl Message) -> Value {
        decode(&envelope(api_version, kind, object)).expect("decodes")
    }

    #[test]
    fn deployment_keeps_pointer_zero_replicas_and_drops_omitempty_zeros() {
        let app = labels(&[("app", "web")]);
        let deployment = apps::v1::Deployment {
            metadata: Some(client_meta("web", "default", app.clone())),
            spec: Some(apps::v1::DeploymentSpec {
                replicas: Some(0),
                selector: Some(meta::LabelSelector { match_labels: app.clone(), ..Default::default() }),
                template: Some(core::v1::PodTemplateSpec {
                    metadata: Some(meta::ObjectMeta {
                        creation_timestamp: Some(meta::Time::default()),
                        labels: app.clone(),
                        ..Default::default()
                    }),
                    spec: Some(core::v1::PodSpec {
                        containers: vec![client_container("nginx", "nginx")],
                        restart_policy: s(""),
                        dns_policy: s(""),
                        host_network: Some(false),
                        ..Default::default()
                    }),
                }),
                strategy: Some(apps::v1::DeploymentStrategy::default()),
                min_ready_seconds: Some(0),
                paused: Some(false),
                ..Default::default()
            }),
            status: Some(apps::v1::DeploymentStatus {
                observed_generation: Some(0),
                replicas: Some(0),
                ..Default::default()
            }),
        };
        let got = decoded("apps/v1", "Deployment", &deployment);
        assert_eq!(
            got,
            json!({
                "kind": "Deployment",
                "apiVersion": "apps/v1",
                "metadata": {"name": "web", "namespace": "default", "creationTimestamp": null, "labels": {"app": "web"}},
                "spec": {
                    "replicas": 0,
                    "selector": {"matchLabels": {"app": "web"}},
                    "template": {
                        "metadata": {"creationTimestamp": null, "labels": {"app": "web"}},
                        "spec": {"containers": [{"name": "nginx", "image": "nginx", "resources": {}}]}
                    },
                    "strategy": {}
                },
                "status": {}
            })
        );
        // TypeMeta leads, as in kube's own JSON.
        let keys: Vec<&String> = got.as_object().expect("object").keys().collect();
        assert_eq!(keys[..3], ["kind", "apiVersion", "metadata"]);
    }

    #[test]
    fn pod_with_ports_resources_env_and_security_context() {
        let mut container = client_container("app", "busybox:1.36");
        container.command = vec!["sh".into(), "-c".into(), "sleep 3600".into()];
        container.ports = vec![core::v1::ContainerPort {
            name: s("http"),
            host_port: Some(0),
            container_port: Some(8080),
            protocol: s("TCP"),
            host_ip: s(""),
        }];
        container.resources = Some(core::v1::ResourceRequirements {
            limits: [("cpu".to_string(), quantity("500m")), ("memory".to_string(), quantity("128Mi"))].into(),
            requests: [("cpu".to_string(), quantity("0.25"))].into(),
            claims: vec![],
        });
        container.env = vec![
            core::v1::EnvVar { name: s("MODE"), value: s("fast"), value_from: None },
            core::v1::EnvVar {
                name: s("POD_NAME"),
                value: s(""),
                value_from: Some(core::v1::EnvVarSource {
                    field_ref: Some(core::v1::ObjectFieldSelector {
                        api_version: s("v1"),
                        field_path: s("metadata.name"),
                    }),
                    ..Default::default()
                }),
            },
            core::v1::EnvVar {
                name: s("LEVEL"),
                value: s(""),
                value_from: Some(core::v1::EnvVarSource {
                    config_map_key_ref: Some(core::v1::ConfigMapKeySelector {
                        local_object_reference: Some(core::v1::LocalObjectReference { name: s("settings") }),
                        key: s("level"),
                        optional: Some(false),
                    }),
                    ..Default::default()
                }),
            },
        ];
        container.security_context = Some(core::v1::SecurityContext {
            allow_privilege_escalation: Some(false),
            run_as_user: Some(0),
            ..Default::default()
        });
        let pod = core::v1::Pod {
            metadata: Some(client_meta("app", "ns1", BTreeMap::new())),
            spec: Some(core::v1::PodSpec {
                containers: vec![container],
                volumes: vec![core::v1::Volume {
                    name: s("config"),
                    volume_source: Some(core::v1::VolumeSource {
                        config_map: Some(core::v1::ConfigMapVolumeSource {
                            local_object_reference: Some(core::v1::LocalObjectReference { name: s("settings") }),
                            default_mode: Some(0o644),
                            ..Default::default()
                        }),
                        ..Default::default()
                    }),
                }],
                restart_policy: s("Never"),
                termination_grace_period_seconds: Some(0),
                automount_service_account_token: Some(false),
                dns_policy: s(""),
                service_account_name: s(""),
                host_network: Some(false),
                ..Default::default()
            }),
            status: Some(core::v1::PodStatus { phase: s(""), ..Default::default() }),
        };
        assert_eq!(
            decoded("v1", "Pod", &pod),
            json!({
                "kind": "Pod",
                "apiVersion": "v1",
                "metadata": {"name": "app", "namespace": "ns1", "creationTimestamp": null},
                "spec": {
                    "volumes": [{"name": "config", "configMap": {"name": "settings", "defaultMode": 420}}],
                    "containers": [{
                        "name": "app",
                        "image": "busybox:1.36",
                        "command": ["sh", "-c", "sleep 3600"],
                        "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
                        "env": [
                            {"name": "MODE", "value": "fast"},
                            {"name": "POD_NAME", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}}},
                            {"name": "LEVEL", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "level", "optional": false}}}
                        ],
                        "resources": {"limits": {"cpu": "500m", "memory": "128Mi"}, "requests": {"cpu": "0.25"}},
                        "securityContext": {"runAsUser": 0, "allowPrivilegeEscalation": false}
                    }],
                    "restartPolicy": "Never",
                    "terminationGracePeriodSeconds": 0,
                    "automountServiceAccountToken": false
                },
                "status": {}
            })
        );
    }

    #[test]
    fn secret_bytes_become_base64() {
        let secret = core::v1::Secret {
            metadata: Some(client_meta("db", "default", BTreeMap::new())),
            immutable: Some(false),
            data: [("password".to_string(), b"s3cr3t".to_vec()), ("empty".to_string(), Vec::new())].into(),
            string_data: BTreeMap::new(),
            r#type: s("Opaque"),
        };
        assert_eq!(
            decoded("v1", "Secret", &secret),
            json!({
                "kind": "Secret",
                "apiVersion": "v1",
                "metadata": {"name": "db", "namespace": "default", "creationTimestamp": null},
                "immutable": false,
                "data": {"empty": "", "password": "czNjcjN0"},
                "type": "Opaque"
            })
        );
    }

    #[test]
    fn configmap_data_and_binary_data() {
        let cm = core::v1::ConfigMap {
            metadata: Some(client_meta("settings", "default", BTreeMap::new())),
            immutable: None,
            data: labels(&[("level", "debug"), ("a.conf", "x=1\n")]),
            binary_data: [("blob".to_string(), vec![0u8, 1, 2, 255])].into(),
        };
        assert_eq!(
            decoded("v1", "ConfigMap", &cm),
            json!({
                "kind": "ConfigMap",
                "apiVersion": "v1",
                "metadata": {"name": "settings", "namespace": "default", "creationTimestamp": null},
                "data": {"a.conf": "x=1\n", "level": "debug"},
                "binaryData": {"blob": "AAEC/w=="}
            })
        );
    }

    #[test]
    fn namespace_keeps_empty_spec_and_status() {
        let ns = core::v1::Namespace {
            metadata: Some(client_meta("team-a", "", BTreeMap::new())),
            spec: Some(core::v1::NamespaceSpec::default()),
            status: Some(core::v1::NamespaceStatus { phase: s(""), conditions: vec![] }),
        };
        assert_eq!(
            decoded("v1", "Namespace", &ns),
            json!({
                "kind": "Namespace",
                "apiVersion": "v1",
                "metadata": {"name": "team-a", "creationTimestamp": null},
                "spec": {},
                "status": {}
            })
        );
    }

    #[test]
    fn service_target_ports_int_string_and_zero() {
        let port = |name: &str, port: i32, target: IntOrString| core::v1::ServicePort {
            name: s(name),
            protocol: s("TCP"),
            port: Some(port),
            target_port: Some(target),
            node_port: Some(0),
            ..Default::default()
        };
        let service = core::v1::Service {
            metadata: Some(client_meta("web", "default", BTreeMap::new())),
            spec: Some(core::v1::ServiceSpec {
                ports: vec![
                    port("http", 80, IntOrString { r#type: Some(0), int_val: Some(8080), str_val: s("") }),
                    port("metrics", 9090, IntOrString { r#type: Some(1), int_val: Some(0), str_val: s("metrics") }),
                    // A Go IntOrString left unset still travels, as {type 0, intVal 0}.
                    port("plain", 7000, IntOrString { r#type: Some(0), int_val: Some(0), str_val: s("") }),
                ],
                selector: labels(&[("app", "web")]),
                cluster_ip: s(""),
                r#type: s("ClusterIP"),
                session_affinity: s(""),
                publish_not_ready_addresses: Some(false),
                ..Default::default()
            }),
            status: Some(core::v1::ServiceStatus {
                load_balancer: Some(core::v1::LoadBalancerStatus::default()),
                conditions: vec![],
            }),
        };
        assert_eq!(
            decoded("v1", "Service", &service),
            json!({
                "kind": "Service",
                "apiVersion": "v1",
                "metadata": {"name": "web", "namespace": "default", "creationTimestamp": null},
                "spec": {
                    "ports": [
                        {"name": "http", "protocol": "TCP", "port": 80, "targetPort": 8080},
                        {"name": "metrics", "protocol": "TCP", "port": 9090, "targetPort": "metrics"},
                        {"name": "plain", "protocol": "TCP", "port": 7000, "targetPort": 0}
                    ],
                    "selector": {"app": "web"},
                    "type": "ClusterIP"
                },
                "status": {"loadBalancer": {}}
            })
        );
    }

    #[test]
    fn job_keeps_pointer_zeros() {
        let job = batch::v1::Job {
            metadata: Some(client_meta("pi", "default", BTreeMap::new())),
            spec: Some(batch::v1::JobSpec {
                parallelism: Some(1),
                completions: Some(1),
                backoff_limit: Some(0),
                template: Some(core::v1::PodTemplateSpec {
                    metadata: Some(meta::ObjectMeta {
                        creation_timestamp: Some(meta::Time::default()),
                        ..Default::default()
                    }),
                    spec: Some(core::v1::PodSpec {
                        containers: vec![client_container("pi", "perl:5.34")],
                        restart_policy: s("Never"),
                        ..Default::default()
                    }),
                }),
                suspend: Some(false),
                completion_mode: s("NonIndexed"),
                ..Default::default()
            }),
            status: Some(batch::v1::JobStatus {
                active: Some(0),
                succeeded: Some(0),
                failed: Some(0),
                ..Default::default()
            }),
        };
        assert_eq!(
            decoded("batch/v1", "Job", &job),
            json!({
                "kind": "Job",
                "apiVersion": "batch/v1",
                "metadata": {"name": "pi", "namespace": "default", "creationTimestamp": null},
                "spec": {
                    "parallelism": 1,
                    "completions": 1,
                    "backoffLimit": 0,
                    "template": {
                        "metadata": {"creationTimestamp": null},
                        "spec": {"containers": [{"name": "pi", "image": "perl:5.34", "resources": {}}], "restartPolicy": "Never"}
                    },
                    "completionMode": "NonIndexed",
                    "suspend": false
                },
                "status": {}
            })
        );
    }

    #[test]
    fn required_status_zeros_survive() {
        // ReplicaSetStatus.replicas has no omitempty: kube shows `replicas: 0`.
        let rs = apps::v1::ReplicaSet {
            metadata: Some(client_meta("web-1", "default", BTreeMap::new())),
            spec: None,
            status: Some(apps::v1::ReplicaSetStatus {
                replicas: Some(0),
                fully_labeled_replicas: Some(0),
                observed_generation: Some(1),
                ..Default::default()
            }),
        };
        let got = decoded("apps/v1", "ReplicaSet", &rs);
        assert_eq!(got["status"], json!({"replicas": 0, "observedGeneration": 1}));
    }

    #[test]
    fn times_microtimes_and_managed_fields() {
        let lease = coordination::v1::Lease {
            metadata: Some(meta::ObjectMeta {
                name: s("node-a"),
                namespace: s("kube-node-lease"),
                creation_timestamp: Some(meta::Time { seconds: Some(1_704_164_645), nanos: Some(999_000_000) }),
                managed_fields: vec![meta::ManagedFieldsEntry {
                    manager: s("kubelet"),
                    operation: s("Update"),
                    api_version: s("coordination.k8s.io/v1"),
                    time: Some(meta::Time { seconds: Some(0), nanos: Some(0) }),
                    fields_type: s("FieldsV1"),
                    fields_v1: Some(meta::FieldsV1 { raw: Some(br#"{"f:spec":{"f:holderIdentity":{}}}"#.to_vec()) }),
                    subresource: s(""),
                }],
                ..Default::default()
            }),
            spec: Some(coordination::v1::LeaseSpec {
                holder_identity: s("node-a"),
                lease_duration_seconds: Some(40),
                renew_time: Some(meta::MicroTime { seconds: Some(1_704_164_645), nanos: Some(123_456_789) }),
                lease_transitions: Some(0),
                ..Default::default()
            }),
        };
        assert_eq!(
            decoded("coordination.k8s.io/v1", "Lease", &lease),
            json!({
                "kind": "Lease",
                "apiVersion": "coordination.k8s.io/v1",
                "metadata": {
                    "name": "node-a",
                    "namespace": "kube-node-lease",
                    "creationTimestamp": "2024-01-02T03:04:05Z",
                    "managedFields": [{
                        "manager": "kubelet",
                        "operation": "Update",
                        "apiVersion": "coordination.k8s.io/v1",
                        "time": "1970-01-01T00:00:00Z",
                        "fieldsType": "FieldsV1",
                        "fieldsV1": {"f:spec": {"f:holderIdentity": {}}}
                    }]
                },
                "spec": {
                    "holderIdentity": "node-a",
                    "leaseDurationSeconds": 40,
                    "renewTime": "2024-01-02T03:04:05.123456Z",
                    "leaseTransitions": 0
                }
            })
        );
    }

    #[test]
    fn delete_options_use_meta_types_under_any_group() {
        let opts = meta::DeleteOptions {
            grace_period_seconds: Some(0),
            propagation_policy: s("Foreground"),
            dry_run: vec!["All".into()],
            ..Default::default()
        };
        assert_eq!(
            decoded("apps/v1", "DeleteOptions", &opts),
            json!({
                "kind": "DeleteOptions",
                "apiVersion": "apps/v1",
                "gracePeriodSeconds": 0,
                "propagationPolicy": "Foreground",
                "dryRun": ["All"]
            })
        );
    }

    #[test]
    fn crd_schema_uses_json_names_and_special_forms() {
        let string_prop = crd::JsonSchemaProps { r#type: s("string"), ..Default::default() };
        let schema = crd::JsonSchemaProps {
            r#type: s("object"),
            exclusive_maximum: Some(false),
            nullable: Some(false),
            properties: [
                (
                    "spec".to_string(),
                    crd::JsonSchemaProps {
                        r#type: s("object"),
                        x_kubernetes_preserve_unknown_fields: Some(true),
                        ..Default::default()
                    },
                ),
                (
                    "size".to_string(),
                    crd::JsonSchemaProps {
                        r#type: s("integer"),
                        minimum: Some(0.0),
                        maximum: Some(10.5),
                        default: Some(crd::Json { raw: Some(b"3".to_vec()) }),
                        ..Default::default()
                    },
                ),
                (
                    "tags".to_string(),
                    crd::JsonSchemaProps {
                        r#type: s("array"),
                        items: Some(Box::new(crd::JsonSchemaPropsOrArray {
                            schema: Some(Box::new(string_prop.clone())),
                            j_son_schemas: vec![],
                        })),
                        x_kubernetes_list_type: s("set"),
                        ..Default::default()
                    },
                ),
                (
                    "labels".to_string(),
                    crd::JsonSchemaProps {
                        r#type: s("object"),
                        additional_properties: Some(Box::new(crd::JsonSchemaPropsOrBool {
                            allows: Some(true),
                            schema: Some(Box::new(string_prop)),
                        })),
                        ..Default::default()
                    },
                ),
            ]
            .into(),
            ..Default::default()
        };
        let definition = crd::CustomResourceDefinition {
            metadata: Some(client_meta("widgets.example.com", "", BTreeMap::new())),
            spec: Some(crd::CustomResourceDefinitionSpec {
                group: s("example.com"),
                names: Some(crd::CustomResourceDefinitionNames {
                    plural: s("widgets"),
                    singular: s("widget"),
                    kind: s("Widget"),
                    list_kind: s("WidgetList"),
                    ..Default::default()
                }),
                scope: s("Namespaced"),
                versions: vec![crd::CustomResourceDefinitionVersion {
                    name: s("v1"),
                    served: Some(true),
                    storage: Some(true),
                    deprecated: Some(false),
                    schema: Some(crd::CustomResourceValidation { open_apiv3_schema: Some(schema) }),
                    subresources: Some(crd::CustomResourceSubresources {
                        status: Some(crd::CustomResourceSubresourceStatus {}),
                        scale: None,
                    }),
                    ..Default::default()
                }],
                conversion: None,
                preserve_unknown_fields: Some(false),
            }),
            status: None,
        };
        assert_eq!(
            decoded("apiextensions.k8s.io/v1", "CustomResourceDefinition", &definition),
            json!({
                "kind": "CustomResourceDefinition",
                "apiVersion": "apiextensions.k8s.io/v1",
                "metadata": {"name": "widgets.example.com", "creationTimestamp": null},
                "spec": {
                    "group": "example.com",
                    "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
                    "scope": "Namespaced",
                    "versions": [{
                        "name": "v1",
                        "served": true,
                        "storage": true,
                        "schema": {"openAPIV3Schema": {
                            "type": "object",
                            "properties": {
                                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                                "size": {"type": "integer", "default": 3, "maximum": 10.5, "minimum": 0},
                                "spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                                "tags": {"type": "array", "items": {"type": "string"}, "x-kubernetes-list-type": "set"}
                            }
                        }},
                        "subresources": {"status": {}}
                    }]
                }
            })
        );
    }

    #[test]
    fn raw_extension_embeds_json() {
        let revision = apps::v1::ControllerRevision {
            metadata: Some(client_meta("web-5d9c", "default", BTreeMap::new())),
            data: Some(RawExtension { raw: Some(br#"{"spec":{"template":{"$patch":"replace"}}}"#.to_vec()) }),
            revision: Some(2),
        };
        assert_eq!(
            decoded("apps/v1", "ControllerRevision", &revision)["data"],
            json!({"spec": {"template": {"$patch": "replace"}}})
        );
    }

    #[test]
    fn envelope_errors() {
        assert!(matches!(decode(b"{\"kind\":\"Pod\"}"), Err(ProtobufError::BadEnvelope(_))));
        assert!(matches!(decode(b"k8s\0\xff\xff"), Err(ProtobufError::BadEnvelope(_))));
        let ns = core::v1::Namespace::default();
        assert!(matches!(decode(&envelope("", "Namespace", &ns)), Err(ProtobufError::BadEnvelope(_))));
        let err = decode(&envelope("example.com/v1", "Widget", &ns)).expect_err("unknown kind");
        assert_eq!(err.to_string(), "no kind \"Widget\" is registered for version \"example.com/v1\" in protobuf");
        // A nested type is not a request body.
        assert!(matches!(decode(&envelope("v1", "PodSpec", &ns)), Err(ProtobufError::UnknownType { .. })));
        // Bytes that are not a Namespace message (field 1 as a varint where a message belongs).
        let mut body = MAGIC.to_vec();
        body.extend(
            Unknown {
                type_meta: Some(TypeMeta { api_version: s("v1"), kind: s("Namespace") }),
                raw: Some(vec![0x08, 0x01]),
                content_encoding: None,
                content_type: None,
            }
            .encode_to_vec(),
        );
        assert!(matches!(decode(&body), Err(ProtobufError::Decode { .. })));
    }

    #[test]
    fn kinds_resolve_across_groups() {
        let schema = schema().expect("schema");
        for (api_version, kind, message) in [
            ("v1", "Binding", "k8s.io.api.core.v1.Binding"),
            ("v1", "DeleteOptions", "k8s.io.apimachinery.pkg.apis.meta.v1.DeleteOptions"),
            ("meta.k8s.io/v1", "Status", "k8s.io.apimachinery.pkg.apis.meta.v1.Status"),
            ("autoscaling/v1", "Scale", "k8s.io.api.autoscaling.v1.Scale"),
            ("autoscaling/v2", "HorizontalPodAutoscaler", "k8s.io.api.autoscaling.v2.HorizontalPodAutoscaler"),
            ("policy/v1", "Eviction", "k8s.io.api.policy.v1.Eviction"),
            ("rbac.authorization.k8s.io/v1", "ClusterRole", "k8s.io.api.rbac.v1.ClusterRole"),
            ("flowcontrol.apiserver.k8s.io/v1", "FlowSchema", "k8s.io.api.flowcontrol.v1.FlowSchema"),
            ("networking.k8s.io/v1", "Ingress", "k8s.io.api.networking.v1.Ingress"),
            ("storage.k8s.io/v1", "CSIDriver", "k8s.io.api.storage.v1.CSIDriver"),
            ("discovery.k8s.io/v1", "EndpointSlice", "k8s.io.api.discovery.v1.EndpointSlice"),
            ("events.k8s.io/v1", "Event", "k8s.io.api.events.v1.Event"),
            (
                "certificates.k8s.io/v1",
                "CertificateSigningRequest",
                "k8s.io.api.certificates.v1.CertificateSigningRequest",
            ),
            (
                "admissionregistration.k8s.io/v1",
                "ValidatingWebhookConfiguration",
                "k8s.io.api.admissionregistration.v1.ValidatingWebhookConfiguration",
            ),
            ("authentication.k8s.io/v1", "TokenReview", "k8s.io.api.authentication.v1.TokenReview"),
            ("authorization.k8s.io/v1", "SubjectAccessReview", "k8s.io.api.authorization.v1.SubjectAccessReview"),
            ("node.k8s.io/v1", "RuntimeClass", "k8s.io.api.node.v1.RuntimeClass"),
            ("scheduling.k8s.io/v1", "PriorityClass", "k8s.io.api.scheduling.v1.PriorityClass"),
        ] {
            let found = lookup(schema, api_version, kind).map(|d| d.full_name().to_string());
            assert_eq!(found.as_deref(), Some(message), "{api_version} {kind}");
        }
    }

    #[test]
    fn json_names_are_the_field_names_except_schema_keywords() {
        // Kubernetes names proto fields after their JSON keys; only JSONSchemaProps has keys
        // ($ref, x-kubernetes-*) that are not identifiers and carry an explicit json_name.
        let schema = schema().expect("schema");
        let mut renamed = Vec::new();
        for message in schema.pool.all_messages().filter(|m| m.package_name().starts_with("k8s.io.")) {
            for field in message.fields() {
                if field.name() != field.json_name() {
                    renamed.push(format!("{}={}", field.name(), field.json_name()));
                }
            }
        }
        renamed.sort();
        assert!(renamed.iter().all(|r| r.contains("=$") || r.contains("=x-kubernetes-")), "{renamed:?}");
        assert!(renamed.contains(&"ref=$ref".to_string()));
    }

    #[test]
    fn cluster_role_keeps_empty_api_group() {
        let role = k8s_pb::api::rbac::v1::ClusterRole {
            metadata: Some(client_meta("pod-reader", "", BTreeMap::new())),
            rules: vec![k8s_pb::api::rbac::v1::PolicyRule {
                verbs: vec!["get".into(), "list".into()],
                api_groups: vec![String::new()],
                resources: vec!["pods".into()],
                ..Default::default()
            }],
            aggregation_rule: None,
        };
        assert_eq!(
            decoded("rbac.authorization.k8s.io/v1", "ClusterRole", &role)["rules"],
            json!([{"verbs": ["get", "list"], "apiGroups": [""], "resources": ["pods"]}])
        );
    }

    #[test]
    fn go_durations() {
        assert_eq!(go_duration(0), "0s");
        assert_eq!(go_duration(999), "999ns");
        assert_eq!(go_duration(1_500), "1.5\u{b5}s");
        assert_eq!(go_duration(100_000_000), "100ms");
        assert_eq!(go_duration(1_500_000_000), "1.5s");
        assert_eq!(go_duration(90_000_000_000), "1m30s");
        assert_eq!(go_duration(3_600_000_000_000), "1h0m0s");
        assert_eq!(go_duration(-2_000_000_000), "-2s");
    }
}
