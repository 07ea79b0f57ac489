//! The Swagger 2.0 document in gnostic's protobuf (`openapi.v2.Document`), the form client-go
//! asks `/openapi/v2` for and the only one it reads. Written straight from the JSON document
//! with the field numbers of gnostic's OpenAPIv2.proto; what the proto has no field for is
//! left out, as gnostic's own JSON-to-protobuf reader leaves it. Vendor extensions
//! (`x-kubernetes-...`) travel as `NamedAny` whose `Any` holds the value as YAML text (JSON
//! is YAML), which is where kube-openapi's parsers read them.

use serde_json::{Map, Value};

/// A protobuf message being written.
#[derive(Default)]
struct Message(Vec<u8>);

impl Message {
    fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.0.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
    }

    fn key(&mut self, field: u32, wire_type: u8) {
        self.varint(u64::from(field) << 3 | u64::from(wire_type));
    }

    fn bytes(&mut self, field: u32, bytes: &[u8]) {
        self.key(field, 2);
        self.varint(bytes.len() as u64);
        self.0.extend_from_slice(bytes);
    }

    fn string(&mut self, field: u32, value: &Value) {
        if let Some(s) = value.as_str().filter(|s| !s.is_empty()) {
            self.bytes(field, s.as_bytes());
        }
    }

    fn strings(&mut self, field: u32, value: &Value) {
        for s in value.as_array().into_iter().flatten().filter_map(Value::as_str) {
            self.bytes(field, s.as_bytes());
        }
    }

    fn message(&mut self, field: u32, message: Message) {
        self.bytes(field, &message.0);
    }

    fn boolean(&mut self, field: u32, value: &Value) {
        if value.as_bool() == Some(true) {
            self.key(field, 0);
            self.varint(1);
        }
    }

    fn int64(&mut self, field: u32, value: &Value) {
        if let Some(v) = value.as_i64().filter(|v| *v != 0) {
            self.key(field, 0);
            self.varint(v as u64);
        }
    }

    fn double(&mut self, field: u32, value: &Value) {
        if let Some(v) = value.as_f64().filter(|v| *v != 0.0) {
            self.key(field, 1);
            self.0.extend_from_slice(&v.to_le_bytes());
        }
    }

    /// `Any { yaml = 2 }`.
    fn any(&mut self, field: u32, value: &Value) {
        let mut any = Message::default();
        any.string(2, &Value::String(value.to_string()));
        self.message(field, any);
    }

    /// A `Named*` pair: `name = 1`, `value = 2`.
    fn named(&mut self, field: u32, name: &str, value: Message) {
        let mut pair = Message::default();
        pair.bytes(1, name.as_bytes());
        pair.message(2, value);
        self.message(field, pair);
    }

    /// Every `x-` key of `object` as `NamedAny` in `field`.
    fn extensions(&mut self, field: u32, object: &Map<String, Value>) {
        for (name, value) in object.iter().filter(|(k, _)| k.starts_with("x-")) {
            let mut pair = Message::default();
            pair.bytes(1, name.as_bytes());
            pair.any(2, value);
            self.message(field, pair);
        }
    }
}

fn object(value: &Value) -> Map<String, Value> {
    value.as_object().cloned().unwrap_or_default()
}

/// Encodes the Swagger 2.0 JSON document as `openapi.v2.Document`.
pub fn encode(doc: &Value) -> Vec<u8> {
    let mut out = Message::default();
    out.string(1, &doc["swagger"]);
    let mut info = Message::default();
    info.string(1, &doc["info"]["title"]);
    info.string(2, &doc["info"]["version"]);
    out.message(2, info);
    let mut paths = Message::default();
    for (path, item) in object(&doc["paths"]) {
        paths.named(2, &path, path_item(&item));
    }
    out.message(8, paths);
    let mut definitions = Message::default();
    for (name, s) in object(&doc["definitions"]) {
        definitions.named(1, &name, schema(&s));
    }
    out.message(9, definitions);
    for requirement in doc["security"].as_array().into_iter().flatten() {
        let mut names = Message::default();
        for (name, scopes) in object(requirement) {
            let mut array = Message::default();
            array.strings(1, &scopes);
            names.named(1, &name, array);
        }
        out.message(12, names);
    }
    let mut security = Message::default();
    for (name, scheme) in object(&doc["securityDefinitions"]) {
        // SecurityDefinitionsItem { api_key_security = 2 } of ApiKeySecurity
        // { type = 1, name = 2, in = 3, description = 4 }.
        let mut api_key = Message::default();
        api_key.string(1, &scheme["type"]);
        api_key.string(2, &scheme["name"]);
        api_key.string(3, &scheme["in"]);
        api_key.string(4, &scheme["description"]);
        let mut item = Message::default();
        item.message(2, api_key);
        security.named(1, &name, item);
    }
    out.message(13, security);
    out.0
}

/// `PathItem`: get 2, put 3, post 4, delete 5, options 6, head 7, patch 8, parameters 9.
fn path_item(item: &Value) -> Message {
    let mut out = Message::default();
    for (method, field) in
        [("get", 2), ("put", 3), ("post", 4), ("delete", 5), ("options", 6), ("head", 7), ("patch", 8)]
    {
        if let Some(op) = item.get(method) {
            out.message(field, operation(op));
        }
    }
    for p in item["parameters"].as_array().into_iter().flatten() {
        out.message(9, parameter(p));
    }
    out.extensions(10, &object(item));
    out
}

/// `Operation`: tags 1, summary 2, description 3, operation_id 5, produces 6, consumes 7,
/// parameters 8, responses 9, schemes 10, deprecated 11, vendor_extension 13.
fn operation(op: &Value) -> Message {
    let mut out = Message::default();
    out.strings(1, &op["tags"]);
    out.string(2, &op["summary"]);
    out.string(3, &op["description"]);
    out.string(5, &op["operationId"]);
    out.strings(6, &op["produces"]);
    out.strings(7, &op["consumes"]);
    for p in op["parameters"].as_array().into_iter().flatten() {
        out.message(8, parameter(p));
    }
    let mut responses = Message::default();
    for (code, response) in object(&op["responses"]) {
        // ResponseValue { response = 1 } of Response { description 1, schema 2 (SchemaItem
        // { schema = 1 }) }.
        let mut body = Message::default();
        body.string(1, &response["description"]);
        if let Some(s) = response.get("schema") {
            let mut item = Message::default();
            item.message(1, schema(s));
            body.message(2, item);
        }
        let mut value = Message::default();
        value.message(1, body);
        responses.named(1, &code, value);
    }
    out.message(9, responses);
    out.strings(10, &op["schemes"]);
    out.boolean(11, &op["deprecated"]);
    out.extensions(13, &object(op));
    out
}

/// `ParametersItem { parameter = 1 }` of `Parameter`: `body_parameter = 1` or
/// `non_body_parameter = 2` (`query_parameter_sub_schema = 3`, `path_parameter_sub_schema = 4`,
/// `header_parameter_sub_schema = 1`).
fn parameter(p: &Value) -> Message {
    let mut parameter = Message::default();
    if p["in"] == "body" {
        let mut body = Message::default();
        body.string(1, &p["description"]);
        body.string(2, &p["name"]);
        body.string(3, &p["in"]);
        body.boolean(4, &p["required"]);
        if let Some(s) = p.get("schema") {
            body.message(5, schema(s));
        }
        parameter.message(1, body);
    } else {
        // The three sub-schemas share their first fields; then type and unique_items sit
        // one number further in a query parameter (allow_empty_value = 5 comes first).
        let (which, type_field, unique_field) = match p["in"].as_str() {
            Some("query") => (3, 6, 20),
            Some("header") => (1, 5, 19),
            _ => (4, 5, 19),
        };
        let mut sub = Message::default();
        sub.boolean(1, &p["required"]);
        sub.string(2, &p["in"]);
        sub.string(3, &p["description"]);
        sub.string(4, &p["name"]);
        sub.string(type_field, &p["type"]);
        sub.boolean(unique_field, &p["uniqueItems"]);
        let mut non_body = Message::default();
        non_body.message(which, sub);
        parameter.message(2, non_body);
    }
    let mut item = Message::default();
    item.message(1, parameter);
    item
}

/// `Schema`, field by field as numbered in gnostic's OpenAPIv2.proto.
fn schema(s: &Value) -> Message {
    let mut out = Message::default();
    let Some(fields) = s.as_object() else { return out };
    for (key, value) in fields {
        match key.as_str() {
            "$ref" => out.string(1, value),
            "format" => out.string(2, value),
            "title" => out.string(3, value),
            "description" => out.string(4, value),
            "default" => out.any(5, value),
            "multipleOf" => out.double(6, value),
            "maximum" => out.double(7, value),
            "exclusiveMaximum" => out.boolean(8, value),
            "minimum" => out.double(9, value),
            "exclusiveMinimum" => out.boolean(10, value),
            "maxLength" => out.int64(11, value),
            "minLength" => out.int64(12, value),
            "pattern" => out.string(13, value),
            "maxItems" => out.int64(14, value),
            "minItems" => out.int64(15, value),
            "uniqueItems" => out.boolean(16, value),
            "maxProperties" => out.int64(17, value),
            "minProperties" => out.int64(18, value),
            "required" => out.strings(19, value),
            "enum" => value.as_array().into_iter().flatten().for_each(|v| out.any(20, v)),
            "additionalProperties" => {
                // AdditionalPropertiesItem { schema = 1, boolean = 2 }
                let mut item = Message::default();
                match value {
                    Value::Bool(b) => {
                        item.key(2, 0);
                        item.varint(u64::from(*b));
                    }
                    other => item.message(1, schema(other)),
                }
                out.message(21, item);
            }
            "type" => {
                // TypeItem { repeated value = 1 }
                let mut item = Message::default();
                match value {
                    Value::Array(_) => item.strings(1, value),
                    other => item.string(1, other),
                }
                out.message(22, item);
            }
            "items" => {
                // ItemsItem { repeated schema = 1 }
                let mut item = Message::default();
                match value {
                    Value::Array(list) => list.iter().for_each(|s| item.message(1, schema(s))),
                    other => item.message(1, schema(other)),
                }
                out.message(23, item);
            }
            "allOf" => value.as_array().into_iter().flatten().for_each(|s| out.message(24, schema(s))),
            "properties" => {
                let mut properties = Message::default();
                for (name, s) in value.as_object().into_iter().flatten() {
                    properties.named(1, name, schema(s));
                }
                out.message(25, properties);
            }
            "discriminator" => out.string(26, value),
            "readOnly" => out.boolean(27, value),
            "example" => out.any(30, value),
            _ => {}
        }
    }
    out.extensions(31, fields);
    out
}
