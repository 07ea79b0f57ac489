//! The subset of client-go's `util/jsonpath` that CRD `additionalPrinterColumns` use.
//!
//! kube-apiserver evaluates each column's `jsonPath` with client-go's template-style
//! JSONPath (`{` + path + `}`, missing keys allowed) and prints the *first* result.
//! This module ports its parser and evaluator for a single action: fields
//! (`.spec.replicas`, with `\.` escapes), `['key']`, indexes and slices (`[0]`,
//! `[-1]`, `[1:3]`, `[*]`), wildcards (`.*`), recursive descent (`..name`), unions
//! (`[0,1]`) and filters (`[?(@.type=="Ready")]`, `[?(@.x)]`), with client-go's quirks
//! (`[]` means `[0]`, out-of-range indexes are errors, filters compare only values of
//! the same Go kind). [`print_value`] renders a result like `JSONPath.PrintResults`.

use std::borrow::Cow;
use std::cmp::Ordering;

use serde_json::Value;
use thiserror::Error;

/// A JSONPath that failed to parse or to evaluate.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum JsonPathError {
    /// The expression is not valid client-go JSONPath.
    #[error("invalid jsonpath: {0}")]
    Parse(String),
    /// The expression does not apply to the object (e.g. indexing a map).
    #[error("jsonpath evaluation failed: {0}")]
    Eval(String),
}

fn parse_err<T>(msg: impl Into<String>) -> Result<T, JsonPathError> {
    Err(JsonPathError::Parse(msg.into()))
}

fn eval_err<T>(msg: impl Into<String>) -> Result<T, JsonPathError> {
    Err(JsonPathError::Eval(msg.into()))
}

/// One slice parameter of `[start:end:step]`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Param {
    value: i64,
    known: bool,
    /// The end of `[i]`, derived as i+1 rather than written.
    derived: bool,
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Field(String),
    Wildcard,
    Recursive,
    Array([Param; 3]),
    Filter { left: Vec<Node>, right: Vec<Node>, op: String },
    Union(Vec<Vec<Node>>),
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Identifier(String),
}

/// A parsed JSONPath expression (the inside of one `{...}` action).
#[derive(Debug, Clone, PartialEq)]
pub struct JsonPath {
    nodes: Vec<Node>,
}

/// Parses a CRD-style path such as `.status.conditions[?(@.type=="Ready")].status`.
pub fn parse(path: &str) -> Result<JsonPath, JsonPathError> {
    // kube wraps the column path in braces before parsing, so the action ends at
    // the first top-level '}' and running off the end is an unclosed action.
    let input: Vec<char> = format!("{path}}}").chars().collect();
    let mut p = Parser { input, pos: 0 };
    let nodes = p.parse_action()?;
    Ok(JsonPath { nodes })
}

/// Parses `path` and evaluates it against `obj`, allowing missing keys as the CRD
/// table convertor does. Returns every result; kube prints only the first.
pub fn eval(path: &str, obj: &Value) -> Result<Vec<Value>, JsonPathError> {
    parse(path)?.find(obj)
}

impl JsonPath {
    /// Evaluates the path against `obj` (missing keys yield no result, not an error).
    pub fn find(&self, obj: &Value) -> Result<Vec<Value>, JsonPathError> {
        let out = eval_list(vec![Cow::Borrowed(obj)], &self.nodes)?;
        Ok(out.into_iter().map(Cow::into_owned).collect())
    }
}

struct Parser {
    input: Vec<char>,
    pos: usize,
}

fn is_terminator(c: Option<char>) -> bool {
    match c {
        None => true,
        Some(c) => matches!(c, ' ' | '\t' | '\r' | '\n' | '.' | ',' | '[' | ']' | '$' | '@' | '{' | '}'),
    }
}

fn is_alphanumeric(c: char) -> bool {
    c == '_' || c.is_alphabetic() || c.is_numeric()
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.input.get(self.pos).copied()
    }

    fn starts_with(&self, s: &str) -> bool {
        (self.pos..).zip(s.chars()).all(|(i, c)| self.input.get(i) == Some(&c))
    }

    /// `parseInsideAction` until the closing '}'.
    fn parse_action(&mut self) -> Result<Vec<Node>, JsonPathError> {
        let mut nodes = Vec::new();
        loop {
            if self.starts_with("}") {
                return Ok(nodes);
            }
            if self.starts_with("[?(") {
                self.pos += 3;
                nodes.push(self.parse_filter()?);
                continue;
            }
            if self.starts_with("..") {
                if nodes.last() == Some(&Node::Recursive) {
                    return parse_err("invalid multiple recursive descent");
                }
                self.pos += 2;
                nodes.push(Node::Recursive);
                if self.peek().is_some_and(is_alphanumeric) {
                    nodes.push(self.parse_field());
                }
                continue;
            }
            let Some(c) = self.peek() else {
                return parse_err("unclosed action");
            };
            match c {
                '\r' | '\n' => return parse_err("unclosed action"),
                ' ' | '@' | '$' => self.pos += 1,
                '[' => {
                    self.pos += 1;
                    nodes.extend(self.parse_array()?);
                }
                '"' | '\'' => {
                    self.pos += 1;
                    nodes.push(Node::Text(self.parse_quote(c)?));
                }
                '.' => {
                    self.pos += 1;
                    nodes.push(self.parse_field());
                }
                c if c == '+' || c == '-' || c.is_ascii_digit() => {
                    nodes.push(self.parse_number()?);
                }
                c if is_alphanumeric(c) => nodes.push(self.parse_identifier()),
                c => return parse_err(format!("unrecognized character in action: {c:?}")),
            }
        }
    }

    /// A field name up to the next unescaped terminator; `\` escapes are dropped.
    fn parse_field(&mut self) -> Node {
        let start = self.pos;
        loop {
            let c = self.peek();
            if c == Some('\\') {
                self.pos += 2;
                continue;
            }
            if is_terminator(c) {
                break;
            }
            self.pos += 1;
        }
        let end = self.pos.min(self.input.len());
        let raw: String = self.input[start..end].iter().collect();
        if raw == "*" {
            Node::Wildcard
        } else {
            Node::Field(raw.replace('\\', ""))
        }
    }

    fn parse_identifier(&mut self) -> Node {
        let start = self.pos;
        while !is_terminator(self.peek()) {
            self.pos += 1;
        }
        let word: String = self.input[start..self.pos].iter().collect();
        match word.as_str() {
            "true" => Node::Bool(true),
            "false" => Node::Bool(false),
            _ => Node::Identifier(word),
        }
    }

    fn parse_number(&mut self) -> Result<Node, JsonPathError> {
        let start = self.pos;
        if matches!(self.peek(), Some('+' | '-')) {
            self.pos += 1;
        }
        while matches!(self.peek(), Some(c) if c == '.' || c.is_ascii_digit()) {
            self.pos += 1;
        }
        let text: String = self.input[start..self.pos].iter().collect();
        if let Ok(i) = text.parse::<i64>() {
            return Ok(Node::Int(i));
        }
        match text.parse::<f64>() {
            Ok(f) => Ok(Node::Float(f)),
            Err(_) => parse_err(format!("cannot parse number {text}")),
        }
    }

    /// A quoted string literal, after its opening quote.
    fn parse_quote(&mut self, quote: char) -> Result<String, JsonPathError> {
        let start = self.pos;
        loop {
            match self.peek() {
                None | Some('\n') => return parse_err("unterminated quoted string"),
                Some(c) if c == quote && self.input.get(self.pos - 1) != Some(&'\\') => break,
                Some(_) => self.pos += 1,
            }
        }
        let body: String = self.input[start..self.pos].iter().collect();
        self.pos += 1;
        unquote(&body, quote)
    }

    /// `[...]` after the '[': union, `'key'`, index or slice.
    fn parse_array(&mut self) -> Result<Vec<Node>, JsonPathError> {
        let start = self.pos;
        loop {
            match self.peek() {
                None | Some('\n') => return parse_err("unterminated array"),
                Some(']') => break,
                Some(_) => self.pos += 1,
            }
        }
        let mut text: String = self.input[start..self.pos].iter().collect();
        self.pos += 1;
        if text == "*" {
            text = ":".to_string();
        }
        if text.contains(',') {
            let members = text
                .split(',')
                .map(|part| sub_action(&format!("[{}]", part.trim_matches(' '))))
                .collect::<Result<Vec<_>, _>>()?;
            return Ok(vec![Node::Union(members)]);
        }
        if let Some(key) = text.strip_prefix('\'').and_then(|t| t.strip_suffix('\'')).filter(|k| !k.contains('\'')) {
            return sub_action(&format!(".{key}"));
        }
        Ok(vec![Node::Array(parse_slice(&text)?)])
    }

    /// `[?(...)]` after the "[?(": the filter expression up to its ')' and ']'.
    fn parse_filter(&mut self) -> Result<Node, JsonPathError> {
        let start = self.pos;
        let (mut begin, mut end, mut pair) = (false, false, '"');
        loop {
            let Some(c) = self.peek() else {
                return parse_err("unterminated filter");
            };
            self.pos += 1;
            match c {
                '\n' => return parse_err("unterminated filter"),
                '"' | '\'' if !begin => {
                    begin = true;
                    pair = c;
                }
                '"' | '\'' if self.pos >= 2 && self.input[self.pos - 2] != '\\' && c == pair => {
                    end = true;
                }
                ')' if begin == end => break,
                _ => {}
            }
        }
        if self.peek() != Some(']') {
            return parse_err("unclosed array expect ]");
        }
        self.pos += 1;
        let text: String = self.input[start..self.pos - 2].iter().collect();
        // client-go's `^([^!<>=]+)([!<>=]+)(.+?)$`.
        let op_start = text.find(['!', '<', '>', '=']);
        let split = op_start.filter(|&i| i > 0).and_then(|i| {
            let op_len = text[i..].find(|c: char| !matches!(c, '!' | '<' | '>' | '=')).unwrap_or(text.len() - i);
            let right = &text[i + op_len..];
            (!right.is_empty()).then(|| (&text[..i], &text[i..i + op_len], right))
        });
        match split {
            None => Ok(Node::Filter { left: sub_action(&text)?, right: Vec::new(), op: "exists".to_string() }),
            Some((left, op, right)) => {
                Ok(Node::Filter { left: sub_action(left)?, right: sub_action(right)?, op: op.to_string() })
            }
        }
    }
}

/// client-go's `parseAction`: parses `text` as its own `{...}` action.
fn sub_action(text: &str) -> Result<Vec<Node>, JsonPathError> {
    parse(text).map(|p| p.nodes)
}

/// client-go's slice regex `^(-?\d*)(:-?\d*)?(:-?\d*)?$` and parameter rules.
fn parse_slice(text: &str) -> Result<[Param; 3], JsonPathError> {
    let parts: Vec<&str> = text.split(':').collect();
    if parts.len() > 3 {
        return parse_err(format!("invalid array index {text}"));
    }
    let valid = |p: &str| {
        let digits = p.strip_prefix('-').unwrap_or(p);
        digits.chars().all(|c| c.is_ascii_digit())
    };
    if !parts.iter().all(|p| valid(p)) {
        return parse_err(format!("invalid array index {text}"));
    }
    let mut params = [Param { value: 0, known: false, derived: false }; 3];
    for i in 0..3 {
        match parts.get(i) {
            Some(p) if !p.is_empty() => {
                let v =
                    p.parse::<i64>().map_err(|_| JsonPathError::Parse(format!("array index {p} is not a number")))?;
                params[i] = Param { value: v, known: true, derived: false };
            }
            // A present-but-empty end or step (`[1:]`) is unknown.
            Some(_) if i > 0 => {}
            // No end at all (`[3]`): the single element after start.
            None if i == 1 => {
                params[1] = Param { value: params[0].value + 1, known: true, derived: true };
            }
            _ => {}
        }
    }
    Ok(params)
}

/// client-go's `UnquoteExtend`: Go string-literal unescaping for either quote.
fn unquote(body: &str, quote: char) -> Result<String, JsonPathError> {
    if !body.contains('\\') {
        return Ok(body.to_string());
    }
    let mut out = String::new();
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let esc = chars.next().ok_or_else(|| JsonPathError::Parse(format!("unquote string {body}")))?;
        match esc {
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'r' => out.push('\r'),
            'a' => out.push('\u{7}'),
            'b' => out.push('\u{8}'),
            'f' => out.push('\u{c}'),
            'v' => out.push('\u{b}'),
            '\\' => out.push('\\'),
            c if c == quote => out.push(c),
            'u' | 'U' | 'x' => {
                let len = match esc {
                    'u' => 4,
                    'U' => 8,
                    _ => 2,
                };
                let hex: String = chars.by_ref().take(len).collect();
                let code = u32::from_str_radix(&hex, 16)
                    .ok()
                    .and_then(char::from_u32)
                    .ok_or_else(|| JsonPathError::Parse(format!("unquote string {body}")))?;
                out.push(code);
            }
            _ => return parse_err(format!("unquote string {body}")),
        }
    }
    Ok(out)
}

type Values<'a> = Vec<Cow<'a, Value>>;

/// A child of a borrowed or owned value, keeping the borrow when there is one.
fn child<'a>(parent: &Cow<'a, Value>, pick: impl Fn(&Value) -> Option<&Value>) -> Option<Cow<'a, Value>> {
    match parent {
        Cow::Borrowed(p) => pick(p).map(Cow::Borrowed),
        Cow::Owned(p) => pick(p).map(|v| Cow::Owned(v.clone())),
    }
}

/// All children of a map (values), list (elements) or string (bytes, as Go ranges them).
fn children<'a>(v: &Cow<'a, Value>) -> Values<'a> {
    match v {
        Cow::Borrowed(r) => match r {
            Value::Object(m) => m.values().map(Cow::Borrowed).collect(),
            Value::Array(a) => a.iter().map(Cow::Borrowed).collect(),
            Value::String(s) => s.bytes().map(|b| Cow::Owned(Value::from(b))).collect(),
            _ => Vec::new(),
        },
        Cow::Owned(o) => match o {
            Value::Object(m) => m.values().cloned().map(Cow::Owned).collect(),
            Value::Array(a) => a.iter().cloned().map(Cow::Owned).collect(),
            Value::String(s) => s.bytes().map(|b| Cow::Owned(Value::from(b))).collect(),
            _ => Vec::new(),
        },
    }
}

fn eval_list<'a>(input: Values<'a>, nodes: &[Node]) -> Result<Values<'a>, JsonPathError> {
    let mut cur = input;
    for node in nodes {
        cur = walk(cur, node)?;
    }
    Ok(cur)
}

fn walk<'a>(input: Values<'a>, node: &Node) -> Result<Values<'a>, JsonPathError> {
    match node {
        Node::Text(t) => Ok(vec![Cow::Owned(Value::String(t.clone()))]),
        Node::Int(i) => Ok(input.iter().map(|_| Cow::Owned(Value::from(*i))).collect()),
        Node::Float(f) => Ok(input.iter().map(|_| Cow::Owned(Value::from(*f))).collect()),
        Node::Field(name) => {
            Ok(input.iter().filter_map(|v| child(v, |x| x.as_object().and_then(|m| m.get(name)))).collect())
        }
        Node::Wildcard => Ok(input.iter().filter(|v| !v.is_null()).flat_map(children).collect()),
        Node::Recursive => {
            let mut out = Vec::new();
            recurse(input, &mut out);
            Ok(out)
        }
        Node::Array(params) => eval_array(input, params),
        Node::Union(members) => {
            let mut out = Vec::new();
            for list in members {
                out.extend(eval_list(input.clone(), list)?);
            }
            Ok(out)
        }
        Node::Filter { left, right, op } => eval_filter(input, left, right, op),
        Node::Bool(b) => Ok(input.iter().map(|_| Cow::Owned(Value::Bool(*b))).collect()),
        Node::Identifier(id) => eval_err(format!("unrecognized identifier {id}")),
    }
}

/// `evalRecursive`: every container reachable from the input (leaves excluded).
fn recurse<'a>(input: Values<'a>, out: &mut Values<'a>) {
    for v in input {
        if v.is_null() {
            continue;
        }
        let kids = children(&v);
        if !kids.is_empty() {
            out.push(v);
            recurse(kids, out);
        }
    }
}

fn eval_array<'a>(input: Values<'a>, params: &[Param; 3]) -> Result<Values<'a>, JsonPathError> {
    let mut out = Vec::new();
    for v in input {
        if v.is_null() {
            continue;
        }
        let Some(len) = v.as_array().map(Vec::len) else {
            return eval_err("value is not array or slice");
        };
        let len = i64::try_from(len).unwrap_or(i64::MAX);
        let mut start = if params[0].known { params[0].value } else { 0 };
        if start < 0 {
            start += len;
        }
        let mut end = if params[1].known { params[1].value } else { len };
        // `[-1]` derives end 0, which means "through the last element".
        if end < 0 || (end == 0 && params[1].derived) {
            end += len;
        }
        if end == start {
            // client-go returns here, skipping any remaining inputs.
            return Ok(out);
        }
        if start >= len || start < 0 {
            return eval_err(format!("array index out of bounds: index {start}, length {len}"));
        }
        if end > len || end < 0 {
            return eval_err(format!("array index out of bounds: index {}, length {len}", end - 1));
        }
        if start > end {
            return eval_err(format!("starting index {start} is greater than ending index {end}"));
        }
        let step = if params[2].known { params[2].value } else { 1 };
        if step <= 0 {
            return eval_err("step must be > 0");
        }
        let (from, to) = (usize::try_from(start).unwrap_or(0), usize::try_from(end).unwrap_or(0));
        let step = usize::try_from(step).unwrap_or(1);
        out.extend((from..to).step_by(step).filter_map(|i| child(&v, |x| x.get(i))));
    }
    Ok(out)
}

fn eval_filter<'a>(input: Values<'a>, left: &[Node], right: &[Node], op: &str) -> Result<Values<'a>, JsonPathError> {
    let mut out = Vec::new();
    for v in input {
        if !v.is_array() {
            return eval_err("value is not array or slice and cannot be filtered");
        }
        for item in children(&v) {
            let lefts = eval_list(vec![item.clone()], left);
            if op == "exists" {
                if lefts.is_ok_and(|l| !l.is_empty()) {
                    out.push(item);
                }
                continue;
            }
            // Elements missing the compared key are skipped.
            let lefts = lefts?;
            match lefts.len() {
                0 => continue,
                1 => {}
                _ => return eval_err("can only compare one element at a time"),
            }
            let rights = eval_list(vec![item.clone()], right)?;
            match rights.len() {
                0 => continue,
                1 => {}
                _ => return eval_err("can only compare one element at a time"),
            }
            if compare(&lefts[0], &rights[0], op)? {
                out.push(item);
            }
        }
    }
    Ok(out)
}

/// The Go kind `text/template`'s comparison functions see for a decoded JSON value.
#[derive(Debug, PartialEq)]
enum Kind<'v> {
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(&'v str),
}

fn kind(v: &Value) -> Result<Kind<'_>, JsonPathError> {
    match v {
        Value::Bool(b) => Ok(Kind::Bool(*b)),
        Value::String(s) => Ok(Kind::Str(s)),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Ok(Kind::Int(i))
            } else if let Some(u) = n.as_u64() {
                // Go decodes integers beyond int64 as float64.
                Ok(Kind::Float(u as f64))
            } else {
                Ok(Kind::Float(n.as_f64().unwrap_or(0.0)))
            }
        }
        _ => eval_err("invalid type for comparison"),
    }
}

/// `template.Equal` / `Less` semantics: only values of the same kind compare. (Go
/// also mixes signed and unsigned ints, but decoded JSON never holds unsigned ones.)
fn order(a: &Kind<'_>, b: &Kind<'_>) -> Result<Option<Ordering>, JsonPathError> {
    match (a, b) {
        (Kind::Bool(x), Kind::Bool(y)) => Ok(if x == y { Some(Ordering::Equal) } else { None }),
        (Kind::Int(x), Kind::Int(y)) => Ok(Some(x.cmp(y))),
        (Kind::Float(x), Kind::Float(y)) => Ok(x.partial_cmp(y)),
        (Kind::Str(x), Kind::Str(y)) => Ok(Some(x.cmp(y))),
        _ => eval_err("incompatible types for comparison"),
    }
}

fn compare(left: &Value, right: &Value, op: &str) -> Result<bool, JsonPathError> {
    let (l, r) = (kind(left)?, kind(right)?);
    let ord = order(&l, &r)?;
    let is_bool = matches!(l, Kind::Bool(_));
    let less = || -> Result<bool, JsonPathError> {
        if is_bool {
            return eval_err("invalid type for comparison");
        }
        Ok(ord == Some(Ordering::Less))
    };
    let equal = ord == Some(Ordering::Equal);
    match op {
        "==" => Ok(equal),
        "!=" => Ok(!equal),
        "<" => less(),
        "<=" => Ok(less()? || equal),
        ">" => Ok(!(less()? || equal)),
        ">=" => Ok(!less()?),
        _ => eval_err(format!("unrecognized filter operator {op}")),
    }
}

/// Renders one result like client-go's `JSONPath.PrintResults`: maps and lists as
/// compact Go JSON, strings verbatim, numbers and bools with Go's `%v`, and a JSON
/// null as "<no value>".
pub fn print_value(v: &Value) -> String {
    match v {
        Value::Null => "<no value>".to_string(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => i.to_string(),
            (None, Some(u)) => go_float_v(u as f64),
            _ => go_float_v(n.as_f64().unwrap_or(0.0)),
        },
        Value::Array(_) | Value::Object(_) => {
            let mut out = String::new();
            go_json(v, &mut out);
            out
        }
    }
}

/// Shortest round-trip digits of `f.abs()` and the decimal exponent of the first digit.
fn shortest_digits(f: f64) -> (String, i32) {
    let sci = format!("{:e}", f.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    (mantissa.replace('.', ""), exp.parse().unwrap_or(0))
}

/// Fixed notation from digits `d1..dn` with the decimal point after `dp` digits.
fn fixed(digits: &str, dp: i32) -> String {
    let nd = i32::try_from(digits.len()).unwrap_or(i32::MAX);
    if dp <= 0 {
        format!("0.{}{digits}", "0".repeat(usize::try_from(-dp).unwrap_or(0)))
    } else if dp >= nd {
        format!("{digits}{}", "0".repeat(usize::try_from(dp - nd).unwrap_or(0)))
    } else {
        let (a, b) = digits.split_at(usize::try_from(dp).unwrap_or(0));
        format!("{a}.{b}")
    }
}

/// Exponent notation "d.ddde+XX" (at least two exponent digits, like Go).
fn exponent(digits: &str, exp: i32) -> String {
    let (first, rest) = digits.split_at(1.min(digits.len()));
    let mantissa = if rest.is_empty() { first.to_string() } else { format!("{first}.{rest}") };
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{mantissa}e{sign}{:02}", exp.unsigned_abs())
}

/// Go's `fmt.Sprint(float64)`: `%g` with the shortest digits, exponent form when
/// the exponent is < -4 or >= 6 (e.g. "1.5", "1e+06", "1e-05").
fn go_float_v(f: f64) -> String {
    if f == 0.0 {
        return if f.is_sign_negative() { "-0" } else { "0" }.to_string();
    }
    let (digits, exp) = shortest_digits(f);
    let body = if !(-4..6).contains(&exp) { exponent(&digits, exp) } else { fixed(&digits, exp + 1) };
    if f < 0.0 {
        format!("-{body}")
    } else {
        body
    }
}

/// Go's `encoding/json` float format: fixed unless |f| < 1e-6 or >= 1e21, with
/// "e-07" tidied to "e-7".
fn go_json_float(f: f64) -> String {
    if f == 0.0 {
        return if f.is_sign_negative() { "-0" } else { "0" }.to_string();
    }
    let abs = f.abs();
    let (digits, exp) = shortest_digits(f);
    let body = if !(1e-6..1e21).contains(&abs) {
        let e = exponent(&digits, exp);
        match e.split_once("e-0") {
            Some((m, d)) => format!("{m}e-{d}"),
            None => e,
        }
    } else {
        fixed(&digits, exp + 1)
    };
    if f < 0.0 {
        format!("-{body}")
    } else {
        body
    }
}

/// Go `json.Marshal` of decoded JSON: sorted keys, HTML-safe string escaping.
fn go_json(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => out.push_str(&i.to_string()),
            (None, Some(u)) => out.push_str(&go_json_float(u as f64)),
            _ => out.push_str(&go_json_float(n.as_f64().unwrap_or(0.0))),
        },
        Value::String(s) => go_json_string(s, out),
        Value::Array(a) => {
            out.push('[');
            for (i, item) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                go_json(item, out);
            }
            out.push(']');
        }
        Value::Object(m) => {
            let mut entries: Vec<(&String, &Value)> = m.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (k, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                go_json_string(k, out);
                out.push(':');
                go_json(item, out);
            }
            out.push('}');
        }
    }
}

fn go_json_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", u32::from(c)));
            }
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj() -> Value {
        json!({
            "metadata": {"name": "db", "labels": {"app": "web", "app.kubernetes.io/name": "web-ui"}},
            "spec": {
                "replicas": 3,
                "ratio": 0.5,
                "items": [{"name": "a", "size": 1}, {"name": "b", "size": 2}, {"name": "c", "size": 3}],
                "list": [{"name": "x"}, {"name": "y"}],
                "nothing": null,
                "flags": [{"name": "a", "on": false}, {"name": "b", "on": true}]
            },
            "status": {"conditions": [
                {"type": "Synced", "status": "True"},
                {"type": "Ready", "status": "False", "reason": "Waiting"}
            ]}
        })
    }

    fn first(path: &str) -> Option<Value> {
        eval(path, &obj()).unwrap().into_iter().next()
    }

    #[test]
    fn fields_and_missing_keys() {
        assert_eq!(first(".spec.replicas"), Some(json!(3)));
        assert_eq!(first(".metadata.labels.app"), Some(json!("web")));
        assert_eq!(first(".spec.missing.deeper"), None);
        assert_eq!(first(".metadata.labels.app\\.kubernetes\\.io/name"), Some(json!("web-ui")));
        assert_eq!(first(".spec.nothing"), Some(Value::Null));
        assert_eq!(first(".spec.items[0].name"), Some(json!("a")));
        assert_eq!(first(".spec.items[-1].name"), Some(json!("c")));
        assert_eq!(first("$.spec.replicas"), Some(json!(3)));
    }

    #[test]
    fn wildcards_slices_unions() {
        let names = |p: &str| eval(p, &obj()).unwrap();
        assert_eq!(names(".spec.list[*].name"), vec![json!("x"), json!("y")]);
        assert_eq!(names(".spec.items[1:].name"), vec![json!("b"), json!("c")]);
        assert_eq!(names(".spec.items[0:2].name"), vec![json!("a"), json!("b")]);
        assert_eq!(names(".spec.items[0,2].name"), vec![json!("a"), json!("c")]);
        assert_eq!(names(".spec['replicas']"), vec![json!(3)]);
        assert_eq!(
            names("..name"),
            vec![json!("db"), json!("a"), json!("b"), json!("c"), json!("x"), json!("y"), json!("a"), json!("b")]
        );
        assert_eq!(names(".spec.list.*.name"), vec![json!("x"), json!("y")]);
        assert_eq!(names(".metadata.labels.*"), vec![json!("web"), json!("web-ui")]);
        // client-go quirk: `[]` is `[0]`.
        assert_eq!(names(".spec.items[].name"), vec![json!("a")]);
        assert_eq!(names(".spec.items[0:3:2].name"), vec![json!("a"), json!("c")]);
        assert_eq!(names(".spec.items[1:1].name"), Vec::<Value>::new());
    }

    #[test]
    fn filters() {
        assert_eq!(first(".status.conditions[?(@.type==\"Ready\")].status"), Some(json!("False")));
        assert_eq!(first(".status.conditions[?(@.type=='Synced')].status"), Some(json!("True")));
        assert_eq!(first(".status.conditions[?(@.reason)].type"), Some(json!("Ready")));
        assert_eq!(first(".status.conditions[?(@.type!=\"Ready\")].type"), Some(json!("Synced")));
        assert_eq!(first(".spec.items[?(@.size>1)].name"), Some(json!("b")));
        assert_eq!(first(".spec.items[?(@.size<=1)].name"), Some(json!("a")));
        // Comparing a number with a string is an error in client-go.
        assert!(eval(".spec.items[?(@.size==\"1\")].name", &obj()).is_err());
        // Elements without the compared key are skipped.
        assert_eq!(first(".status.conditions[?(@.reason==\"Waiting\")].type"), Some(json!("Ready")));
        assert_eq!(first(".spec.flags[?(@.on==true)].name"), Some(json!("b")));
    }

    #[test]
    fn errors() {
        assert!(eval(".spec.items[5].name", &obj()).is_err());
        assert!(eval(".metadata[0]", &obj()).is_err());
        assert!(eval(".spec.items[2:1]", &obj()).is_err());
        assert!(eval(".spec.items[0:2:0]", &obj()).is_err());
        assert!(eval(".spec.items[-4]", &obj()).is_err());
        assert!(parse(".spec[").is_err());
        assert!(parse(".spec.items[?(@.a==\"b\"]").is_err());
        assert!(parse(".spec.{x}").is_err());
        assert!(parse(".spec..name..x").is_ok());
        assert!(parse("....x").is_err());
    }

    #[test]
    fn printing_like_go() {
        assert_eq!(print_value(&json!("x")), "x");
        assert_eq!(print_value(&json!(3)), "3");
        assert_eq!(print_value(&json!(0.5)), "0.5");
        assert_eq!(print_value(&json!(1000000.0)), "1e+06");
        assert_eq!(print_value(&json!(123456.0)), "123456");
        assert_eq!(print_value(&json!(0.00001)), "1e-05");
        assert_eq!(print_value(&json!(true)), "true");
        assert_eq!(print_value(&Value::Null), "<no value>");
        assert_eq!(print_value(&json!({"b": 1.5, "a": "<x>"})), r#"{"a":"\u003cx\u003e","b":1.5}"#);
        assert_eq!(print_value(&json!([1, 1e21, 0.0000001])), "[1,1e+21,1e-7]");
    }
}
