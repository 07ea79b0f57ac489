//! The two generic Table printers: kube's `rest.DefaultTableConvertor` (Name,
//! Created At) for built-in resources without a printer, and the apiextensions
//! table convertor that prints custom resources from their CRD version's
//! `additionalPrinterColumns`.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use super::jsonpath::{self, JsonPath};
use super::printers::helpers::{name, opt_str, parse_time};
use super::printers::{col, duration, Column, Printer, CREATION_DESC, NAME_COLUMN};

/// A column definition with owned strings (CRD columns are only known at runtime).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OwnedColumn {
    /// Human-readable header.
    pub name: String,
    /// OpenAPI type: "string", "integer", "number", "boolean" or "date".
    #[serde(rename = "type")]
    pub type_: String,
    /// OpenAPI format hint.
    pub format: String,
    /// Column description.
    pub description: String,
    /// 0 for the default view, above 0 for `-o wide`.
    pub priority: i32,
    /// For CRD columns, the `jsonPath` the cells come from; "" for the Name column
    /// and for built-in columns. Not part of the served column definition.
    #[serde(skip)]
    pub json_path: String,
}

impl OwnedColumn {
    /// The `meta.k8s.io/v1` `TableColumnDefinition` JSON.
    pub fn to_json(&self) -> Value {
        serde_json::json!({
            "name": self.name,
            "type": self.type_,
            "format": self.format,
            "description": self.description,
            "priority": self.priority,
        })
    }
}

impl From<&Column> for OwnedColumn {
    fn from(c: &Column) -> Self {
        OwnedColumn {
            name: c.name.to_string(),
            type_: c.type_.to_string(),
            format: c.format.to_string(),
            description: c.description.to_string(),
            priority: c.priority,
            json_path: String::new(),
        }
    }
}

/// `rest.DefaultTableConvertor` columns: Name and Created At (a "date" column;
/// kubectl renders it as an age).
pub const DEFAULT_COLUMNS: &[Column] = &[NAME_COLUMN, col("Created At", "date", CREATION_DESC, 0)];

/// [`DEFAULT_COLUMNS`] as owned columns.
pub fn default_columns() -> Vec<OwnedColumn> {
    DEFAULT_COLUMNS.iter().map(OwnedColumn::from).collect()
}

/// The default printer, for resources [`super::printers::printer`] knows nothing about.
pub static DEFAULT_PRINTER: Printer = Printer { columns: DEFAULT_COLUMNS, row: default_row_at };

/// Go's zero `metav1.Time` formatted as RFC3339, which kube prints for objects
/// without a creation timestamp.
const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// Default row: the name and `creationTimestamp` as UTC RFC3339 with whole seconds.
pub fn default_row(obj: &Value) -> Vec<Value> {
    let created = opt_str(obj, &["metadata", "creationTimestamp"])
        .and_then(parse_time)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|| ZERO_TIME.to_string());
    vec![Value::String(name(obj).to_string()), Value::String(created)]
}

fn default_row_at(obj: &Value, _now: DateTime<Utc>) -> Vec<Value> {
    default_row(obj)
}

/// A compiled CRD table printer for one served version.
#[derive(Debug, Clone)]
pub struct CrdPrinter {
    columns: Vec<OwnedColumn>,
    /// One parsed path per column after Name.
    paths: Vec<JsonPath>,
}

impl CrdPrinter {
    /// Builds the printer from a CRD version's `additionalPrinterColumns`.
    ///
    /// No columns means apiextensions' default single "Age" date column. Like kube,
    /// a column whose `jsonPath` does not parse ends the list: it and the columns
    /// after it are dropped (CRD validation normally rejects such paths).
    pub fn new(printer_columns: &Value) -> Self {
        let defs: Vec<Value> = match printer_columns.as_array() {
            Some(cols) if !cols.is_empty() => cols.clone(),
            _ => vec![serde_json::json!({
                "name": "Age",
                "type": "date",
                "description": CREATION_DESC,
                "jsonPath": ".metadata.creationTimestamp"
            })],
        };
        let mut columns = vec![OwnedColumn::from(&NAME_COLUMN)];
        let mut paths = Vec::new();
        for def in &defs {
            let path = opt_str(def, &["jsonPath"]).unwrap_or("");
            let Ok(parsed) = jsonpath::parse(path) else {
                break;
            };
            let description = match opt_str(def, &["description"]) {
                Some(d) if !d.is_empty() => d.to_string(),
                _ => format!("Custom resource definition column (in JSONPath format): {path}"),
            };
            columns.push(OwnedColumn {
                json_path: path.to_string(),
                name: opt_str(def, &["name"]).unwrap_or("").to_string(),
                type_: opt_str(def, &["type"]).unwrap_or("").to_string(),
                format: opt_str(def, &["format"]).unwrap_or("").to_string(),
                description,
                priority: def.get("priority").and_then(Value::as_i64).and_then(|p| i32::try_from(p).ok()).unwrap_or(0),
            });
            paths.push(parsed);
        }
        CrdPrinter { columns, paths }
    }

    /// The column definitions, starting with Name.
    pub fn columns(&self) -> &[OwnedColumn] {
        &self.columns
    }

    /// The cells of one custom resource: its name, then one cell per column. A path
    /// that finds nothing, fails, or finds a value of the wrong type gives `null`.
    pub fn row(&self, obj: &Value, now: DateTime<Utc>) -> Vec<Value> {
        let mut cells = vec![Value::String(name(obj).to_string())];
        for (column, path) in self.columns.iter().skip(1).zip(&self.paths) {
            let first = path.find(obj).ok().and_then(|r| r.into_iter().next());
            let cell = match first {
                None => Value::Null,
                Some(v) => cell_for(&column.type_, &v, now),
            };
            cells.push(cell);
        }
        cells
    }
}

/// The apiextensions convertor's cell rules: "string" columns print any value
/// the way client-go's JSONPath prints it; other types keep matching JSON types
/// (integer truncates floats, number widens ints) and turn anything else into
/// `null`; "date" columns become a human age like other AGE cells.
fn cell_for(type_: &str, v: &Value, now: DateTime<Utc>) -> Value {
    if type_ == "string" {
        return Value::String(jsonpath::print_value(v));
    }
    if v.is_null() {
        return Value::Null;
    }
    match type_ {
        "integer" => match v {
            Value::Number(n) => match (n.as_i64(), n.as_f64()) {
                (Some(i), _) => Value::from(i),
                // Go's int64(float64) truncates toward zero.
                (None, Some(f)) => Value::from(f.trunc() as i64),
                _ => Value::Null,
            },
            _ => Value::Null,
        },
        "number" => match v.as_f64() {
            // Go marshals float64(3) as `3`; keep whole numbers integral on the wire.
            Some(f) if v.is_number() && f.fract() == 0.0 && f.abs() < 9.0e15 => Value::from(f as i64),
            Some(f) if v.is_number() => Value::from(f),
            _ => Value::Null,
        },
        "boolean" => match v {
            Value::Bool(b) => Value::Bool(*b),
            _ => Value::Null,
        },
        "date" => match v {
            // metav1.Time.UnmarshalQueryParameter: "" and "null" are the zero time.
            Value::String(s) if s.is_empty() || s == "null" => Value::String("<unknown>".to_string()),
            Value::String(s) => match DateTime::parse_from_rfc3339(s) {
                Ok(_) => Value::String(duration::since(parse_time(s), now)),
                Err(_) => Value::String("<invalid>".to_string()),
            },
            _ => Value::Null,
        },
        _ => Value::Null,
    }
}

/// The Table columns for a CRD version's `additionalPrinterColumns` (see
/// [`CrdPrinter::new`]): Name first, then one column per printer column, each
/// remembering its `jsonPath` for [`crd_row`]. Pass `Value::Null` for a version
/// without printer columns to get kube's default Name + Age.
pub fn crd_columns(printer_columns: &Value) -> Vec<OwnedColumn> {
    CrdPrinter::new(printer_columns).columns
}

/// The cells for one custom resource, for `columns` as [`crd_columns`] built them
/// (the first column is the object name; the others come from their `jsonPath`).
pub fn crd_row(columns: &[OwnedColumn], obj: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let mut cells = Vec::with_capacity(columns.len());
    for (i, column) in columns.iter().enumerate() {
        if i == 0 {
            cells.push(Value::String(name(obj).to_string()));
            continue;
        }
        let first = jsonpath::eval(&column.json_path, obj).ok().and_then(|r| r.into_iter().next());
        cells.push(match first {
            None => Value::Null,
            Some(v) => cell_for(&column.type_, &v, now),
        });
    }
    cells
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    // rest.DefaultTableConvertor: Name and UTC RFC3339 creation time (table.go).
    #[test]
    fn default_table() {
        let cm = json!({"metadata": {"name": "admin", "creationTimestamp": "2024-03-01T10:20:30Z"}});
        assert_eq!(default_row(&cm), vec![json!("admin"), json!("2024-03-01T10:20:30Z")]);
        let offset = json!({"metadata": {"name": "x", "creationTimestamp": "2024-03-01T12:20:30.5+02:00"}});
        assert_eq!(default_row(&offset)[1], json!("2024-03-01T10:20:30Z"));
        assert_eq!(default_row(&json!({}))[1], json!("0001-01-01T00:00:00Z"));
        assert_eq!(DEFAULT_COLUMNS[1].type_, "date");
        assert_eq!(DEFAULT_COLUMNS[0].format, "name");
        assert_eq!((DEFAULT_PRINTER.row)(&cm, Utc::now()).len(), 2);
    }

    // The shapes crate::http::table uses: crd_columns(&Value) -> columns with
    // to_json(), crd_row(&columns, obj, now), default_columns(), default_row(obj).
    #[test]
    fn http_table_call_sites() {
        let now = Utc::now();
        let printer_columns: Option<Value> = Some(crontab_columns());
        let items: &[Value] = &[json!({"metadata": {"name": "a"}, "spec": {"replicas": 1}})];
        if let Some(cols) = printer_columns.as_ref() {
            let columns = crd_columns(cols);
            let defs: Vec<Value> = columns.iter().map(|c| c.to_json()).collect();
            let rows: Vec<Vec<Value>> = items.iter().map(|o| crd_row(&columns, o, now)).collect();
            assert_eq!(
                defs[0],
                json!({"name": "Name", "type": "string", "format": "name", "description": NAME_COLUMN.description, "priority": 0})
            );
            assert!(defs[1].get("jsonPath").is_none());
            assert_eq!(rows[0].len(), defs.len());
            assert_eq!(rows[0][2], json!(1));
        }
        let columns = default_columns();
        let defs: Vec<Value> = columns.iter().map(|c| c.to_json()).collect();
        assert_eq!(defs[1]["name"], "Created At");
        assert_eq!(defs[1]["type"], "date");
        let rows: Vec<Vec<Value>> = items.iter().map(default_row).collect();
        assert_eq!(rows[0], vec![json!("a"), json!("0001-01-01T00:00:00Z")]);
    }

    fn crontab_columns() -> Value {
        json!([
            {"name": "Spec", "type": "string", "jsonPath": ".spec.cronSpec"},
            {"name": "Replicas", "type": "integer", "jsonPath": ".spec.replicas"},
            {"name": "Ready", "type": "string", "jsonPath": ".status.conditions[?(@.type==\"Ready\")].status", "description": "Readiness"},
            {"name": "Ratio", "type": "number", "jsonPath": ".spec.ratio", "priority": 1},
            {"name": "Paused", "type": "boolean", "jsonPath": ".spec.paused"},
            {"name": "First", "type": "string", "jsonPath": ".spec.items[0].name"},
            {"name": "Any", "type": "string", "jsonPath": ".spec.list[*].name"},
            {"name": "Selector", "type": "string", "jsonPath": ".spec.selector"},
            {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}
        ])
    }

    // Column rules from apiextensions tableconvertor.go New(): Name first, then each
    // printer column with its description or the generated JSONPath one.
    #[test]
    fn crd_column_definitions() {
        let cols = crd_columns(&crontab_columns());
        assert_eq!(cols.len(), 10);
        assert_eq!(cols[0].name, "Name");
        assert_eq!(cols[0].format, "name");
        assert_eq!(cols[1].description, "Custom resource definition column (in JSONPath format): .spec.cronSpec");
        assert_eq!(cols[3].description, "Readiness");
        assert_eq!(cols[4].priority, 1);
        assert_eq!(cols[9].type_, "date");

        // serveDefaultColumnsIfEmpty: no printer columns means a single Age column.
        let default = crd_columns(&Value::Null);
        assert_eq!(default.len(), 2);
        assert_eq!(default[1].name, "Age");
        assert_eq!(default[1].type_, "date");
        assert_eq!(default[1].description, CREATION_DESC);
        assert_eq!(crd_columns(&json!([])).len(), 2);

        // A path that does not parse ends the column list.
        let broken = json!([
            {"name": "A", "type": "string", "jsonPath": ".a"},
            {"name": "B", "type": "string", "jsonPath": ".b["},
            {"name": "C", "type": "string", "jsonPath": ".c"}
        ]);
        assert_eq!(crd_columns(&broken).len(), 2);
    }

    // Cell rules from tableconvertor.go ConvertToTable / cellForJSONValue.
    #[test]
    fn crd_cells() {
        let now = Utc::now();
        let created = (now - chrono::TimeDelta::seconds(182)).to_rfc3339();
        let ct = json!({
            "apiVersion": "stable.example.com/v1",
            "kind": "CronTab",
            "metadata": {"name": "my-new-cron-object", "creationTimestamp": created},
            "spec": {
                "cronSpec": "* * * * */5",
                "replicas": 2.7,
                "ratio": 3,
                "paused": "no",
                "items": [{"name": "first"}, {"name": "second"}],
                "list": [{"name": "x"}, {"name": "y"}],
                "selector": {"matchLabels": {"app": "cron"}}
            },
            "status": {"conditions": [{"type": "Synced", "status": "True"}, {"type": "Ready", "status": "False"}]}
        });
        let cols = crd_columns(&crontab_columns());
        assert_eq!(crd_row(&cols, &ct, now), CrdPrinter::new(&crontab_columns()).row(&ct, now));
        assert_eq!(
            crd_row(&cols, &ct, now),
            vec![
                json!("my-new-cron-object"),
                json!("* * * * */5"),
                json!(2),
                json!("False"),
                json!(3),
                Value::Null,
                json!("first"),
                json!("x"),
                json!(r#"{"matchLabels":{"app":"cron"}}"#),
                json!("3m2s"),
            ]
        );
    }

    #[test]
    fn crd_cells_missing_and_odd_values() {
        let now = Utc::now();
        let cols = json!([
            {"name": "Replicas", "type": "integer", "jsonPath": ".spec.replicas"},
            {"name": "Phase", "type": "string", "jsonPath": ".status.phase"},
            {"name": "Null", "type": "string", "jsonPath": ".spec.nothing"},
            {"name": "Count", "type": "string", "jsonPath": ".spec.count"},
            {"name": "When", "type": "date", "jsonPath": ".status.when"},
            {"name": "Empty", "type": "date", "jsonPath": ".status.empty"},
            {"name": "Out", "type": "string", "jsonPath": ".spec.items[3].name"}
        ]);
        let obj = json!({
            "metadata": {"name": "w"},
            "spec": {"replicas": "three", "nothing": null, "count": 7, "items": []},
            "status": {"when": "yesterday", "empty": ""}
        });
        assert_eq!(
            crd_row(&crd_columns(&cols), &obj, now),
            vec![
                json!("w"),
                Value::Null,
                Value::Null,
                json!("<no value>"),
                json!("7"),
                json!("<invalid>"),
                json!("<unknown>"),
                Value::Null
            ]
        );
        // The default Age column renders like kubectl's AGE.
        let aged =
            json!({"metadata": {"name": "a", "creationTimestamp": (now - chrono::TimeDelta::days(3)).to_rfc3339()}});
        assert_eq!(crd_row(&crd_columns(&Value::Null), &aged, now), vec![json!("a"), json!("3d")]);
    }
}
