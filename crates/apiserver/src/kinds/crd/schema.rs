//! Validation of custom resources against a CRD version's `openAPIV3Schema`, and the
//! structural-schema rules kube-apiserver enforces when a CRD is created or updated.
//!
//! Both halves follow kube-apiserver v1.32:
//! - [`validate`] emulates `k8s.io/kube-openapi/pkg/validation/validate` (the schema
//!   validator the apiextensions-apiserver runs on every write) plus the two extra passes of
//!   the custom resource strategy: embedded resources (`schema/objectmeta/validation.go`) and
//!   `x-kubernetes-list-type` set/map uniqueness (`schema/listtype/validation.go`). Messages
//!   and field paths are the ones `kubeOpenAPIResultToFieldErrors` renders.
//! - [`check_structural`] emulates the schema part of `ValidateCustomResourceDefinition`
//!   (`apis/apiextensions/validation/validation.go`), `ValidateStructural`
//!   (`apiserver/schema/validation.go`, `complete.go`) and `ValidateDefaults`
//!   (`apiserver/schema/defaulting/validation.go`).
//!
//! Schemas and objects are plain JSON. Numbers follow the apimachinery JSON decoder: a
//! number that fits an int64 is an integer, anything else is a float64.

use crate::error::Cause;
use regex::Regex;
use serde_json::{Map, Value};

// ---------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------

/// Validates a custom resource against a CRD version's `openAPIV3Schema`, as the custom
/// resource strategy does on create and update (without CEL rules and without ratcheting).
///
/// The object is validated as a whole, like kube-apiserver does: the root `metadata`,
/// `apiVersion` and `kind` are checked only as far as the schema describes them (a
/// structural schema may only restrict `metadata.name` and `metadata.generateName`), so the
/// usual `metadata: {type: object}` never fails; ObjectMeta rules themselves (name format,
/// labels, ...) are the caller's job. Call it after pruning and defaulting.
///
/// Errors of `anyOf`/`oneOf`/`allOf`/`not` carry the field `<nil>`, exactly as kube prints
/// them (`<nil>: Invalid value: "": "spec" must validate one and only one schema (oneOf). Found none valid`).
pub fn validate(schema: &Value, obj: &Value) -> Vec<Cause> {
    let mut causes = validate_against_schema(schema, obj, None);
    causes.extend(validate_embedded_resources("", obj, Some(schema)));
    if let Value::Object(m) = obj {
        causes.extend(list_sets_and_maps_object("", Some(schema), m));
    }
    causes
}

/// Checks a CRD version's `openAPIV3Schema` with the rules kube-apiserver applies to new
/// `apiextensions.k8s.io/v1` CRDs, with field paths relative to the schema root
/// (`properties[spec].type`, `type` for the root itself, `""` for the root as a whole).
///
/// Prefer [`check_structural_at`]: a few messages quote paths themselves (`because it is
/// defined in anyOf[0].properties[b]`), and only it can render them as kube does.
pub fn check_structural(schema: &Value) -> Vec<Cause> {
    check_structural_at(schema, "")
}

/// Checks a CRD version's `openAPIV3Schema` with the rules kube-apiserver applies to new
/// `apiextensions.k8s.io/v1` CRDs. `path` is the field path of the schema inside the CRD,
/// e.g. `spec.versions[0].schema.openAPIV3Schema`; every cause is rooted there.
///
/// Not covered: `x-kubernetes-validations` (CEL), the status-subresource restrictions of the
/// root schema, and the relaxed rules kube keeps for updates of CRDs that already violate them.
pub fn check_structural_at(schema: &Value, path: &str) -> Vec<Cause> {
    let mut errs = Vec::new();
    if flag(schema, "nullable") {
        errs.push(forbidden(&child(path, "nullable"), "nullable cannot be true at the root"));
    }
    // The structural checks need a schema NewStructural accepts; kube reports why it does not
    // only when nothing else is wrong, because the OpenAPI checks below say it better.
    let init_err = new_structural_error(schema);
    if init_err.is_none() {
        let mut structural = structural_invariants(schema, Level::Root, path);
        structural.extend(completeness(schema, path));
        // ValidateStructural sorts, "otherwise the errors slice will change every time".
        structural.sort_by_key(|c| c.to_line());
        if structural.is_empty() {
            errs.extend(validate_defaults(schema, path));
        } else {
            errs.extend(structural);
        }
    }
    let ssv = SpecValidator { allow_defaults: true, ..SpecValidator::default() };
    openapi_schema(schema, path, &ssv, true, &mut errs);
    if errs.is_empty() {
        if let Some(msg) = init_err {
            errs.push(invalid_cause(path, &Value::String(String::new()), &msg));
        }
    }
    errs
}

// ---------------------------------------------------------------------------------------
// Schema accessors, shared with pruning and defaulting
// ---------------------------------------------------------------------------------------

/// `additionalProperties` of a schema: a bool or a schema.
pub(crate) enum Additional<'a> {
    Bool(bool),
    Schema(&'a Value),
}

impl<'a> Additional<'a> {
    /// The schema that applies to additional properties; `None` for a bool, as in kube's
    /// `StructuralOrBool.Structural`.
    pub(crate) fn schema(&self) -> Option<&'a Value> {
        match self {
            Additional::Schema(s) => Some(s),
            Additional::Bool(_) => None,
        }
    }
}

pub(crate) fn properties(s: &Value) -> Option<&Map<String, Value>> {
    s.get("properties").and_then(Value::as_object)
}

pub(crate) fn property<'a>(s: &'a Value, name: &str) -> Option<&'a Value> {
    properties(s).and_then(|p| p.get(name))
}

pub(crate) fn additional_properties(s: &Value) -> Option<Additional<'_>> {
    match s.get("additionalProperties")? {
        Value::Bool(b) => Some(Additional::Bool(*b)),
        v @ Value::Object(_) => Some(Additional::Schema(v)),
        _ => None,
    }
}

/// `items` when it is a single schema (the only form structural schemas allow).
pub(crate) fn items(s: &Value) -> Option<&Value> {
    s.get("items").filter(|v| v.is_object())
}

pub(crate) fn flag(s: &Value, name: &str) -> bool {
    s.get(name).and_then(Value::as_bool).unwrap_or(false)
}

/// The `default` of a schema; a JSON `null` default is no default, as in kube where it
/// decodes to a nil `JSON`.
pub(crate) fn default_of(s: &Value) -> Option<&Value> {
    s.get("default").filter(|v| !v.is_null())
}

fn str_of<'a>(s: &'a Value, name: &str) -> &'a str {
    s.get(name).and_then(Value::as_str).unwrap_or("")
}

fn int_of(s: &Value, name: &str) -> Option<i64> {
    let v = s.get(name)?;
    v.as_i64().or_else(|| v.as_f64().map(|f| f as i64))
}

fn num_of(s: &Value, name: &str) -> Option<f64> {
    s.get(name).and_then(Value::as_f64)
}

fn schema_list<'a>(s: &'a Value, name: &str) -> &'a [Value] {
    s.get(name).and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[])
}

fn string_list<'a>(s: &'a Value, name: &str) -> Vec<&'a str> {
    schema_list(s, name).iter().filter_map(Value::as_str).collect()
}

/// Whether a schema keyword is set to something other than its Go zero value.
fn is_set(s: &Value, name: &str) -> bool {
    match s.get(name) {
        None | Some(Value::Null) | Some(Value::Bool(false)) => false,
        Some(Value::String(x)) => !x.is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        // maps are unset when empty, pointers to schemas are set as soon as they exist
        Some(Value::Object(o)) => {
            !o.is_empty() || !matches!(name, "properties" | "patternProperties" | "definitions" | "dependencies")
        }
        Some(Value::Number(_)) | Some(Value::Bool(true)) => true,
    }
}

// ---------------------------------------------------------------------------------------
// Field paths, rendered as k8s.io/apimachinery/pkg/util/validation/field.Path does
// ---------------------------------------------------------------------------------------

pub(crate) fn child(p: &str, name: &str) -> String {
    if p.is_empty() {
        name.to_string()
    } else {
        format!("{p}.{name}")
    }
}

pub(crate) fn key(p: &str, k: &str) -> String {
    format!("{p}[{k}]")
}

pub(crate) fn index(p: &str, i: usize) -> String {
    format!("{p}[{i}]")
}

// ---------------------------------------------------------------------------------------
// Go value rendering: field.Error bodies print bad values with %v, %q or %#v
// ---------------------------------------------------------------------------------------

/// A JSON number as the apimachinery decoder types it.
enum Num {
    Int(i64),
    Float(f64),
}

fn num(v: &Value) -> Option<Num> {
    match v {
        Value::Number(n) => Some(match n.as_i64() {
            Some(i) => Num::Int(i),
            None => Num::Float(n.as_f64().unwrap_or(0.0)),
        }),
        _ => None,
    }
}

/// Go's `strconv.Quote`.
pub(crate) fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if c != ' ' && (c.is_control() || c.is_whitespace() || is_format_char(c)) => {
                if (c as u32) < 0x10000 {
                    out.push_str(&format!("\\u{:04x}", c as u32));
                } else {
                    out.push_str(&format!("\\U{:08x}", c as u32));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn is_format_char(c: char) -> bool {
    matches!(c as u32, 0xad | 0x200b..=0x200f | 0x2028..=0x202e | 0x2060..=0x2064 | 0xfeff)
}

/// Go's `%v` of a float64: `strconv.FormatFloat(f, 'g', -1, 64)`.
pub(crate) fn go_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf".into() } else { "-Inf".into() };
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0".into() } else { "0".into() };
    }
    let (neg, digits, exp) = shortest_digits(f);
    let sign = if neg { "-" } else { "" };
    // %g with the shortest precision switches to %e when the exponent is < -4 or >= 6.
    if !(-4..6).contains(&exp) {
        format!("{sign}{}", exp_form(&digits, exp))
    } else {
        format!("{sign}{}", plain_form(&digits, exp))
    }
}

/// Go's `encoding/json` rendering of a float64.
fn go_json_float(f: f64) -> String {
    if f == 0.0 {
        return "0".into();
    }
    let (neg, digits, exp) = shortest_digits(f);
    let sign = if neg { "-" } else { "" };
    let abs = f.abs();
    if !(1e-6..1e21).contains(&abs) {
        // strconv 'e' then json's "e-09 -> e-9" cleanup.
        let s = exp_form(&digits, exp);
        let s = match s.find("e-0") {
            Some(i) if s.len() - i == 4 => format!("{}e-{}", &s[..i], &s[i + 3..]),
            _ => s,
        };
        format!("{sign}{s}")
    } else {
        format!("{sign}{}", plain_form(&digits, exp))
    }
}

/// Shortest round-trip digits of |f| and the decimal exponent of the first digit.
fn shortest_digits(f: f64) -> (bool, String, i32) {
    let s = format!("{:e}", f.abs());
    let (mant, exp) = s.split_once('e').unwrap_or((s.as_str(), "0"));
    let digits: String = mant.chars().filter(char::is_ascii_digit).collect();
    let digits = digits.trim_end_matches('0').to_string();
    let digits = if digits.is_empty() { "0".to_string() } else { digits };
    (f < 0.0, digits, exp.parse().unwrap_or(0))
}

fn exp_form(digits: &str, exp: i32) -> String {
    let mut s = digits[..1].to_string();
    if digits.len() > 1 {
        s.push('.');
        s.push_str(&digits[1..]);
    }
    let (es, ea) = if exp < 0 { ('-', -exp) } else { ('+', exp) };
    format!("{s}e{es}{ea:02}")
}

fn plain_form(digits: &str, exp: i32) -> String {
    let nd = digits.len() as i32;
    let dp = exp + 1;
    if dp <= 0 {
        format!("0.{}{}", "0".repeat((-dp) as usize), digits)
    } else if dp >= nd {
        format!("{}{}", digits, "0".repeat((dp - nd) as usize))
    } else {
        format!("{}.{}", &digits[..dp as usize], &digits[dp as usize..])
    }
}

fn go_number(v: &Value) -> String {
    match num(v) {
        Some(Num::Int(i)) => i.to_string(),
        Some(Num::Float(f)) => go_float(f),
        None => String::new(),
    }
}

/// Go's `%#v` of a decoded JSON value held in an `interface{}`.
pub(crate) fn go_sharp_v(v: &Value) -> String {
    match v {
        Value::Null => "interface {}(nil)".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(_) => go_number(v),
        Value::String(s) => go_quote(s),
        Value::Array(a) => {
            let items: Vec<String> = a.iter().map(go_sharp_v).collect();
            format!("[]interface {{}}{{{}}}", items.join(", "))
        }
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let items: Vec<String> =
                keys.iter().map(|k| format!("{}:{}", go_quote(k), go_sharp_v(&m[k.as_str()]))).collect();
            format!("map[string]interface {{}}{{{}}}", items.join(", "))
        }
    }
}

/// How `field.Error.ErrorBody` prints a bad value: nil as `"null"`, numbers and bools with
/// `%v`, strings with `%q`, maps and slices with `%#v`.
pub(crate) fn go_bad_value(v: &Value) -> String {
    match v {
        Value::Null => go_quote("null"),
        Value::Object(_) | Value::Array(_) => go_sharp_v(v),
        Value::Bool(b) => b.to_string(),
        Value::Number(_) => go_number(v),
        Value::String(s) => go_quote(s),
    }
}

/// Go's `json.Marshal` of a decoded JSON value (sorted keys, HTML-escaped strings).
fn go_json(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => match n.as_i64() {
            Some(i) => i.to_string(),
            None => go_json_float(n.as_f64().unwrap_or(0.0)),
        },
        Value::String(s) => {
            let mut out = String::from("\"");
            for c in s.chars() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    '\t' => out.push_str("\\t"),
                    '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => out.push_str(&format!("\\u{:04x}", c as u32)),
                    c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
                    c => out.push(c),
                }
            }
            out.push('"');
            out
        }
        Value::Array(a) => format!("[{}]", a.iter().map(go_json).collect::<Vec<_>>().join(",")),
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let items: Vec<String> = keys
                .iter()
                .map(|k| format!("{}:{}", go_json(&Value::String((*k).clone())), go_json(&m[k.as_str()])))
                .collect();
            format!("{{{}}}", items.join(","))
        }
    }
}

// ---------------------------------------------------------------------------------------
// field.Error constructors
// ---------------------------------------------------------------------------------------

fn cause(reason: &str, field: &str, body: String, detail: &str) -> Cause {
    let message = if detail.is_empty() { body } else { format!("{body}: {detail}") };
    Cause { reason: reason.to_string(), message, field: field.to_string() }
}

fn required(field: &str, detail: &str) -> Cause {
    cause("FieldValueRequired", field, "Required value".into(), detail)
}

fn forbidden(field: &str, detail: &str) -> Cause {
    cause("FieldValueForbidden", field, "Forbidden".into(), detail)
}

fn invalid_cause(field: &str, value: &Value, detail: &str) -> Cause {
    cause("FieldValueInvalid", field, format!("Invalid value: {}", go_bad_value(value)), detail)
}

fn type_invalid(field: &str, value: &Value, detail: &str) -> Cause {
    cause("FieldValueTypeInvalid", field, format!("Invalid value: {}", go_bad_value(value)), detail)
}

fn not_supported(field: &str, value: &Value, valid: &[String]) -> Cause {
    let quoted: Vec<String> = valid.iter().map(|v| go_quote(v)).collect();
    let detail = if quoted.is_empty() { String::new() } else { format!("supported values: {}", quoted.join(", ")) };
    cause("FieldValueNotSupported", field, format!("Unsupported value: {}", go_bad_value(value)), &detail)
}

fn duplicate(field: &str, value: &Value) -> Cause {
    cause("FieldValueDuplicate", field, format!("Duplicate value: {}", go_bad_value(value)), "")
}

fn too_long(field: &str, max: i64) -> Cause {
    // kube 1.32's field.TooLong omits the value and counts bytes, even though the OpenAPI
    // validator counted runes.
    let detail = if max >= 0 {
        format!("may not be more than {max} {}", if max == 1 { "byte" } else { "bytes" })
    } else {
        "value is too long".into()
    };
    cause("FieldValueTooLong", field, "Too long".into(), &detail)
}

fn too_many(field: &str, actual: i64, max: i64) -> Cause {
    let detail = if max >= 0 {
        format!("must have at most {max} {}", if max == 1 { "item" } else { "items" })
    } else {
        "has too many items".into()
    };
    let body = if actual >= 0 { format!("Too many: {actual}") } else { "Too many".into() };
    cause("FieldValueTooMany", field, body, &detail)
}

// ---------------------------------------------------------------------------------------
// The kube-openapi schema validator
// ---------------------------------------------------------------------------------------

/// kube-openapi's error codes, as far as `kubeOpenAPIResultToFieldErrors` tells them apart.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Code {
    /// Composite errors of anyOf/oneOf/allOf/not: not an `*errors.Validation`.
    Composite,
    InvalidType,
    Required,
    TooLong,
    Enum,
    MaxItems,
    TooManyProperties,
    Other,
}

#[derive(Clone, Debug)]
struct OErr {
    code: Code,
    /// The kube-openapi path, e.g. `spec.replicas` or `.spec` for a required root field.
    name: String,
    value: Option<Value>,
    valid: Option<i64>,
    values: Vec<Value>,
    message: String,
}

impl OErr {
    fn new(code: Code, name: &str, value: Option<Value>, message: String) -> Self {
        OErr { code, name: name.to_string(), value, valid: None, values: Vec::new(), message }
    }
}

/// kube-openapi's `Result`: errors (deduplicated by message) and the match count that
/// decides which failing anyOf/oneOf branch gets reported.
#[derive(Default, Clone, Debug)]
struct Res {
    errors: Vec<OErr>,
    matches: i64,
}

impl Res {
    fn fail(e: OErr) -> Self {
        Res { errors: vec![e], matches: 0 }
    }
    fn add(&mut self, e: OErr) {
        if !self.errors.iter().any(|x| x.message == e.message) {
            self.errors.push(e);
        }
    }
    fn merge(&mut self, other: Res) {
        for e in other.errors {
            self.add(e);
        }
        self.matches += other.matches;
    }
    fn merge_opt(&mut self, other: Option<Res>) {
        if let Some(o) = other {
            self.merge(o);
        }
    }
    fn is_valid(&self) -> bool {
        self.errors.is_empty()
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Null,
    Bool,
    Int,
    Float,
    Str,
    Array,
    Object,
}

fn kind(v: &Value) -> Kind {
    match v {
        Value::Null => Kind::Null,
        Value::Bool(_) => Kind::Bool,
        Value::Number(n) if n.as_i64().is_some() => Kind::Int,
        Value::Number(_) => Kind::Float,
        Value::String(_) => Kind::Str,
        Value::Array(_) => Kind::Array,
        Value::Object(_) => Kind::Object,
    }
}

/// The JSON-schema type and format kube-openapi infers from a decoded value.
fn schema_info(v: &Value) -> (&'static str, &'static str) {
    match kind(v) {
        Kind::Bool => ("boolean", ""),
        Kind::Str => ("string", ""),
        Kind::Int => ("integer", "int64"),
        Kind::Float => ("number", "float64"),
        Kind::Array => ("array", ""),
        Kind::Object => ("object", ""),
        Kind::Null => ("", ""),
    }
}

/// Formats CRD schemas support (`StripUnsupportedFormatsPostProcess`); any other format,
/// including int32/int64/float/double, is dropped before validation and has no effect.
const SUPPORTED_FORMATS: &[&str] = &[
    "bsonobjectid",
    "uri",
    "email",
    "hostname",
    "ipv4",
    "ipv6",
    "cidr",
    "mac",
    "uuid",
    "uuid3",
    "uuid4",
    "uuid5",
    "isbn",
    "isbn10",
    "isbn13",
    "creditcard",
    "ssn",
    "hexcolor",
    "rgbcolor",
    "byte",
    "password",
    "date",
    "duration",
    "datetime",
];

fn effective_format(s: &Value) -> &str {
    let f = str_of(s, "format");
    if SUPPORTED_FORMATS.contains(&f.replace('-', "").as_str()) {
        f
    } else {
        ""
    }
}

fn types_of(s: &Value) -> Vec<&str> {
    if flag(s, "x-kubernetes-int-or-string") {
        return vec!["integer", "string"];
    }
    match str_of(s, "type") {
        "" => Vec::new(),
        t => vec![t],
    }
}

fn is_json_integer(f: f64) -> bool {
    const MAX: f64 = 9_007_199_254_740_991.0;
    if !f.is_finite() || !(-MAX..=MAX).contains(&f) {
        return false;
    }
    if f == f.trunc() {
        return true;
    }
    let g = f.trunc();
    let diff = (f - g).abs();
    if g == 0.0 {
        return false;
    }
    diff / (f.abs() + g.abs()) < 1e-9
}

fn in_body(path: &str) -> String {
    format!("{path} in body")
}

fn invalid_type_err(path: &str, type_name: &str, value: &str) -> OErr {
    OErr::new(
        Code::InvalidType,
        path,
        Some(Value::String(value.to_string())),
        format!("{} must be of type {type_name}: {}", in_body(path), go_quote(value)),
    )
}

/// Validates `data` against `schema` with the kube-openapi validator; paths are rooted at
/// `root` (`None` is kube's nil path).
fn validate_against_schema(schema: &Value, data: &Value, root: Option<&str>) -> Vec<Cause> {
    let res = validate_node(schema, data, "");
    res.errors.iter().map(|e| to_cause(e, root)).collect()
}

/// `kubeOpenAPIResultToFieldErrors`.
fn to_cause(e: &OErr, root: Option<&str>) -> Cause {
    let base = root.unwrap_or("");
    let path = if !e.name.is_empty() && e.name != "." {
        child(base, e.name.strip_prefix('.').unwrap_or(&e.name))
    } else {
        base.to_string()
    };
    // A nil field.Path prints as "<nil>".
    let path = if path.is_empty() && root.is_none() { "<nil>".to_string() } else { path };
    let empty = Value::String(String::new());
    let value = e.value.as_ref().unwrap_or(&empty);
    match e.code {
        Code::Composite => {
            let field = match root {
                Some(r) => r.to_string(),
                None => "<nil>".to_string(),
            };
            invalid_cause(&field, &empty, &e.message)
        }
        Code::Required => required(&path, ""),
        Code::Enum => {
            let values: Vec<String> = e
                .values
                .iter()
                .map(|v| match v {
                    Value::String(s) => s.clone(),
                    other => go_json(other),
                })
                .collect();
            let bad = e.value.clone().unwrap_or(Value::Null);
            not_supported(&path, &bad, &values)
        }
        Code::TooLong => too_long(&path, e.valid.unwrap_or(-1)),
        Code::MaxItems | Code::TooManyProperties => {
            too_many(&path, value.as_i64().unwrap_or(-1), e.valid.unwrap_or(-1))
        }
        Code::InvalidType => type_invalid(&path, value, &e.message),
        Code::Other => invalid_cause(&path, value, &e.message),
    }
}

/// `SchemaValidator.Validate`.
fn validate_node(s: &Value, data: &Value, path: &str) -> Res {
    let mut res = Res::default();
    let types = types_of(s);
    let format = effective_format(s);
    if data.is_null() {
        // Only the type and the common (enum) validators see a null.
        res.merge(type_validate(&types, flag(s, "nullable"), format, path, data));
        res.merge_opt(enum_validate(s, path, data));
        return res;
    }
    let k = kind(data);
    if !types.is_empty() || !format.is_empty() {
        res.merge(type_validate(&types, flag(s, "nullable"), format, path, data));
        res.matches += 1;
    }
    res.merge(junctors_validate(s, path, data));
    res.matches += 1;
    if k == Kind::Str {
        res.merge_opt(string_validate(s, path, data));
        res.matches += 1;
        if !format.is_empty() {
            res.merge_opt(format_validate(format, path, data));
            res.matches += 1;
        }
    }
    if k == Kind::Int || k == Kind::Float {
        res.merge(number_validate(s, path, data));
        res.matches += 1;
    }
    if k == Kind::Array {
        res.merge(slice_validate(s, path, data));
        res.matches += 1;
    }
    res.merge_opt(enum_validate(s, path, data));
    res.matches += 1;
    if k == Kind::Object {
        res.merge(object_validate(s, path, data));
        res.matches += 1;
    }
    res.matches += 1;
    res
}

/// `typeValidator.Validate`, quirks included: a string or array passes a string format
/// check whatever its type, and a non-string is reported against the format name.
fn type_validate(types: &[&str], nullable: bool, format: &str, path: &str, data: &Value) -> Res {
    let ok = Res { errors: Vec::new(), matches: 1 };
    if data.is_null() {
        if !types.is_empty() && !types.contains(&"null") && !nullable {
            return Res::fail(invalid_type_err(path, &types.join(","), "null"));
        }
        return ok;
    }
    let k = kind(data);
    let (sch, fmt) = schema_info(data);
    let is_float_int = sch == "number" && data.as_f64().is_some_and(is_json_integer) && types.contains(&"integer");
    let is_int_float = sch == "integer" && types.contains(&"number");
    if k != Kind::Str
        && k != Kind::Array
        && !format.is_empty()
        && !(types.contains(&sch) || fmt == format || is_float_int || is_int_float)
    {
        return Res::fail(invalid_type_err(path, format, fmt));
    }
    let numeric = types.contains(&"number") || types.contains(&"integer");
    if !numeric && !format.is_empty() && (k == Kind::Str || k == Kind::Array) {
        return ok;
    }
    if !(types.contains(&sch) || is_float_int || is_int_float) {
        return Res::fail(invalid_type_err(path, &types.join(","), sch));
    }
    ok
}

fn composite(message: String) -> OErr {
    OErr::new(Code::Composite, "", None, message)
}

/// `schemaPropsValidator.Validate`: anyOf, oneOf, allOf and not.
fn junctors_validate(s: &Value, path: &str, data: &Value) -> Res {
    let mut main = Res::default();
    let any_of = schema_list(s, "anyOf");
    if !any_of.is_empty() {
        let mut best: Option<Res> = None;
        let mut first_success: Option<Res> = None;
        let mut succeeded = false;
        for sub in any_of {
            let r = validate_node(sub, data, path);
            if r.is_valid() {
                best = None;
                succeeded = true;
                first_success.get_or_insert(r);
                break;
            }
            if best.as_ref().is_none_or(|b| r.matches > b.matches) {
                best = Some(r);
            }
        }
        if !succeeded {
            main.add(composite(format!("{} must validate at least one schema (anyOf)", go_quote(path))));
        }
        match best {
            Some(b) => main.merge(b),
            None => main.merge_opt(first_success),
        }
    }
    let one_of = schema_list(s, "oneOf");
    if !one_of.is_empty() {
        let mut best: Option<Res> = None;
        let mut first_success: Option<Res> = None;
        let mut validated = 0;
        for sub in one_of {
            let r = validate_node(sub, data, path);
            if r.is_valid() {
                validated += 1;
                best = None;
                if first_success.is_none() {
                    first_success = Some(r);
                }
                continue;
            }
            if validated == 0 && best.as_ref().is_none_or(|b| r.matches > b.matches) {
                best = Some(r);
            }
        }
        if validated != 1 {
            let additional = if validated == 0 {
                "Found none valid".to_string()
            } else {
                format!("Found {validated} valid alternatives")
            };
            main.add(composite(format!(
                "{} must validate one and only one schema (oneOf). {additional}",
                go_quote(path)
            )));
            main.merge_opt(best);
        } else {
            main.merge_opt(first_success);
        }
    }
    let all_of = schema_list(s, "allOf");
    if !all_of.is_empty() {
        let mut validated = 0;
        for sub in all_of {
            let r = validate_node(sub, data, path);
            if r.is_valid() {
                validated += 1;
            }
            main.merge(r);
        }
        if validated != all_of.len() {
            let additional = if validated == 0 { ". None validated" } else { "" };
            main.add(composite(format!("{} must validate all the schemas (allOf){additional}", go_quote(path))));
        }
    }
    if let Some(not) = s.get("not").filter(|v| v.is_object()) {
        if validate_node(not, data, path).is_valid() {
            main.add(composite(format!("{} must not validate the schema (not)", go_quote(path))));
        }
    }
    main.matches += 1;
    main
}

/// `stringValidator.Validate`: the first failing of maxLength, minLength, pattern.
fn string_validate(s: &Value, path: &str, data: &Value) -> Option<Res> {
    let text = data.as_str()?;
    let len = text.chars().count() as i64;
    if let Some(max) = int_of(s, "maxLength") {
        if len > max {
            let mut e = OErr::new(
                Code::TooLong,
                path,
                Some(data.clone()),
                format!("{} should be at most {max} chars long", in_body(path)),
            );
            e.valid = Some(max);
            return Some(Res::fail(e));
        }
    }
    if let Some(min) = int_of(s, "minLength") {
        if len < min {
            return Some(Res::fail(OErr::new(
                Code::Other,
                path,
                Some(data.clone()),
                format!("{} should be at least {min} chars long", in_body(path)),
            )));
        }
    }
    let pattern = str_of(s, "pattern");
    if !pattern.is_empty() {
        match cached_regex(pattern) {
            Err(err) => {
                return Some(Res::fail(OErr::new(
                    Code::Other,
                    path,
                    Some(data.clone()),
                    format!("{} should match '{pattern}, but pattern is invalid: {err}'", in_body(path)),
                )))
            }
            Ok(re) if !re.is_match(text) => {
                return Some(Res::fail(OErr::new(
                    Code::Other,
                    path,
                    Some(data.clone()),
                    format!("{} should match '{pattern}'", in_body(path)),
                )))
            }
            Ok(_) => {}
        }
    }
    None
}

/// Compiled patterns, shared across requests: kube-openapi caches them too, and a CRD's
/// patterns are few while the strings checked against them are many.
fn cached_regex(pattern: &str) -> Result<Regex, String> {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static CACHE: OnceLock<Mutex<HashMap<String, Result<Regex, String>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    if let Ok(mut map) = cache.lock() {
        if let Some(hit) = map.get(pattern) {
            return hit.clone();
        }
        // Bounded so that CRDs churning through patterns cannot grow it without limit.
        if map.len() >= 4096 {
            map.clear();
        }
        let compiled = go_regex(pattern);
        map.insert(pattern.to_string(), compiled.clone());
        return compiled;
    }
    go_regex(pattern)
}

/// Compiles an RE2 pattern as Go's `regexp` understands it: Perl classes (`\d`, `\w`, `\s`,
/// `\b`) are ASCII-only in Go but Unicode-aware in Rust, so they are rewritten.
pub(crate) fn go_regex(pattern: &str) -> Result<Regex, String> {
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut chars = pattern.chars().peekable();
    let mut in_class = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let Some(n) = chars.next() else {
                    out.push('\\');
                    break;
                };
                let (inside, outside) = match n {
                    'd' => ("0-9", "[0-9]"),
                    'D' => ("[^0-9]", "[^0-9]"),
                    'w' => ("0-9A-Za-z_", "[0-9A-Za-z_]"),
                    'W' => ("[^0-9A-Za-z_]", "[^0-9A-Za-z_]"),
                    's' => ("\\t\\n\\f\\r ", "[\\t\\n\\f\\r ]"),
                    'S' => ("[^\\t\\n\\f\\r ]", "[^\\t\\n\\f\\r ]"),
                    'b' if !in_class => ("", "(?-u:\\b)"),
                    'B' if !in_class => ("", "(?-u:\\B)"),
                    _ => {
                        out.push('\\');
                        out.push(n);
                        continue;
                    }
                };
                out.push_str(if in_class { inside } else { outside });
            }
            '[' if !in_class => {
                in_class = true;
                out.push('[');
                // A leading ']' (after an optional '^') is a literal in RE2 classes.
                if chars.peek() == Some(&'^') {
                    out.push('^');
                    chars.next();
                }
                if chars.peek() == Some(&']') {
                    out.push_str("\\]");
                    chars.next();
                }
            }
            '[' if in_class && chars.peek() == Some(&':') => {
                // POSIX class like [:alpha:], copied through.
                out.push('[');
                for p in chars.by_ref() {
                    out.push(p);
                    if p == ']' {
                        break;
                    }
                }
            }
            '[' => out.push_str("\\["),
            ']' if in_class => {
                in_class = false;
                out.push(']');
            }
            c => out.push(c),
        }
    }
    Regex::new(&out).map_err(|e| {
        let detail = e.to_string();
        let last = detail.lines().rfind(|l| !l.trim().is_empty()).unwrap_or("").trim();
        let last = last.strip_prefix("error: ").unwrap_or(last);
        format!("error parsing regexp: {last}: `{pattern}`")
    })
}

/// `formatValidator.Validate`.
fn format_validate(format: &str, path: &str, data: &Value) -> Option<Res> {
    let text = data.as_str()?;
    if formats::valid(&format.replace('-', ""), text) {
        None
    } else {
        Some(Res::fail(invalid_type_err(path, format, text)))
    }
}

/// `numberValidator.Validate`: multipleOf, minimum and maximum, with integer data compared
/// against the bounds truncated to int64 as kube-openapi does.
fn number_validate(s: &Value, path: &str, data: &Value) -> Res {
    let mut res = Res::default();
    let n = num(data);
    if let Some(factor) = num_of(s, "multipleOf") {
        match n {
            Some(Num::Int(i)) => {
                let f = factor as i64;
                if f < 0 {
                    res.add(OErr::new(
                        Code::Other,
                        path,
                        Some(Value::from(f)),
                        format!("factor MultipleOf declared for {path} must be positive: {f}"),
                    ));
                } else if f != 0 && i % f != 0 {
                    res.add(OErr::new(
                        Code::Other,
                        path,
                        Some(data.clone()),
                        format!("{} should be a multiple of {f}", in_body(path)),
                    ));
                }
            }
            Some(Num::Float(d)) => {
                if factor < 0.0 {
                    res.add(OErr::new(
                        Code::Other,
                        path,
                        Some(Value::from(factor)),
                        format!("factor MultipleOf declared for {path} must be positive: {}", go_float(factor)),
                    ));
                } else {
                    let mult = if factor < 1.0 { 1.0 / factor * d } else { d / factor };
                    if !is_json_integer(mult) {
                        res.add(OErr::new(
                            Code::Other,
                            path,
                            Some(data.clone()),
                            format!("{} should be a multiple of {}", in_body(path), go_float(factor)),
                        ));
                    }
                }
            }
            None => {}
        }
    }
    let bound = |name: &str, exclusive_key: &str, lower: bool| -> Option<OErr> {
        let b = num_of(s, name)?;
        let exclusive = flag(s, exclusive_key);
        let (fails, shown_bound) = match n.as_ref()? {
            Num::Int(i) => {
                let b = b as i64;
                let fails = if lower { *i < b || (exclusive && *i == b) } else { *i > b || (exclusive && *i == b) };
                (fails, b.to_string())
            }
            Num::Float(d) => {
                let fails = if lower { *d < b || (exclusive && *d == b) } else { *d > b || (exclusive && *d == b) };
                (fails, go_float(b))
            }
        };
        if !fails {
            return None;
        }
        let relation = match (lower, exclusive) {
            (true, false) => "greater than or equal to",
            (true, true) => "greater than",
            (false, false) => "less than or equal to",
            (false, true) => "less than",
        };
        Some(OErr::new(
            Code::Other,
            path,
            Some(data.clone()),
            format!("{} should be {relation} {shown_bound}", in_body(path)),
        ))
    };
    if let Some(e) = bound("minimum", "exclusiveMinimum", true) {
        res.add(e);
    }
    if let Some(e) = bound("maximum", "exclusiveMaximum", false) {
        res.add(e);
    }
    res.matches += 1;
    res
}

/// `schemaSliceValidator.Validate`: items first, then minItems, maxItems, uniqueItems.
fn slice_validate(s: &Value, path: &str, data: &Value) -> Res {
    let mut res = Res::default();
    let Some(arr) = data.as_array() else {
        return res;
    };
    if let Some(it) = items(s) {
        for (i, v) in arr.iter().enumerate() {
            res.merge(validate_node(it, v, &index(path, i)));
        }
    }
    let size = arr.len() as i64;
    if let Some(min) = int_of(s, "minItems") {
        if size < min {
            res.add(OErr::new(
                Code::Other,
                path,
                Some(Value::from(size)),
                format!("{} should have at least {min} items", in_body(path)),
            ));
        }
    }
    if let Some(max) = int_of(s, "maxItems") {
        if size > max {
            let mut e = OErr::new(
                Code::MaxItems,
                path,
                Some(Value::from(size)),
                format!("{} should have at most {max} items", in_body(path)),
            );
            e.valid = Some(max);
            res.add(e);
        }
    }
    if flag(s, "uniqueItems") {
        let dup = arr.iter().enumerate().any(|(i, v)| arr[..i].contains(v));
        if dup {
            res.add(OErr::new(Code::Other, path, None, format!("{} shouldn't contain duplicates", in_body(path))));
        }
    }
    res.matches += 1;
    res
}

/// Go's reflect conversion of the data to the enum value's type, then DeepEqual.
fn enum_matches(data: &Value, candidate: &Value) -> bool {
    match (num(data), candidate) {
        (_, Value::Null) => false,
        (Some(Num::Int(i)), Value::Number(_)) => match num(candidate) {
            Some(Num::Int(j)) => i == j,
            Some(Num::Float(g)) => i as f64 == g,
            None => false,
        },
        (Some(Num::Float(f)), Value::Number(_)) => match num(candidate) {
            // float64 -> int64 truncates: 1.5 matches an enum of 1.
            Some(Num::Int(j)) => f as i64 == j,
            Some(Num::Float(g)) => f == g,
            None => false,
        },
        // int64 -> string is a rune conversion in Go.
        (Some(Num::Int(i)), Value::String(s)) => {
            let c = u32::try_from(i).ok().and_then(char::from_u32).unwrap_or('\u{fffd}');
            s.chars().eq(std::iter::once(c))
        }
        (Some(Num::Float(_)), _) => false,
        _ => match (data, candidate) {
            (Value::Null, _) => false,
            (a, b) => std::mem::discriminant(a) == std::mem::discriminant(b) && a == b,
        },
    }
}

/// `basicCommonValidator.Validate`: enum. A null never matches, even an enum with null.
fn enum_validate(s: &Value, path: &str, data: &Value) -> Option<Res> {
    let values = schema_list(s, "enum");
    if values.is_empty() || values.iter().any(|v| enum_matches(data, v)) {
        return None;
    }
    let shown: Vec<String> = values.iter().map(go_bad_value).collect();
    let mut e = OErr::new(
        Code::Enum,
        path,
        Some(data.clone()),
        format!("{} should be one of [{}]", in_body(path), shown.join(" ")),
    );
    e.values = values.to_vec();
    Some(Res::fail(e))
}

/// `objectValidator.Validate`.
fn object_validate(s: &Value, path: &str, data: &Value) -> Res {
    let mut res = Res::default();
    let Some(obj) = data.as_object() else {
        return res;
    };
    let n = obj.len() as i64;
    if let Some(min) = int_of(s, "minProperties") {
        if n < min {
            return Res::fail(OErr::new(
                Code::Other,
                path,
                Some(Value::from(n)),
                format!("{} should have at least {min} properties", in_body(path)),
            ));
        }
    }
    if let Some(max) = int_of(s, "maxProperties") {
        if n > max {
            let mut e = OErr::new(
                Code::TooManyProperties,
                path,
                Some(Value::from(n)),
                format!("{} should have at most {max} properties", in_body(path)),
            );
            e.valid = Some(max);
            return Res::fail(e);
        }
    }
    let props = properties(s);
    let known = |k: &str| props.is_some_and(|p| p.contains_key(k));
    match additional_properties(s) {
        Some(Additional::Bool(false)) => {
            for k in obj.keys().filter(|k| !known(k)) {
                res.add(OErr::new(
                    Code::Other,
                    path,
                    Some(Value::String(k.clone())),
                    format!("{path}.{k} in body is a forbidden property"),
                ));
            }
        }
        Some(Additional::Schema(a)) => {
            for (k, v) in obj.iter().filter(|(k, _)| !known(k)) {
                res.merge(validate_node(a, v, &format!("{path}.{k}")));
            }
        }
        _ => {}
    }
    if let Some(props) = props {
        for (name, ps) in props {
            if let Some(v) = obj.get(name) {
                let r_name = if path.is_empty() { name.clone() } else { format!("{path}.{name}") };
                res.merge(validate_node(ps, v, &r_name));
            }
        }
    }
    for k in string_list(s, "required") {
        if !obj.contains_key(k) {
            let name = format!("{path}.{k}");
            res.add(OErr::new(Code::Required, &name, None, format!("{} is required", in_body(&name))));
        }
    }
    res
}

/// String formats of kube-openapi's default registry (`strfmt/default.go`).
mod formats {
    use regex::Regex;
    use std::net::IpAddr;
    use std::sync::OnceLock;

    fn rx(cell: &'static OnceLock<Option<Regex>>, pattern: &str, s: &str) -> bool {
        cell.get_or_init(|| Regex::new(pattern).ok()).as_ref().is_some_and(|r| r.is_match(s))
    }

    pub(super) fn valid(format: &str, s: &str) -> bool {
        static HOSTNAME: OnceLock<Option<Regex>> = OnceLock::new();
        static UUID: OnceLock<Option<Regex>> = OnceLock::new();
        static UUID3: OnceLock<Option<Regex>> = OnceLock::new();
        static UUID4: OnceLock<Option<Regex>> = OnceLock::new();
        static UUID5: OnceLock<Option<Regex>> = OnceLock::new();
        static HEX: OnceLock<Option<Regex>> = OnceLock::new();
        static RGB: OnceLock<Option<Regex>> = OnceLock::new();
        static SSN: OnceLock<Option<Regex>> = OnceLock::new();
        static B64: OnceLock<Option<Regex>> = OnceLock::new();
        match format {
            "password" => true,
            "bsonobjectid" => s.len() == 24 && s.chars().all(|c| c.is_ascii_hexdigit()),
            "uri" => is_request_uri(s),
            "email" => is_email(s),
            "hostname" => {
                rx(
                    &HOSTNAME,
                    r"^([a-zA-Z0-9\p{S}\p{L}]((-?[a-zA-Z0-9\p{S}\p{L}]{0,62})?)|([a-zA-Z0-9\p{S}\p{L}](([a-zA-Z0-9-\p{S}\p{L}]{0,61}[a-zA-Z0-9\p{S}\p{L}])?)(\.)){1,}([a-zA-Z0-9\p{S}\p{L}])(-?[a-zA-Z0-9\p{S}\p{L}]){1,62})$",
                    s,
                ) && s.len() <= 255
                    && s.split('.').all(|p| p.len() <= 63)
            }
            "ipv4" => s.parse::<IpAddr>().is_ok() && s.contains('.'),
            "ipv6" => s.parse::<IpAddr>().is_ok() && s.contains(':'),
            "cidr" => is_cidr(s),
            "mac" => is_mac(s),
            "uuid" => rx(&UUID, r"(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$", s),
            "uuid3" => rx(&UUID3, r"(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?3[0-9a-f]{3}-?[0-9a-f]{4}-?[0-9a-f]{12}$", s),
            "uuid4" => rx(&UUID4, r"(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?4[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}$", s),
            "uuid5" => rx(&UUID5, r"(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?5[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}$", s),
            "isbn" => is_isbn10(s) || is_isbn13(s),
            "isbn10" => is_isbn10(s),
            "isbn13" => is_isbn13(s),
            "creditcard" => is_credit_card(s),
            "ssn" => s.len() == 11 && rx(&SSN, r"^[0-9]{3}[- ]?[0-9]{2}[- ]?[0-9]{4}$", s),
            "hexcolor" => rx(&HEX, r"^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$", s),
            "rgbcolor" => rx(
                &RGB,
                r"^rgb\(\s*(0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])\s*,\s*(0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])\s*,\s*(0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])\s*\)$",
                s,
            ),
            "byte" => rx(&B64, r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{4})$", s),
            "date" => is_date(s),
            "datetime" => is_date_time(s),
            "duration" => is_duration(s),
            _ => true,
        }
    }

    /// `time.Parse("2006-01-02", s)`, which checks the day against the month.
    pub(super) fn is_date(s: &str) -> bool {
        let b = s.as_bytes();
        if !s.is_ascii() || b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return false;
        }
        let digits = |r: std::ops::Range<usize>| -> Option<u32> {
            let part = &s[r];
            part.bytes().all(|c| c.is_ascii_digit()).then(|| part.parse().ok()).flatten()
        };
        let (Some(y), Some(m), Some(d)) = (digits(0..4), digits(5..7), digits(8..10)) else {
            return false;
        };
        let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        let days = match m {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return false,
        };
        (1..=days).contains(&d)
    }

    /// strfmt's `IsDateTime`: a date, a 't', and `hh:mm:ss[.frac](z|±hh:mm)`.
    pub(super) fn is_date_time(s: &str) -> bool {
        static TIME: OnceLock<Option<Regex>> = OnceLock::new();
        if s.len() < 4 {
            return false;
        }
        let lower = s.to_lowercase();
        let parts: Vec<&str> = lower.split('t').collect();
        if parts.len() < 2 || !is_date(parts[0]) {
            return false;
        }
        let re = TIME.get_or_init(|| {
            Regex::new(r"^([0-9]{2}):([0-9]{2}):([0-9]{2})(.[0-9]+)?(z|([+-][0-9]{2}:[0-9]{2}))$").ok()
        });
        let Some(caps) = re.as_ref().and_then(|r| r.captures(parts[1])) else {
            return false;
        };
        let part = |i: usize| caps.get(i).map_or("", |m| m.as_str()).to_string();
        part(1).as_str() <= "23" && part(2).as_str() <= "59" && part(3).as_str() <= "59"
    }

    /// strfmt's `ParseDuration`: Go's `time.ParseDuration`, or the scala-like `3 days`.
    pub(super) fn is_duration(s: &str) -> bool {
        static VALIDATOR: OnceLock<Option<Regex>> = OnceLock::new();
        static MATCHER: OnceLock<Option<Regex>> = OnceLock::new();
        if go_parse_duration(s) {
            return true;
        }
        if !rx(&VALIDATOR, r"^\s*(?:\d+\s*[A-Za-zµ]+\s*)+$", s) {
            return false;
        }
        let Some(m) = MATCHER.get_or_init(|| Regex::new(r"((\d+)\s*([A-Za-zµ]+))").ok()).as_ref() else {
            return false;
        };
        const UNITS: &[&[&str]] = &[
            &["ns", "nano"],
            &["us", "µs", "micro"],
            &["ms", "milli"],
            &["s", "sec"],
            &["m", "min"],
            &["h", "hr", "hour"],
            &["d", "day"],
            &["w", "wk", "week"],
        ];
        m.captures_iter(s).any(|c| {
            let unit = c.get(3).map_or("", |u| u.as_str()).trim().to_lowercase();
            c.get(2).is_some_and(|f| f.as_str().parse::<i64>().is_ok())
                && UNITS.iter().any(|variants| {
                    variants
                        .iter()
                        .enumerate()
                        .any(|(i, v)| (i == variants.len() - 1 && unit.starts_with(v)) || v.eq_ignore_ascii_case(&unit))
                })
        })
    }

    fn go_parse_duration(s: &str) -> bool {
        let s = s.strip_prefix(['-', '+']).unwrap_or(s);
        if s == "0" {
            return true;
        }
        if s.is_empty() {
            return false;
        }
        let mut rest = s;
        while !rest.is_empty() {
            let int_len = rest.bytes().take_while(u8::is_ascii_digit).count();
            let mut after = &rest[int_len..];
            let mut frac_len = 0;
            if let Some(f) = after.strip_prefix('.') {
                frac_len = f.bytes().take_while(u8::is_ascii_digit).count();
                after = &f[frac_len..];
            }
            if int_len == 0 && frac_len == 0 {
                return false;
            }
            let unit_len = after.find(|c: char| c == '.' || c.is_ascii_digit()).unwrap_or(after.len());
            let unit = &after[..unit_len];
            if !["ns", "us", "µs", "μs", "ms", "s", "m", "h"].contains(&unit) {
                return false;
            }
            rest = &after[unit_len..];
        }
        true
    }

    /// govalidator's `IsRequestURI` (`url.ParseRequestURI`), approximately.
    fn is_request_uri(s: &str) -> bool {
        if s.is_empty() || s.bytes().any(|b| b < 0x20 || b == 0x7f) {
            return false;
        }
        if s.starts_with('/') {
            return true;
        }
        let Some((scheme, rest)) = s.split_once(':') else {
            return false;
        };
        let mut chars = scheme.chars();
        chars.next().is_some_and(|c| c.is_ascii_alphabetic())
            && chars.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
            && !rest.is_empty()
            && !rest.contains(' ')
    }

    /// `net/mail.ParseAddress`, approximately: `local@domain` or `Name <local@domain>`.
    fn is_email(s: &str) -> bool {
        let addr = match (s.find('<'), s.ends_with('>')) {
            (Some(i), true) => &s[i + 1..s.len() - 1],
            _ => s.trim(),
        };
        let Some((local, domain)) = addr.rsplit_once('@') else {
            return false;
        };
        let atext = |c: char| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c);
        !local.is_empty()
            && !domain.is_empty()
            && local.split('.').all(|p| !p.is_empty() && p.chars().all(atext))
            && domain.split('.').all(|p| !p.is_empty() && p.chars().all(atext))
    }

    fn is_cidr(s: &str) -> bool {
        let Some((ip, bits)) = s.split_once('/') else {
            return false;
        };
        let max = match ip.parse::<IpAddr>() {
            Ok(IpAddr::V4(_)) => 32,
            Ok(IpAddr::V6(_)) => 128,
            Err(_) => return false,
        };
        !bits.is_empty() && bits.bytes().all(|b| b.is_ascii_digit()) && bits.parse::<u32>().is_ok_and(|n| n <= max)
    }

    /// `net.ParseMAC`: 6, 8 or 20 octets separated by ':' or '-', or dotted groups of four.
    fn is_mac(s: &str) -> bool {
        let hex2 = |p: &str| p.len() == 2 && p.chars().all(|c| c.is_ascii_hexdigit());
        let hex4 = |p: &str| p.len() == 4 && p.chars().all(|c| c.is_ascii_hexdigit());
        for sep in [':', '-'] {
            let parts: Vec<&str> = s.split(sep).collect();
            if [6, 8, 20].contains(&parts.len()) && parts.iter().all(|p| hex2(p)) {
                return true;
            }
        }
        let parts: Vec<&str> = s.split('.').collect();
        [3, 4, 10].contains(&parts.len()) && parts.iter().all(|p| hex4(p))
    }

    fn isbn_digits(s: &str) -> String {
        s.chars().filter(|c| *c != '-' && *c != ' ').collect()
    }

    fn is_isbn10(s: &str) -> bool {
        let d = isbn_digits(s);
        let b = d.as_bytes();
        if b.len() != 10 || !b[..9].iter().all(u8::is_ascii_digit) || !(b[9].is_ascii_digit() || b[9] == b'X') {
            return false;
        }
        let mut sum = 0u32;
        for (i, c) in b[..9].iter().enumerate() {
            sum += (i as u32 + 1) * u32::from(c - b'0');
        }
        sum += if b[9] == b'X' { 100 } else { 10 * u32::from(b[9] - b'0') };
        sum.checked_rem(11) == Some(0)
    }

    fn is_isbn13(s: &str) -> bool {
        let d = isbn_digits(s);
        let b = d.as_bytes();
        if b.len() != 13 || !b.iter().all(u8::is_ascii_digit) {
            return false;
        }
        let mut sum = 0u32;
        for (i, c) in b[..12].iter().enumerate() {
            sum += u32::from(c - b'0') * if i % 2 == 0 { 1 } else { 3 };
        }
        (10 - sum % 10) % 10 == u32::from(b[12] - b'0')
    }

    fn is_credit_card(s: &str) -> bool {
        static CC: OnceLock<Option<Regex>> = OnceLock::new();
        let digits: String = s.chars().filter(char::is_ascii_digit).collect();
        if !rx(
            &CC,
            r"^(?:4[0-9]{12}(?:[0-9]{3})?|5[1-5][0-9]{14}|(222[1-9]|22[3-9][0-9]|2[3-6][0-9]{2}|27[01][0-9]|2720)[0-9]{12}|6(?:011|5[0-9][0-9])[0-9]{12}|3[47][0-9]{13}|3(?:0[0-5]|[68][0-9])[0-9]{11}|(?:2131|1800|35\d{3})\d{11}|6[27][0-9]{14})$",
            &digits,
        ) {
            return false;
        }
        let mut sum = 0;
        let mut double = false;
        for c in digits.bytes().rev() {
            let mut d = u32::from(c - b'0');
            if double {
                d *= 2;
                if d > 9 {
                    d -= 9;
                }
            }
            sum += d;
            double = !double;
        }
        sum % 10 == 0
    }
}

// ---------------------------------------------------------------------------------------
// Embedded resources (schema/objectmeta/validation.go)
// ---------------------------------------------------------------------------------------

/// `objectmeta.Validate(nil, obj, schema, false)`: apiVersion, kind and metadata of every
/// `x-kubernetes-embedded-resource` object below the root.
fn validate_embedded_resources(path: &str, x: &Value, s: Option<&Value>) -> Vec<Cause> {
    let Some(s) = s else {
        return Vec::new();
    };
    let mut errs = Vec::new();
    match x {
        Value::Object(m) => {
            if flag(s, "x-kubernetes-embedded-resource") {
                errs.extend(validate_embedded_resource(path, m));
            }
            for (k, v) in m {
                if let Some(p) = property(s, k) {
                    errs.extend(validate_embedded_resources(&child(path, k), v, Some(p)));
                } else if let Some(a) = additional_properties(s) {
                    errs.extend(validate_embedded_resources(&key(path, k), v, a.schema()));
                }
            }
        }
        Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                errs.extend(validate_embedded_resources(&index(path, i), v, items(s)));
            }
        }
        _ => {}
    }
    errs
}

fn validate_embedded_resource(path: &str, m: &Map<String, Value>) -> Vec<Cause> {
    let mut errs = Vec::new();
    if !m.contains_key("apiVersion") {
        errs.push(required(&child(path, "apiVersion"), ""));
    }
    if !m.contains_key("kind") {
        errs.push(required(&child(path, "kind"), ""));
    }
    for (k, v) in m {
        match k.as_str() {
            "apiVersion" => {
                let p = child(path, "apiVersion");
                match v.as_str() {
                    None => errs.push(invalid_cause(&p, v, "must be a string")),
                    Some("") => errs.push(invalid_cause(&p, v, "must not be empty")),
                    Some(gv) if gv != "/" && gv.matches('/').count() > 1 => {
                        errs.push(invalid_cause(&p, v, &format!("unexpected GroupVersion string: {gv}")))
                    }
                    Some(_) => {}
                }
            }
            "kind" => {
                let p = child(path, "kind");
                match v.as_str() {
                    None => errs.push(invalid_cause(&p, v, "must be a string")),
                    Some("") => errs.push(invalid_cause(&p, v, "must not be empty")),
                    Some(kind) => {
                        let problems = dns1035_label(&kind.to_lowercase());
                        if !problems.is_empty() {
                            errs.push(invalid_cause(
                                &p,
                                v,
                                &format!("may have mixed case, but should otherwise match: {}", problems.join(",")),
                            ));
                        }
                    }
                }
            }
            "metadata" => {
                if let Some(msg) = object_meta_decode_error(v) {
                    errs.push(invalid_cause(&child(path, "metadata"), v, &msg));
                }
            }
            _ => {}
        }
    }
    errs
}

/// `validation.IsDNS1035Label`.
fn dns1035_label(v: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if v.len() > 63 {
        errs.push("must be no more than 63 characters".to_string());
    }
    let b = v.as_bytes();
    let ok = !b.is_empty()
        && b[0].is_ascii_lowercase()
        && b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[b.len() - 1] != b'-';
    if !ok {
        errs.push(
            "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic \
             character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for \
             validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
                .to_string(),
        );
    }
    errs
}

/// Why the metadata of an embedded resource would not decode into a `metav1.ObjectMeta`,
/// worded like Go's encoding/json errors (the usual type mistakes only).
pub(crate) fn object_meta_decode_error(v: &Value) -> Option<String> {
    fn json_kind(v: &Value) -> &'static str {
        match v {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        }
    }
    let m = match v {
        Value::Object(m) => m,
        Value::Null => return None,
        other => {
            return Some(format!("json: cannot unmarshal {} into Go value of type v1.ObjectMeta", json_kind(other)))
        }
    };
    let mismatch = |field: &str, v: &Value, go_type: &str| {
        Some(format!(
            "json: cannot unmarshal {} into Go struct field ObjectMeta.{field} of type {go_type}",
            json_kind(v)
        ))
    };
    for (k, v) in m {
        if v.is_null() {
            continue;
        }
        match k.as_str() {
            "name" | "generateName" | "namespace" | "selfLink" | "uid" | "resourceVersion" if !v.is_string() => {
                return mismatch(k, v, "string")
            }
            "generation" | "deletionGracePeriodSeconds" if v.as_i64().is_none() => {
                return match v {
                    Value::Number(n) => Some(format!(
                        "json: cannot unmarshal number {n} into Go struct field ObjectMeta.{k} of type int64"
                    )),
                    _ => mismatch(k, v, "int64"),
                };
            }
            "creationTimestamp" | "deletionTimestamp" => match v.as_str() {
                None => return mismatch(k, v, "string"),
                Some(t) if chrono::DateTime::parse_from_rfc3339(t).is_err() => {
                    return Some(format!(
                        "parsing time {} as \"2006-01-02T15:04:05Z07:00\": cannot parse {} as \"2006\"",
                        go_quote(t),
                        go_quote(t)
                    ))
                }
                Some(_) => {}
            },
            "labels" | "annotations" => match v {
                Value::Object(entries) => {
                    if let Some((_, bad)) = entries.iter().find(|(_, e)| !e.is_string() && !e.is_null()) {
                        return mismatch(k, bad, "string");
                    }
                }
                _ => return mismatch(k, v, "map[string]string"),
            },
            "finalizers" => match v {
                Value::Array(a) => {
                    if let Some(bad) = a.iter().find(|e| !e.is_string() && !e.is_null()) {
                        return mismatch(k, bad, "string");
                    }
                }
                _ => return mismatch(k, v, "[]string"),
            },
            "ownerReferences" | "managedFields" => match v {
                Value::Array(a) => {
                    let item = if k == "ownerReferences" { "v1.OwnerReference" } else { "v1.ManagedFieldsEntry" };
                    if let Some(bad) = a.iter().find(|e| !e.is_object() && !e.is_null()) {
                        return mismatch(k, bad, item);
                    }
                }
                _ => {
                    let ty = if k == "ownerReferences" { "[]v1.OwnerReference" } else { "[]v1.ManagedFieldsEntry" };
                    return mismatch(k, v, ty);
                }
            },
            _ => {}
        }
    }
    None
}

// ---------------------------------------------------------------------------------------
// x-kubernetes-list-type set and map (schema/listtype/validation.go)
// ---------------------------------------------------------------------------------------

fn list_sets_and_maps_object(path: &str, s: Option<&Value>, obj: &Map<String, Value>) -> Vec<Cause> {
    let Some(s) = s else {
        return Vec::new();
    };
    let mut errs = Vec::new();
    if let Some(a) = additional_properties(s).and_then(|a| a.schema()) {
        for (k, v) in obj {
            errs.extend(list_sets_and_maps(&key(path, k), a, v));
        }
    }
    if properties(s).is_some() {
        for (k, v) in obj {
            if let Some(sub) = property(s, k) {
                errs.extend(list_sets_and_maps(&child(path, k), sub, v));
            }
        }
    }
    errs
}

fn list_sets_and_maps(path: &str, s: &Value, v: &Value) -> Vec<Cause> {
    match v {
        Value::Array(a) => list_sets_and_maps_array(path, s, a),
        Value::Object(m) => list_sets_and_maps_object(path, Some(s), m),
        _ => Vec::new(),
    }
}

fn list_sets_and_maps_array(path: &str, s: &Value, arr: &[Value]) -> Vec<Cause> {
    let mut errs = Vec::new();
    match s.get("x-kubernetes-list-type").and_then(Value::as_str) {
        Some("set") => {
            for i in non_unique(arr) {
                errs.push(duplicate(&index(path, i), &arr[i]));
            }
        }
        Some("map") => errs.extend(list_map(path, s, arr)),
        _ => {}
    }
    if let Some(it) = items(s) {
        for (i, v) in arr.iter().enumerate() {
            errs.extend(list_sets_and_maps(&index(path, i), it, v));
        }
    }
    errs
}

/// Indices of the second appearance of every repeated element, as `validateListSet`.
fn non_unique(arr: &[Value]) -> Vec<usize> {
    let mut out = Vec::new();
    for (i, v) in arr.iter().enumerate() {
        let earlier = arr[..i].iter().filter(|x| set_equal(x, v)).count();
        if earlier == 1 {
            out.push(i);
        }
    }
    out
}

/// Equality of set elements: scalars by Go value (int64 1 and float64 1 differ), compound
/// values by their JSON encoding.
fn set_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Object(_) | Value::Array(_), Value::Object(_) | Value::Array(_)) => go_json(a) == go_json(b),
        (Value::Number(_), Value::Number(_)) => match (num(a), num(b)) {
            (Some(Num::Int(x)), Some(Num::Int(y))) => x == y,
            (Some(Num::Float(x)), Some(Num::Float(y))) => x == y,
            _ => false,
        },
        _ => a == b,
    }
}

fn list_map(path: &str, s: &Value, arr: &[Value]) -> Vec<Cause> {
    if let Some((i, x)) = arr.iter().enumerate().find(|(_, x)| !x.is_null() && !x.is_object()) {
        return vec![invalid_cause(&index(path, i), x, "must be an object for an array of list-type map")];
    }
    if arr.len() <= 1 {
        return Vec::new();
    }
    let key_names = string_list(s, "x-kubernetes-list-map-keys");
    // A missing key and a null key differ; a sentinel string stands for "unspecified".
    let unspecified = Value::String("\u{0}unspecified".into());
    if key_names.len() == 1 {
        let k = key_names[0];
        let keys: Vec<Value> = arr.iter().map(|x| x.get(k).cloned().unwrap_or_else(|| unspecified.clone())).collect();
        return non_unique(&keys)
            .into_iter()
            .map(|i| {
                let mut shown = Map::new();
                if keys[i] != unspecified {
                    shown.insert(k.to_string(), keys[i].clone());
                }
                duplicate(&index(path, i), &Value::Object(shown))
            })
            .collect();
    }
    let keys: Vec<Value> = arr
        .iter()
        .map(|x| {
            let mut key_obj = Map::new();
            for k in &key_names {
                if let Some(v) = x.get(*k) {
                    key_obj.insert((*k).to_string(), v.clone());
                }
            }
            Value::Object(key_obj)
        })
        .collect();
    non_unique(&keys).into_iter().map(|i| duplicate(&index(path, i), &keys[i])).collect()
}

// ---------------------------------------------------------------------------------------
// CRD schema checks: ValidateCustomResourceDefinitionOpenAPISchema
// ---------------------------------------------------------------------------------------

const META_FIELDS: &[&str] = &["metadata", "kind", "apiVersion"];
const OPENAPI_V3_TYPES: &[&str] = &["array", "boolean", "integer", "number", "object", "string"];

/// `specStandardValidatorV3` and the options of a new v1 CRD.
#[derive(Clone, Default)]
struct SpecValidator {
    allow_defaults: bool,
    disallow_defaults_reason: String,
    inside_resource_meta: bool,
}

impl SpecValidator {
    fn with_forbidden_defaults(&self, reason: &str) -> Self {
        SpecValidator { allow_defaults: false, disallow_defaults_reason: reason.to_string(), ..self.clone() }
    }
    fn with_inside_resource_meta(&self) -> Self {
        SpecValidator { inside_resource_meta: true, ..self.clone() }
    }

    fn validate(&self, s: &Value, path: &str, errs: &mut Vec<Cause>) {
        let ty = str_of(s, "type");
        if !ty.is_empty() && !OPENAPI_V3_TYPES.contains(&ty) {
            let valid: Vec<String> = OPENAPI_V3_TYPES.iter().map(|t| t.to_string()).collect();
            errs.push(not_supported(&child(path, "type"), &Value::String(ty.into()), &valid));
        }
        if default_of(s).is_some() && !self.allow_defaults {
            let mut detail = "must not be set".to_string();
            if !self.disallow_defaults_reason.is_empty() {
                detail = format!("{detail} {}", self.disallow_defaults_reason);
            }
            errs.push(forbidden(&child(path, "default"), &detail));
        }
        if is_set(s, "id") {
            errs.push(forbidden(&child(path, "id"), "id is not supported"));
        }
        if s.get("additionalItems").is_some_and(|v| !v.is_null()) {
            errs.push(forbidden(&child(path, "additionalItems"), "additionalItems is not supported"));
        }
        if is_set(s, "patternProperties") {
            errs.push(forbidden(&child(path, "patternProperties"), "patternProperties is not supported"));
        }
        if is_set(s, "definitions") {
            errs.push(forbidden(&child(path, "definitions"), "definitions is not supported"));
        }
        if s.get("dependencies").is_some_and(|v| !v.is_null()) {
            errs.push(forbidden(&child(path, "dependencies"), "dependencies is not supported"));
        }
        if s.get("$ref").is_some_and(|v| !v.is_null()) {
            errs.push(forbidden(&child(path, "$ref"), "$ref is not supported"));
        }
        if ty == "null" {
            errs.push(forbidden(&child(path, "type"), "type cannot be set to null, use nullable as an alternative"));
        }
        if s.get("items").and_then(Value::as_array).is_some_and(|a| !a.is_empty()) {
            errs.push(forbidden(&child(path, "items"), "items must be a schema object and not an array"));
        }
        if self.inside_resource_meta && flag(s, "x-kubernetes-embedded-resource") {
            errs.push(forbidden(
                &child(path, "x-kubernetes-embedded-resource"),
                "must not be used inside of resource meta",
            ));
        }
    }
}

fn openapi_schema(s: &Value, path: &str, ssv: &SpecValidator, is_root: bool, errs: &mut Vec<Cause>) {
    if !s.is_object() {
        return;
    }
    ssv.validate(s, path, errs);
    if flag(s, "uniqueItems") {
        errs.push(forbidden(
            &child(path, "uniqueItems"),
            "uniqueItems cannot be set to true since the runtime complexity becomes quadratic",
        ));
    }
    let has_props = properties(s).is_some_and(|p| !p.is_empty());
    if let Some(addl) = additional_properties(s) {
        // properties are for structs, additionalProperties for maps: both at once would
        // contradict the convention of ignoring unknown fields.
        if has_props && matches!(addl, Additional::Bool(false) | Additional::Schema(_)) {
            errs.push(forbidden(
                &child(path, "additionalProperties"),
                "additionalProperties and properties are mutual exclusive",
            ));
        }
        let sub = if ssv.inside_resource_meta {
            // pruning without an actual value is ambiguous there
            ssv.with_forbidden_defaults("inside additionalProperties applying to object metadata")
        } else {
            ssv.clone()
        };
        if let Some(a) = addl.schema() {
            openapi_schema(a, &child(path, "additionalProperties"), &sub, false, errs);
        }
    }
    if let Some(props) = properties(s) {
        for (name, p) in props {
            let mut sub = ssv.clone();
            if (is_root || flag(s, "x-kubernetes-embedded-resource")) && META_FIELDS.contains(&name.as_str()) {
                sub = sub.with_inside_resource_meta();
                if is_root {
                    sub = sub.with_forbidden_defaults(&format!("in top-level {name}"));
                }
            }
            openapi_schema(p, &key(&child(path, "properties"), name), &sub, false, errs);
        }
    }
    if let Some(not) = s.get("not") {
        openapi_schema(not, &child(path, "not"), ssv, false, errs);
    }
    for junctor in ["allOf", "oneOf", "anyOf"] {
        for (i, sub) in schema_list(s, junctor).iter().enumerate() {
            openapi_schema(sub, &index(&child(path, junctor), i), ssv, false, errs);
        }
    }
    match s.get("items") {
        Some(it @ Value::Object(_)) => openapi_schema(it, &child(path, "items"), ssv, false, errs),
        Some(Value::Array(list)) => {
            for (i, it) in list.iter().enumerate() {
                openapi_schema(it, &index(&child(path, "items"), i), ssv, false, errs);
            }
        }
        _ => {}
    }
    if s.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(false)) {
        errs.push(invalid_cause(
            &child(path, "x-kubernetes-preserve-unknown-fields"),
            &Value::Bool(false),
            "must be true or undefined",
        ));
    }
    list_and_map_types(s, path, errs);
}

fn list_and_map_types(s: &Value, path: &str, errs: &mut Vec<Cause>) {
    let ty = str_of(s, "type");
    let map_type = s.get("x-kubernetes-map-type").and_then(Value::as_str);
    let list_type = s.get("x-kubernetes-list-type").and_then(Value::as_str);
    let map_keys = string_list(s, "x-kubernetes-list-map-keys");
    let type_path = child(path, "type");
    if map_type.is_some() && ty != "object" {
        let detail = "must be object if x-kubernetes-map-type is specified";
        if ty.is_empty() {
            errs.push(required(&type_path, detail));
        } else {
            errs.push(invalid_cause(&type_path, &Value::String(ty.into()), detail));
        }
    }
    if let Some(mt) = map_type.filter(|m| *m != "atomic" && *m != "granular") {
        errs.push(not_supported(
            &child(path, "x-kubernetes-map-type"),
            &Value::String(mt.into()),
            &["atomic".into(), "granular".into()],
        ));
    }
    if list_type.is_some() && ty != "array" {
        let detail = "must be array if x-kubernetes-list-type is specified";
        if ty.is_empty() {
            errs.push(required(&type_path, detail));
        } else {
            errs.push(invalid_cause(&type_path, &Value::String(ty.into()), detail));
        }
    } else if list_type == Some("set") {
        if let Some(it) = items(s) {
            let item_list_type = it.get("x-kubernetes-list-type").and_then(Value::as_str);
            let detail = "must be atomic as item of a list with x-kubernetes-list-type=set";
            // kube reports the item's list type in both cases; a nil pointer prints "null".
            let shown = item_list_type.map_or(Value::Null, |t| Value::String(t.into()));
            match str_of(it, "type") {
                "array" if item_list_type.is_some_and(|t| t != "atomic") => {
                    errs.push(invalid_cause(&child(&child(path, "items"), "x-kubernetes-list-type"), &shown, detail))
                }
                "object" if it.get("x-kubernetes-map-type").and_then(Value::as_str) != Some("atomic") => {
                    errs.push(invalid_cause(&child(&child(path, "items"), "x-kubernetes-map-type"), &shown, detail))
                }
                _ => {}
            }
        }
    }
    if let Some(lt) = list_type.filter(|l| !["atomic", "set", "map"].contains(l)) {
        errs.push(not_supported(
            &child(path, "x-kubernetes-list-type"),
            &Value::String(lt.into()),
            &["atomic".into(), "set".into(), "map".into()],
        ));
    }
    if !map_keys.is_empty() {
        let detail = "must be map if x-kubernetes-list-map-keys is non-empty";
        match list_type {
            None => errs.push(required(&child(path, "x-kubernetes-list-type"), detail)),
            Some(lt) if lt != "map" => {
                errs.push(invalid_cause(&child(path, "x-kubernetes-list-type"), &Value::String(lt.into()), detail))
            }
            _ => {}
        }
    }
    let keys_path = child(path, "x-kubernetes-list-map-keys");
    let items_path = child(path, "items");
    if list_type == Some("map") {
        if map_keys.is_empty() {
            errs.push(required(&keys_path, "must not be empty if x-kubernetes-list-type is map"));
        }
        match s.get("items") {
            None | Some(Value::Null) => {
                errs.push(required(&items_path, "must have a schema if x-kubernetes-list-type is map"))
            }
            Some(it @ Value::Array(_)) => errs.push(invalid_cause(
                &items_path,
                it,
                "must only have a single schema if x-kubernetes-list-type is map",
            )),
            Some(it) => {
                let it_type = str_of(it, "type");
                if it_type != "object" {
                    errs.push(invalid_cause(
                        &child(&items_path, "type"),
                        &Value::String(it_type.into()),
                        "must be object if parent array's x-kubernetes-list-type is map",
                    ));
                } else {
                    let shown_keys = go_string_slice(&map_keys);
                    let mut seen: Vec<&str> = Vec::new();
                    for k in &map_keys {
                        match property(it, k) {
                            Some(p) => {
                                if matches!(str_of(p, "type"), "array" | "object") {
                                    // kube shows the item type, not the key's type.
                                    errs.push(invalid_cause(
                                        &child(&key(&child(&items_path, "properties"), k), "type"),
                                        &Value::String(it_type.into()),
                                        "must be a scalar type if parent array's x-kubernetes-list-type is map",
                                    ));
                                }
                            }
                            None => errs.push(raw_invalid(
                                &keys_path,
                                &shown_keys,
                                "entries must all be names of item properties",
                            )),
                        }
                        if seen.contains(k) {
                            errs.push(raw_invalid(&keys_path, &shown_keys, "must not contain duplicate entries"));
                        }
                        seen.push(k);
                    }
                }
            }
        }
    }
    // validateMapListKeysMapSet: keys must be required or defaulted, and nothing nullable.
    if let (Some(lt @ ("set" | "map")), Some(it)) = (list_type, items(s)) {
        if flag(it, "nullable") {
            errs.push(forbidden(
                &child(&items_path, "nullable"),
                &format!("cannot be nullable when x-kubernetes-list-type is {lt}"),
            ));
        }
        if lt == "map" {
            let required_keys = string_list(it, "required");
            for k in &map_keys {
                let Some(p) = property(it, k) else {
                    continue;
                };
                let prop_path = key(&child(&items_path, "properties"), k);
                if !required_keys.contains(k) && default_of(p).is_none() {
                    errs.push(required(
                        &child(&prop_path, "default"),
                        "this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property",
                    ));
                }
                if flag(p, "nullable") {
                    errs.push(forbidden(
                        &child(&prop_path, "nullable"),
                        "this property is in x-kubernetes-list-map-keys, so it cannot be nullable",
                    ));
                }
            }
        }
    }
}

/// `%#v` of a Go `[]string`.
fn go_string_slice(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| go_quote(s)).collect();
    format!("[]string{{{}}}", quoted.join(", "))
}

/// An Invalid cause whose bad value is already rendered.
fn raw_invalid(field: &str, shown: &str, detail: &str) -> Cause {
    cause("FieldValueInvalid", field, format!("Invalid value: {shown}"), detail)
}

// ---------------------------------------------------------------------------------------
// Structural schema checks: schema/validation.go and complete.go
// ---------------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq)]
enum Level {
    Root,
    Item,
    Field,
}

/// The error `NewStructural` would return, if any.
fn new_structural_error(s: &Value) -> Option<String> {
    let Value::Object(m) = s else {
        return None;
    };
    let unsupported = [
        ("id", "'id'"),
        ("$schema", "'schema'"),
        ("$ref", "'$ref'"),
        ("patternProperties", "'patternProperties'"),
        ("dependencies", "'dependencies'"),
        ("additionalItems", "'additionalItems'"),
        ("definitions", "'definitions'"),
    ];
    for (k, name) in unsupported {
        if is_set(s, k)
            || (matches!(k, "$ref" | "additionalItems" | "dependencies") && m.get(k).is_some_and(|v| !v.is_null()))
        {
            return Some(format!("OpenAPIV3Schema {name} is not supported"));
        }
    }
    if m.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(false)) {
        return Some("internal error: 'x-kubernetes-preserve-unknown-fields' must be true or undefined".into());
    }
    match m.get("items") {
        Some(Value::Array(a)) if !a.is_empty() => {
            return Some("OpenAPIV3Schema 'items' must be a schema, but is an array".into())
        }
        Some(it @ Value::Object(_)) => {
            if let Some(e) = new_structural_error(it) {
                return Some(e);
            }
        }
        _ => {}
    }
    let nested = properties(s)
        .into_iter()
        .flat_map(|p| p.values())
        .chain(["allOf", "anyOf", "oneOf"].iter().flat_map(|j| schema_list(s, j).iter()));
    for sub in nested.chain(s.get("not")).chain(additional_properties(s).and_then(|a| a.schema())) {
        if let Some(e) = new_structural_error(sub) {
            return Some(e);
        }
    }
    None
}

fn structural_invariants(s: &Value, lvl: Level, path: &str) -> Vec<Cause> {
    let mut errs = Vec::new();
    if !s.is_object() {
        return errs;
    }
    let ty = str_of(s, "type");
    let embedded = flag(s, "x-kubernetes-embedded-resource");
    let int_or_string = flag(s, "x-kubernetes-int-or-string");
    let preserve = flag(s, "x-kubernetes-preserve-unknown-fields");
    let addl = additional_properties(s);

    if ty == "array" && items(s).is_none() {
        errs.push(required(&child(path, "items"), "must be specified"));
    }
    if let Some(it) = items(s) {
        errs.extend(structural_invariants(it, Level::Item, &child(path, "items")));
    }
    if let Some(props) = properties(s) {
        for (k, v) in props {
            errs.extend(structural_invariants(v, Level::Field, &key(&child(path, "properties"), k)));
        }
    }
    if let Some(a) = &addl {
        if lvl == Level::Root {
            errs.push(forbidden(&child(path, "additionalProperties"), "must not be used at the root"));
        }
        if let Some(sub) = a.schema() {
            errs.extend(structural_invariants(sub, Level::Field, &child(path, "additionalProperties")));
        }
    }
    if int_or_string && preserve {
        errs.push(invalid_cause(
            &child(path, "x-kubernetes-preserve-unknown-fields"),
            &Value::Bool(true),
            "must be false if x-kubernetes-int-or-string is true",
        ));
    }
    if int_or_string && embedded {
        errs.push(invalid_cause(
            &child(path, "x-kubernetes-embedded-resource"),
            &Value::Bool(true),
            "must be false if x-kubernetes-int-or-string is true",
        ));
    }
    let skip_any_of = is_int_or_string_any_of(schema_list(s, "anyOf"));
    let skip_first_all_of_any_of =
        schema_list(s, "allOf").first().is_some_and(|first| is_int_or_string_any_of(schema_list(first, "anyOf")));
    errs.extend(value_validation(s, skip_any_of, skip_first_all_of_any_of, lvl, path));

    let type_path = child(path, "type");
    if embedded && ty != "object" {
        let detail = "must be object if x-kubernetes-embedded-resource is true";
        if ty.is_empty() {
            errs.push(required(&type_path, detail));
        } else {
            errs.push(invalid_cause(&type_path, &Value::String(ty.into()), detail));
        }
    } else if ty.is_empty() && !int_or_string && !preserve {
        let detail = match lvl {
            Level::Root => "must not be empty at the root",
            Level::Item => "must not be empty for specified array items",
            Level::Field => "must not be empty for specified object fields",
        };
        errs.push(required(&type_path, detail));
    }
    if embedded && addl.is_some() {
        errs.push(forbidden(
            &child(path, "additionalProperties"),
            "must not be used if x-kubernetes-embedded-resource is set",
        ));
    }
    if lvl == Level::Root && !ty.is_empty() && ty != "object" {
        errs.push(invalid_cause(&type_path, &Value::String(ty.into()), "must be object at the root"));
    }
    let check_metadata = lvl == Level::Root || embedded;
    for meta in ["kind", "apiVersion"] {
        if let Some(p) = property(s, meta).filter(|_| check_metadata) {
            let pt = str_of(p, "type");
            if pt != "string" {
                errs.push(invalid_cause(
                    &child(&key(&child(path, "properties"), meta), "type"),
                    &Value::String(pt.into()),
                    "must be string",
                ));
            }
        }
    }
    if let Some(meta) = property(s, "metadata") {
        errs.extend(metadata_invariants(meta, check_metadata, lvl, &key(&child(path, "properties"), "metadata")));
    }
    if embedded && !preserve && properties(s).is_none_or(|p| p.is_empty()) {
        errs.push(required(
            &child(path, "properties"),
            "must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields",
        ));
    }
    errs
}

/// `anyOf: [{type: integer}, {type: string}]` and nothing else in either branch.
fn is_int_or_string_any_of(any_of: &[Value]) -> bool {
    let only_type = |v: &Value, t: &str| {
        v.as_object().is_some_and(|m| {
            str_of(v, "type") == t
                && m.keys().all(|k| k == "type" || k == "example" || k == "externalDocs" || !is_set(v, k))
        })
    };
    any_of.len() == 2 && only_type(&any_of[0], "integer") && only_type(&any_of[1], "string")
}

/// At the root, metadata may only restrict name and generateName; embedded metadata must
/// be an object.
fn metadata_invariants(s: &Value, check_metadata: bool, lvl: Level, path: &str) -> Vec<Cause> {
    let mut errs = Vec::new();
    let ty = str_of(s, "type");
    if check_metadata && ty != "object" {
        errs.push(invalid_cause(&child(path, "type"), &Value::String(ty.into()), "must be object"));
    }
    if lvl == Level::Root {
        let Some(m) = s.as_object() else {
            return errs;
        };
        let props_ok = properties(s).is_none_or(|p| p.keys().all(|k| k == "name" || k == "generateName"));
        let others = m.iter().any(|(k, _)| {
            !matches!(k.as_str(), "type" | "properties" | "default" | "example" | "externalDocs") && is_set(s, k)
        });
        if !props_ok || others {
            errs.push(forbidden(
                path,
                "must not specify anything other than name and generateName, but metadata is implicitly specified",
            ));
        }
    }
    errs
}

fn value_validation(
    s: &Value,
    skip_any_of: bool,
    skip_first_all_of_any_of: bool,
    lvl: Level,
    path: &str,
) -> Vec<Cause> {
    let mut errs = Vec::new();
    if !skip_any_of {
        for (i, sub) in schema_list(s, "anyOf").iter().enumerate() {
            errs.extend(nested_value_validation(sub, false, false, lvl, &index(&child(path, "anyOf"), i)));
        }
    }
    for (i, sub) in schema_list(s, "allOf").iter().enumerate() {
        let skip = skip_first_all_of_any_of && i == 0;
        errs.extend(nested_value_validation(sub, skip, false, lvl, &index(&child(path, "allOf"), i)));
    }
    for (i, sub) in schema_list(s, "oneOf").iter().enumerate() {
        errs.extend(nested_value_validation(sub, false, false, lvl, &index(&child(path, "oneOf"), i)));
    }
    if let Some(not) = s.get("not").filter(|v| v.is_object()) {
        errs.extend(nested_value_validation(not, false, false, lvl, &child(path, "not")));
    }
    let pattern = str_of(s, "pattern");
    if !pattern.is_empty() {
        if let Err(e) = go_regex(pattern) {
            errs.push(invalid_cause(
                &child(path, "pattern"),
                &Value::String(pattern.into()),
                &format!("must be a valid regular expression, but isn't: {e}"),
            ));
        }
    }
    errs
}

/// What anyOf/allOf/oneOf/not may not contain to keep a schema structural.
fn nested_value_validation(
    v: &Value,
    skip_any_of: bool,
    skip_all_of_any_of: bool,
    lvl: Level,
    path: &str,
) -> Vec<Cause> {
    let mut errs = value_validation(v, skip_any_of, skip_all_of_any_of, lvl, path);
    if let Some(it) = items(v) {
        errs.extend(nested_value_validation(it, false, false, lvl, &child(path, "items")));
    }
    if let Some(props) = properties(v) {
        for (k, p) in props {
            errs.extend(nested_value_validation(p, false, false, Level::Field, &key(&child(path, "properties"), k)));
        }
    }
    let rules: &[(&str, &str)] = &[
        ("type", "must be empty to be structural"),
        ("additionalProperties", "must be undefined to be structural"),
        ("default", "must be undefined to be structural"),
        ("title", "must be empty to be structural"),
        ("description", "must be empty to be structural"),
        ("nullable", "must be false to be structural"),
        ("x-kubernetes-preserve-unknown-fields", "must be false to be structural"),
        ("x-kubernetes-embedded-resource", "must be false to be structural"),
        ("x-kubernetes-int-or-string", "must be false to be structural"),
        ("x-kubernetes-list-map-keys", "must be empty to be structural"),
        ("x-kubernetes-list-type", "must be undefined to be structural"),
        ("x-kubernetes-map-type", "must be undefined to be structural"),
        ("x-kubernetes-validations", "must be empty to be structural"),
    ];
    for (k, detail) in rules {
        let set = match *k {
            "default" => default_of(v).is_some(),
            "additionalProperties" | "x-kubernetes-list-type" | "x-kubernetes-map-type" => {
                v.get(*k).is_some_and(|x| !x.is_null())
            }
            _ => is_set(v, k),
        };
        if set {
            errs.push(forbidden(&child(path, k), detail));
        }
    }
    if property(v, "metadata").is_some() {
        errs.push(forbidden(&key(&child(path, "properties"), "metadata"), "must not be specified in a nested context"));
    }
    errs
}

/// `validateStructuralCompleteness`: everything the root's junctors talk about must exist
/// in the structural part. Like kube, only the root's anyOf/allOf/oneOf/not are walked.
fn completeness(s: &Value, path: &str) -> Vec<Cause> {
    let mut errs = Vec::new();
    value_validation_completeness(s, Some(s), path, path, &mut errs);
    errs
}

fn value_validation_completeness(v: &Value, s: Option<&Value>, s_path: &str, v_path: &str, errs: &mut Vec<Cause>) {
    let Some(s) = s else {
        errs.push(required(s_path, &format!("because it is defined in {v_path}")));
        return;
    };
    if let Some(not) = v.get("not").filter(|n| n.is_object()) {
        nested_completeness(not, Some(s), s_path, &child(v_path, "not"), errs);
    }
    for junctor in ["allOf", "anyOf", "oneOf"] {
        for (i, sub) in schema_list(v, junctor).iter().enumerate() {
            nested_completeness(sub, Some(s), s_path, &index(&child(v_path, junctor), i), errs);
        }
    }
}

fn nested_completeness(v: &Value, s: Option<&Value>, s_path: &str, v_path: &str, errs: &mut Vec<Cause>) {
    let Some(s) = s else {
        errs.push(required(s_path, &format!("because it is defined in {v_path}")));
        return;
    };
    value_validation_completeness(v, Some(s), s_path, v_path, errs);
    if let Some(it) = items(v) {
        nested_completeness(it, items(s), &child(s_path, "items"), &child(v_path, "items"), errs);
    }
    if let Some(props) = properties(v) {
        for (k, vf) in props {
            let sp = key(&child(s_path, "properties"), k);
            let vp = key(&child(v_path, "properties"), k);
            match property(s, k) {
                Some(sf) => nested_completeness(vf, Some(sf), &sp, &vp, errs),
                None => errs.push(required(&sp, &format!("because it is defined in {vp}"))),
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Defaults: schema/defaulting/validation.go
// ---------------------------------------------------------------------------------------

/// `ValidateDefaults(path, schema, isResourceRoot=true, requirePrunedDefaults=true)`.
fn validate_defaults(schema: &Value, path: &str) -> Vec<Cause> {
    let mut errs = Vec::new();
    defaults_node(schema, path, false, true, &mut errs);
    errs
}

fn defaults_node(s: &Value, path: &str, inside_meta: bool, is_root: bool, errs: &mut Vec<Cause>) {
    if !s.is_object() {
        return;
    }
    let embedded = is_root || flag(s, "x-kubernetes-embedded-resource");
    let inside_meta = if embedded { false } else { inside_meta };
    if let Some(d) = default_of(s) {
        let default_path = child(path, "default");
        if inside_meta {
            // kube validates such a default inside a fake surrounding object; the schema
            // check below is the part that matters for TypeMeta/ObjectMeta defaults.
            errs.extend(validate_against_schema(s, d, Some(&default_path)));
        } else {
            let mut pruned = d.clone();
            super::pruning::prune_structural(Some(s), &mut pruned, embedded);
            if &pruned != d {
                errs.push(invalid_cause(&default_path, d, "must not have unknown fields"));
            }
            let meta_errs = if embedded { default_meta_errors(&default_path, d) } else { Vec::new() };
            let embedded_errs = if meta_errs.is_empty() {
                let mut e = if embedded && d.is_object() {
                    d.as_object().map(|m| validate_embedded_resource(&default_path, m)).unwrap_or_default()
                } else {
                    Vec::new()
                };
                e.extend(validate_embedded_resources_below(&default_path, d, s));
                e
            } else {
                Vec::new()
            };
            if !meta_errs.is_empty() {
                errs.extend(meta_errs);
            } else if !embedded_errs.is_empty() {
                errs.extend(embedded_errs);
            } else {
                errs.extend(validate_against_schema(s, d, Some(&default_path)));
            }
        }
    }
    // defaults are forbidden below additionalProperties, so kube does not look there
    if let Some(it) = items(s) {
        defaults_node(it, &child(path, "items"), inside_meta, false, errs);
    }
    if let Some(props) = properties(s) {
        for (k, p) in props {
            let sub_inside = inside_meta || (embedded && META_FIELDS.contains(&k.as_str()));
            defaults_node(p, &key(&child(path, "properties"), k), sub_inside, false, errs);
        }
    }
}

/// `objectmeta.Coerce` on a default of an embedded resource: TypeMeta must be strings and
/// metadata must decode.
fn default_meta_errors(path: &str, d: &Value) -> Vec<Cause> {
    let Some(m) = d.as_object() else {
        return Vec::new();
    };
    for (k, v) in m {
        match k.as_str() {
            "apiVersion" | "kind" if !v.is_string() => {
                return vec![invalid_cause(&child(path, k), v, "must be a string")];
            }
            "metadata" => {
                if let Some(msg) = object_meta_decode_error(v) {
                    return vec![invalid_cause(&child(path, "metadata"), v, &msg)];
                }
            }
            _ => {}
        }
    }
    Vec::new()
}

/// Embedded resources nested inside a default value (the default's own node excluded).
fn validate_embedded_resources_below(path: &str, d: &Value, s: &Value) -> Vec<Cause> {
    let mut errs = Vec::new();
    match d {
        Value::Object(m) => {
            for (k, v) in m {
                if let Some(p) = property(s, k) {
                    errs.extend(validate_embedded_resources(&child(path, k), v, Some(p)));
                } else if let Some(a) = additional_properties(s) {
                    errs.extend(validate_embedded_resources(&key(path, k), v, a.schema()));
                }
            }
        }
        Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                errs.extend(validate_embedded_resources(&index(path, i), v, items(s)));
            }
        }
        _ => {}
    }
    errs
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn lines(causes: &[Cause]) -> Vec<String> {
        causes.iter().map(Cause::to_line).collect()
    }

    fn crontab() -> Value {
        json!({
            "type": "object",
            "properties": {
                "apiVersion": {"type": "string"},
                "kind": {"type": "string"},
                "metadata": {"type": "object"},
                "spec": {
                    "type": "object",
                    "required": ["cronSpec", "image"],
                    "properties": {
                        "cronSpec": {"type": "string", "pattern": "^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$"},
                        "image": {"type": "string", "minLength": 1, "maxLength": 20},
                        "replicas": {"type": "integer", "minimum": 1, "maximum": 10},
                        "policy": {"type": "string", "enum": ["Allow", "Forbid", "Replace"]},
                        "ports": {
                            "type": "array",
                            "maxItems": 2,
                            "x-kubernetes-list-type": "map",
                            "x-kubernetes-list-map-keys": ["name"],
                            "items": {
                                "type": "object",
                                "required": ["name"],
                                "properties": {
                                    "name": {"type": "string"},
                                    "port": {"type": "integer", "format": "int32", "default": 80}
                                }
                            }
                        },
                        "tags": {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}},
                        "size": {"x-kubernetes-int-or-string": true},
                        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                        "schedule": {"type": "string", "format": "date-time"}
                    }
                }
            }
        })
    }

    fn crontab_obj(spec: Value) -> Value {
        json!({"apiVersion": "stable.example.com/v1", "kind": "CronTab", "metadata": {"name": "c"}, "spec": spec})
    }

    #[test]
    fn valid_crontab_has_no_errors() {
        let obj = crontab_obj(json!({
            "cronSpec": "*/5 * * * *", "image": "my-cron", "replicas": 3, "policy": "Allow",
            "ports": [{"name": "http", "port": 80}, {"name": "https"}], "tags": ["a", "b"],
            "size": "10%", "labels": {"a": "b"}, "schedule": "2024-01-02T03:04:05Z"
        }));
        assert_eq!(lines(&validate(&crontab(), &obj)), Vec::<String>::new());
    }

    #[test]
    fn type_errors_use_openapi_wording() {
        let obj = crontab_obj(json!({"cronSpec": "* * * * *", "image": "x", "replicas": "three"}));
        let errs = validate(&crontab(), &obj);
        assert_eq!(
            lines(&errs),
            vec![r#"spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string""#]
        );
        assert_eq!(errs[0].reason, "FieldValueTypeInvalid");
        let obj = crontab_obj(json!({"cronSpec": "* * * * *", "image": "x", "replicas": 1.5}));
        assert_eq!(
            lines(&validate(&crontab(), &obj)),
            vec![r#"spec.replicas: Invalid value: "number": spec.replicas in body must be of type integer: "number""#]
        );
        // 2.0 decodes as a float64 but counts as an integer.
        let obj = crontab_obj(json!({"cronSpec": "* * * * *", "image": "x", "replicas": 2.0}));
        assert!(validate(&crontab(), &obj).is_empty());
        let obj = crontab_obj(json!({"cronSpec": "* * * * *", "image": "x", "size": 1.5, "labels": {"a": 1}}));
        assert_eq!(
            lines(&validate(&crontab(), &obj)),
            vec![
                r#"spec.size: Invalid value: "number": spec.size in body must be of type integer,string: "number""#,
                r#"spec.labels.a: Invalid value: "integer": spec.labels.a in body must be of type string: "integer""#,
            ]
        );
    }

    #[test]
    fn required_enum_bounds_and_lengths() {
        let obj = crontab_obj(json!({"replicas": 0, "policy": "Sometimes"}));
        assert_eq!(
            lines(&validate(&crontab(), &obj)),
            vec![
                "spec.replicas: Invalid value: 0: spec.replicas in body should be greater than or equal to 1",
                r#"spec.policy: Unsupported value: "Sometimes": supported values: "Allow", "Forbid", "Replace""#,
                "spec.cronSpec: Required value",
                "spec.image: Required value",
            ]
        );
        let obj = crontab_obj(json!({"cronSpec": "bad", "image": "", "replicas": 11}));
        let errs = validate(&crontab(), &obj);
        assert_eq!(
            lines(&errs),
            vec![
                r#"spec.cronSpec: Invalid value: "bad": spec.cronSpec in body should match '^(\d+|\*)(/\d+)?(\s+(\d+|\*)(/\d+)?){4}$'"#,
                r#"spec.image: Invalid value: "": spec.image in body should be at least 1 chars long"#,
                "spec.replicas: Invalid value: 11: spec.replicas in body should be less than or equal to 10",
            ]
        );
        assert_eq!(errs[0].reason, "FieldValueInvalid");
        let obj = crontab_obj(json!({"cronSpec": "* * * * *", "image": "a-very-long-image-name-indeed"}));
        let errs = validate(&crontab(), &obj);
        assert_eq!(lines(&errs), vec!["spec.image: Too long: may not be more than 20 bytes"]);
        assert_eq!(errs[0].reason, "FieldValueTooLong");
    }

    #[test]
    fn arrays_sets_and_maps() {
        let obj = crontab_obj(json!({
            "cronSpec": "* * * * *", "image": "x",
            "ports": [{"name": "a"}, {"name": "a", "port": "x"}, {"port": 1}],
            "tags": ["a", "b", "a", "a"]
        }));
        let errs = validate(&crontab(), &obj);
        assert_eq!(
            lines(&errs),
            vec![
                r#"spec.ports[1].port: Invalid value: "string": spec.ports[1].port in body must be of type integer: "string""#,
                "spec.ports[2].name: Required value",
                "spec.ports: Too many: 3: must have at most 2 items",
                r#"spec.ports[1]: Duplicate value: map[string]interface {}{"name":"a"}"#,
                r#"spec.tags[2]: Duplicate value: "a""#,
            ]
        );
        assert_eq!(errs[2].reason, "FieldValueTooMany");
        assert_eq!(errs[3].reason, "FieldValueDuplicate");
    }

    #[test]
    fn formats() {
        let obj = crontab_obj(json!({"cronSpec": "* * * * *", "image": "x", "schedule": "yesterday"}));
        assert_eq!(
            lines(&validate(&crontab(), &obj)),
            vec![
                r#"spec.schedule: Invalid value: "yesterday": spec.schedule in body must be of type date-time: "yesterday""#
            ]
        );
        // the format check of a non-string names the format, as kube-openapi does
        let obj = crontab_obj(json!({"cronSpec": "* * * * *", "image": "x", "schedule": 5}));
        assert_eq!(
            lines(&validate(&crontab(), &obj)),
            vec![r#"spec.schedule: Invalid value: "int64": spec.schedule in body must be of type date-time: "int64""#]
        );
        for (format, good, bad) in [
            ("date", "2024-02-29", "2023-02-29"),
            ("date-time", "2024-01-02t03:04:05.123+01:00", "2024-01-02 03:04:05"),
            ("uuid", "123e4567-e89b-12d3-a456-426614174000", "123"),
            ("ipv4", "10.0.0.1", "10.0.0.256"),
            ("ipv6", "::1", "10.0.0.1"),
            ("cidr", "10.0.0.0/8", "10.0.0.0/33"),
            ("mac", "01:23:45:67:89:ab", "01:23:45"),
            ("hostname", "example.com", "-bad-"),
            ("byte", "aGVsbG8=", "hello!"),
            ("duration", "1h30m", "soon"),
            ("email", "a@example.com", "nope"),
        ] {
            let s = json!({"type": "object", "properties": {"v": {"type": "string", "format": format}}});
            assert!(validate(&s, &json!({"v": good})).is_empty(), "{format} {good}");
            assert_eq!(validate(&s, &json!({"v": bad})).len(), 1, "{format} {bad}");
        }
        // unsupported formats, and int32/int64 on numbers, are dropped before validation
        let s = json!({"type": "object", "properties": {"v": {"type": "integer", "format": "int32"}, "w": {"type": "string", "format": "k8s-name"}}});
        assert!(validate(&s, &json!({"v": 9_999_999_999i64, "w": "!!"})).is_empty());
    }

    #[test]
    fn junctors_report_nil_path() {
        let s = json!({
            "type": "object",
            "properties": {"spec": {
                "type": "object",
                "properties": {"a": {"type": "string"}, "b": {"type": "string"}},
                "oneOf": [{"required": ["a"]}, {"required": ["b"]}]
            }}
        });
        assert_eq!(
            lines(&validate(&s, &json!({"spec": {}}))),
            vec![
                r#"<nil>: Invalid value: "": "spec" must validate one and only one schema (oneOf). Found none valid"#,
                "spec.a: Required value",
            ]
        );
        assert_eq!(
            lines(&validate(&s, &json!({"spec": {"a": "x", "b": "y"}}))),
            vec![
                r#"<nil>: Invalid value: "": "spec" must validate one and only one schema (oneOf). Found 2 valid alternatives"#
            ]
        );
        let s = json!({"type": "object", "properties": {"spec": {"type": "object", "properties": {"a": {"type": "integer"}},
            "anyOf": [{"properties": {"a": {"minimum": 5}}}, {"properties": {"a": {"maximum": 1}}}],
            "not": {"required": ["a"], "properties": {"a": {"enum": [3]}}}}}});
        assert_eq!(
            lines(&validate(&s, &json!({"spec": {"a": 3}}))),
            vec![
                r#"<nil>: Invalid value: "": "spec" must validate at least one schema (anyOf)"#,
                "spec.a: Invalid value: 3: spec.a in body should be greater than or equal to 5",
                r#"<nil>: Invalid value: "": "spec" must not validate the schema (not)"#,
            ]
        );
        assert!(validate(&s, &json!({"spec": {"a": 7}})).is_empty());
    }

    #[test]
    fn root_required_and_singular_limits() {
        let s = json!({"type": "object", "required": ["spec"], "properties": {
            "spec": {"type": "object", "properties": {
                "one": {"type": "array", "maxItems": 1, "items": {"type": "string"}},
                "s": {"type": "string", "maxLength": 1},
                "mode": {"type": "string", "enum": ["a", "b"]},
                "n": {"type": "integer", "enum": [1, 2.5]}
            }}
        }});
        assert_eq!(lines(&validate(&s, &json!({"kind": "X"}))), vec!["spec: Required value"]);
        assert_eq!(
            lines(&validate(&s, &json!({"spec": {"one": ["a", "b"], "s": "ab", "mode": "x", "n": 3}}))),
            vec![
                "spec.one: Too many: 2: must have at most 1 item",
                "spec.s: Too long: may not be more than 1 byte",
                r#"spec.mode: Unsupported value: "x": supported values: "a", "b""#,
                r#"spec.n: Unsupported value: 3: supported values: "1", "2.5""#,
            ]
        );
    }

    #[test]
    fn list_map_with_several_keys() {
        let s = json!({"type": "object", "properties": {"l": {
            "type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["port", "protocol"],
            "items": {"type": "object", "properties": {"port": {"type": "integer"}, "protocol": {"type": "string"}}}
        }}});
        let obj = json!({"l": [{"port": 80, "protocol": "TCP"}, {"port": 80, "protocol": "UDP"}, {"port": 80, "protocol": "TCP"}, 5]});
        assert_eq!(
            lines(&validate(&s, &obj)),
            vec![
                r#"l[3]: Invalid value: "integer": l[3] in body must be of type object: "integer""#,
                "l[3]: Invalid value: 5: must be an object for an array of list-type map",
            ]
        );
        let obj = json!({"l": [{"port": 80, "protocol": "TCP"}, {"port": 80, "protocol": "UDP"}, {"port": 80, "protocol": "TCP"}]});
        assert_eq!(
            lines(&validate(&s, &obj)),
            vec![r#"l[2]: Duplicate value: map[string]interface {}{"port":80, "protocol":"TCP"}"#]
        );
    }

    #[test]
    fn nullable_and_enum_quirks() {
        let s = json!({"type": "object", "properties": {
            "n": {"type": "string", "nullable": true},
            "m": {"type": "string"},
            "e": {"type": "integer", "enum": [1, 2]},
            "ne": {"type": "string", "nullable": true, "enum": ["a", null]}
        }});
        assert_eq!(
            lines(&validate(&s, &json!({"n": null, "m": null, "e": 1.5, "ne": null}))),
            vec![
                r#"m: Invalid value: "null": m in body must be of type string: "null""#,
                r#"e: Invalid value: "number": e in body must be of type integer: "number""#,
                // kube-openapi never matches null against an enum
                r#"ne: Unsupported value: "null": supported values: "a", "null""#,
            ]
        );
    }

    #[test]
    fn objects_and_items_bounds() {
        let s = json!({"type": "object", "properties": {
            "m": {"type": "object", "minProperties": 2, "maxProperties": 3, "additionalProperties": {"type": "string"}},
            "l": {"type": "array", "minItems": 1, "items": {"type": "number", "exclusiveMinimum": true, "minimum": 0.5, "multipleOf": 0.5}}
        }});
        assert_eq!(
            lines(&validate(&s, &json!({"m": {"a": "x"}, "l": []}))),
            vec![
                "m: Invalid value: 1: m in body should have at least 2 properties",
                "l: Invalid value: 0: l in body should have at least 1 items",
            ]
        );
        assert_eq!(
            lines(&validate(&s, &json!({"m": {"a": "1", "b": "2", "c": "3", "d": "4"}, "l": [0.5, 1.25]}))),
            vec![
                "m: Too many: 4: must have at most 3 items",
                "l[0]: Invalid value: 0.5: l[0] in body should be greater than 0.5",
                "l[1]: Invalid value: 1.25: l[1] in body should be a multiple of 0.5",
            ]
        );
    }

    #[test]
    fn embedded_resources_are_checked() {
        let s = json!({"type": "object", "properties": {"spec": {"type": "object", "properties": {
            "template": {"type": "object", "x-kubernetes-embedded-resource": true, "x-kubernetes-preserve-unknown-fields": true}
        }}}});
        assert_eq!(
            lines(&validate(
                &s,
                &json!({"spec": {"template": {"kind": "Not_A_Kind", "metadata": {"generation": "x"}}}})
            )),
            vec![
                "spec.template.apiVersion: Required value",
                r#"spec.template.kind: Invalid value: "Not_A_Kind": may have mixed case, but should otherwise match: a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"#,
                r#"spec.template.metadata: Invalid value: map[string]interface {}{"generation":"x"}: json: cannot unmarshal string into Go struct field ObjectMeta.generation of type int64"#,
            ]
        );
        assert!(validate(
            &s,
            &json!({"spec": {"template": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}}}})
        )
        .is_empty());
    }

    #[test]
    fn go_rendering() {
        assert_eq!(go_float(1e8), "1e+08");
        assert_eq!(go_float(123456.0), "123456");
        assert_eq!(go_float(1234567.0), "1.234567e+06");
        assert_eq!(go_float(0.0001), "0.0001");
        assert_eq!(go_float(0.00001), "1e-05");
        assert_eq!(go_float(-2.5), "-2.5");
        assert_eq!(go_json_float(1e21), "1e+21");
        assert_eq!(go_json_float(1e20), "100000000000000000000");
        assert_eq!(go_json_float(1.5e-7), "1.5e-7");
        assert_eq!(go_json(&json!({"b": [1, 2.5], "a": "<"})), r#"{"a":"\u003c","b":[1,2.5]}"#);
        assert_eq!(
            go_sharp_v(&json!({"b": null, "a": [1, "x"]})),
            r#"map[string]interface {}{"a":[]interface {}{1, "x"}, "b":interface {}(nil)}"#
        );
        assert_eq!(go_quote("a\"b\n\u{1}é"), r#""a\"b\n\x01é""#);
    }

    #[test]
    fn go_regex_is_ascii_like_go() {
        let re = go_regex(r"^\d+$").unwrap();
        assert!(re.is_match("123"));
        assert!(!re.is_match("١٢٣"));
        assert!(go_regex(r"^[\w.-]+$").unwrap().is_match("a.b-c_d"));
        assert!(go_regex(r"^[]a]+$").unwrap().is_match("]a"));
        assert_eq!(go_regex("[a").unwrap_err(), "error parsing regexp: unclosed character class: `[a`");
    }

    // --- check_structural ---

    const P: &str = "spec.versions[0].schema.openAPIV3Schema";

    #[test]
    fn structural_schema_needs_types() {
        let s = json!({"type": "object", "properties": {
            "spec": {"properties": {"a": {"type": "string"}}},
            "list": {"type": "array"},
            "any": {"x-kubernetes-preserve-unknown-fields": true},
            "ios": {"x-kubernetes-int-or-string": true}
        }});
        assert_eq!(
            lines(&check_structural_at(&s, P)),
            vec![
                format!("{P}.properties[list].items: Required value: must be specified"),
                format!("{P}.properties[spec].type: Required value: must not be empty for specified object fields"),
            ]
        );
        assert_eq!(
            lines(&check_structural_at(&json!({"properties": {"a": {"type": "array", "items": {}}}}), P)),
            vec![
                format!("{P}.properties[a].items.type: Required value: must not be empty for specified array items"),
                format!("{P}.type: Required value: must not be empty at the root"),
            ]
        );
    }

    #[test]
    fn structural_schema_rules() {
        let s = json!({
            "type": "object",
            "nullable": true,
            "additionalProperties": {"type": "string"},
            "properties": {
                "metadata": {"type": "object", "properties": {"name": {"type": "string"}, "labels": {"type": "object"}}},
                "kind": {"type": "integer"},
                "spec": {
                    "type": "object",
                    "uniqueItems": true,
                    "properties": {"a": {"type": "string"}},
                    "additionalProperties": {"type": "string"},
                    "anyOf": [{"type": "string", "properties": {"metadata": {}}}, {"description": "x"}]
                },
                "tpl": {"type": "string", "x-kubernetes-embedded-resource": true},
                "bad": {"type": "string", "pattern": "[a"}
            }
        });
        assert_eq!(
            lines(&check_structural_at(&s, P)),
            vec![
                format!("{P}.nullable: Forbidden: nullable cannot be true at the root"),
                format!("{P}.additionalProperties: Forbidden: must not be used at the root"),
                format!("{P}.properties[bad].pattern: Invalid value: \"[a\": must be a valid regular expression, but isn't: error parsing regexp: unclosed character class: `[a`"),
                format!("{P}.properties[kind].type: Invalid value: \"integer\": must be string"),
                format!("{P}.properties[metadata]: Forbidden: must not specify anything other than name and generateName, but metadata is implicitly specified"),
                format!("{P}.properties[spec].anyOf[0].properties[metadata]: Forbidden: must not be specified in a nested context"),
                format!("{P}.properties[spec].anyOf[0].type: Forbidden: must be empty to be structural"),
                format!("{P}.properties[spec].anyOf[1].description: Forbidden: must be empty to be structural"),
                format!("{P}.properties[tpl].properties: Required value: must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields"),
                format!("{P}.properties[tpl].type: Invalid value: \"string\": must be object if x-kubernetes-embedded-resource is true"),
                format!("{P}.additionalProperties: Forbidden: additionalProperties and properties are mutual exclusive"),
                format!("{P}.properties[spec].uniqueItems: Forbidden: uniqueItems cannot be set to true since the runtime complexity becomes quadratic"),
                format!("{P}.properties[spec].additionalProperties: Forbidden: additionalProperties and properties are mutual exclusive"),
            ]
        );
    }

    #[test]
    fn int_or_string_patterns_are_structural() {
        let s = json!({"type": "object", "properties": {
            "a": {"x-kubernetes-int-or-string": true, "anyOf": [{"type": "integer"}, {"type": "string"}]},
            "b": {"x-kubernetes-int-or-string": true, "allOf": [{"anyOf": [{"type": "integer"}, {"type": "string"}]}, {"pattern": "^x"}]}
        }});
        assert!(check_structural_at(&s, P).is_empty());
    }

    #[test]
    fn completeness_of_root_junctors() {
        let s = json!({"type": "object", "properties": {"a": {"type": "string"}},
            "anyOf": [{"required": ["a"]}, {"properties": {"b": {"minLength": 1}}}]});
        assert_eq!(
            lines(&check_structural_at(&s, P)),
            vec![format!("{P}.properties[b]: Required value: because it is defined in {P}.anyOf[1].properties[b]")]
        );
    }

    #[test]
    fn list_types_and_map_keys() {
        let s = json!({"type": "object", "properties": {
            "m": {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name", "sub"],
                  "items": {"type": "object", "properties": {"name": {"type": "string", "nullable": true}, "sub": {"type": "object"}}}},
            "s": {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "object", "nullable": true}},
            "k": {"type": "array", "x-kubernetes-list-map-keys": ["a"], "items": {"type": "string"}},
            "t": {"type": "string", "x-kubernetes-list-type": "bag"}
        }});
        assert_eq!(
            lines(&check_structural_at(&s, P)),
            vec![
                format!("{P}.properties[m].items.properties[sub].type: Invalid value: \"object\": must be a scalar type if parent array's x-kubernetes-list-type is map"),
                format!("{P}.properties[m].items.properties[name].default: Required value: this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property"),
                format!("{P}.properties[m].items.properties[name].nullable: Forbidden: this property is in x-kubernetes-list-map-keys, so it cannot be nullable"),
                format!("{P}.properties[m].items.properties[sub].default: Required value: this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property"),
                format!("{P}.properties[s].items.x-kubernetes-map-type: Invalid value: \"null\": must be atomic as item of a list with x-kubernetes-list-type=set"),
                format!("{P}.properties[s].items.nullable: Forbidden: cannot be nullable when x-kubernetes-list-type is set"),
                format!("{P}.properties[k].x-kubernetes-list-type: Required value: must be map if x-kubernetes-list-map-keys is non-empty"),
                format!("{P}.properties[t].type: Invalid value: \"string\": must be array if x-kubernetes-list-type is specified"),
                format!("{P}.properties[t].x-kubernetes-list-type: Unsupported value: \"bag\": supported values: \"atomic\", \"set\", \"map\""),
            ]
        );
    }

    #[test]
    fn defaults_are_validated() {
        let s = json!({"type": "object", "properties": {
            "metadata": {"type": "object", "default": {"name": "x"}},
            "spec": {"type": "object", "properties": {
                "replicas": {"type": "integer", "minimum": 1, "default": 0},
                "image": {"type": "string", "default": 5},
                "obj": {"type": "object", "properties": {"a": {"type": "string"}}, "default": {"a": "x", "b": 1}},
                "ok": {"type": "string", "enum": ["a"], "default": "a"}
            }}
        }});
        assert_eq!(
            lines(&check_structural_at(&s, P)),
            vec![
                format!("{P}.properties[spec].properties[replicas].default: Invalid value: 0:  in body should be greater than or equal to 1"),
                format!("{P}.properties[spec].properties[image].default: Invalid value: \"integer\":  in body must be of type string: \"integer\""),
                format!("{P}.properties[spec].properties[obj].default: Invalid value: map[string]interface {{}}{{\"a\":\"x\", \"b\":1}}: must not have unknown fields"),
                format!("{P}.properties[metadata].default: Forbidden: must not be set in top-level metadata"),
            ]
        );
    }

    #[test]
    fn embedded_resource_defaults() {
        let s = json!({"type": "object", "properties": {"spec": {"type": "object", "properties": {
            "template": {
                "type": "object",
                "x-kubernetes-embedded-resource": true,
                "x-kubernetes-preserve-unknown-fields": true,
                "default": {"kind": "Pod"}
            },
            "map": {"type": "object", "x-kubernetes-map-type": "sometimes", "additionalProperties": {"type": "string"}}
        }}}});
        assert_eq!(
            lines(&check_structural_at(&s, P)),
            vec![
                format!("{P}.properties[spec].properties[template].default.apiVersion: Required value"),
                format!("{P}.properties[spec].properties[map].x-kubernetes-map-type: Unsupported value: \"sometimes\": supported values: \"atomic\", \"granular\""),
            ]
        );
    }

    #[test]
    fn unsupported_keywords() {
        let s = json!({"type": "object", "properties": {
            "a": {"type": "null"},
            "b": {"type": "string", "$ref": "#/x"},
            "c": {"type": "object", "x-kubernetes-preserve-unknown-fields": false}
        }});
        assert_eq!(
            lines(&check_structural_at(&s, P)),
            vec![
                format!("{P}.properties[a].type: Unsupported value: \"null\": supported values: \"array\", \"boolean\", \"integer\", \"number\", \"object\", \"string\""),
                format!("{P}.properties[a].type: Forbidden: type cannot be set to null, use nullable as an alternative"),
                format!("{P}.properties[b].$ref: Forbidden: $ref is not supported"),
                format!("{P}.properties[c].x-kubernetes-preserve-unknown-fields: Invalid value: false: must be true or undefined"),
            ]
        );
    }

    #[test]
    fn relative_paths_without_prefix() {
        let s = json!({"nullable": true, "properties": {"spec": {"properties": {}}}});
        assert_eq!(
            lines(&check_structural(&s)),
            vec![
                "nullable: Forbidden: nullable cannot be true at the root",
                "properties[spec].type: Required value: must not be empty for specified object fields",
                "type: Required value: must not be empty at the root",
            ]
        );
    }

    #[test]
    fn valid_crontab_schema_passes() {
        assert_eq!(lines(&check_structural_at(&crontab(), P)), Vec::<String>::new());
    }
}
