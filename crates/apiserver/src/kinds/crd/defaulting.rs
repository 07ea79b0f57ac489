//! Defaulting of custom resources from the `default`s of a CRD version's structural schema,
//! as kube-apiserver v1.32 does it (`apiserver/schema/defaulting/algorithm.go`).
//!
//! kube defaults every custom resource it decodes: request bodies (after pruning, before
//! admission and validation) and objects read from etcd (after pruning, with the defaults of
//! the storage version; these are not written back). The order is therefore
//! `pruning::prune`, then [`default`], then (on writes) `schema::validate`. Defaults are
//! applied after pruning, which is why a CRD's defaults must themselves be pruned.

use super::schema::{additional_properties, default_of, flag, items, properties};
use serde_json::Value;

/// Applies the schema's defaults to `obj` in place.
///
/// A missing property gets its default (deep-copied), then everything below is defaulted,
/// defaults included, so nested defaults inside a defaulted object apply too. A `null` gets
/// the default only where the schema is not nullable; a `default: null` is no default. Items
/// of arrays and values of `additionalProperties` maps are defaulted the same way.
pub fn default(schema: &Value, obj: &mut Value) {
    default_node(obj, Some(schema));
}

/// kube's `isNonNullableNull`.
fn non_nullable_null(x: &Value, s: Option<&Value>) -> bool {
    x.is_null() && s.is_some_and(|s| !flag(s, "nullable"))
}

fn default_node(x: &mut Value, s: Option<&Value>) {
    let Some(s) = s else {
        return;
    };
    match x {
        Value::Object(m) => {
            if let Some(props) = properties(s) {
                for (k, prop) in props {
                    let Some(d) = default_of(prop) else {
                        continue;
                    };
                    let missing_or_null = match m.get(k) {
                        None => true,
                        Some(v) => non_nullable_null(v, Some(prop)),
                    };
                    if missing_or_null {
                        m.insert(k.clone(), d.clone());
                    }
                }
            }
            for (k, v) in m.iter_mut() {
                if let Some(prop) = properties(s).and_then(|p| p.get(k)) {
                    default_node(v, Some(prop));
                } else if let Some(addl) = additional_properties(s) {
                    let a = addl.schema();
                    if non_nullable_null(v, a) {
                        *v = a.and_then(default_of).cloned().unwrap_or(Value::Null);
                    }
                    default_node(v, a);
                }
            }
        }
        Value::Array(list) => {
            let it = items(s);
            for v in list.iter_mut() {
                if non_nullable_null(v, it) {
                    *v = it.and_then(default_of).cloned().unwrap_or(Value::Null);
                }
                default_node(v, it);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::super::{pruning, schema};
    use super::*;
    use serde_json::json;

    fn defaulted(schema: Value, obj: Value) -> Value {
        let mut obj = obj;
        default(&schema, &mut obj);
        obj
    }

    // Ported from defaulting/algorithm_test.go.

    #[test]
    fn scalars_are_left_alone() {
        assert_eq!(defaulted(json!({"default": "foo"}), json!(4)), json!(4));
        assert_eq!(defaulted(json!({"items": {"default": "foo"}}), json!([1, 2])), json!([1, 2]));
        assert_eq!(defaulted(json!({}), json!(null)), json!(null));
    }

    #[test]
    fn object_array() {
        let schema =
            json!({"items": {"properties": {"a": {"default": "A"}, "b": {"default": "B"}, "c": {"default": "C"}}}});
        assert_eq!(
            defaulted(schema, json!([{"a": 1}, {"b": 1}, {"c": 1}])),
            json!([{"a": 1, "b": "B", "c": "C"}, {"a": "A", "b": 1, "c": "C"}, {"a": "A", "b": "B", "c": 1}])
        );
    }

    #[test]
    fn object_array_object() {
        let schema = json!({"properties": {
            "array": {"items": {"properties": {"a": {"default": "A"}, "b": {"default": "B"}}}},
            "object": {"properties": {"a": {"default": "N"}, "b": {"default": "O"}}},
            "additionalProperties": {"additionalProperties": {"properties": {"a": {"default": "alpha"}, "b": {"default": "beta"}}}},
            "foo": {"default": "bar"}
        }});
        let obj = json!({"array": [{"a": 1}, {"b": 2}], "object": {"a": 1}, "additionalProperties": {"x": {"a": 1}, "y": {"b": 2}}});
        assert_eq!(
            defaulted(schema, obj),
            json!({
                "array": [{"a": 1, "b": "B"}, {"a": "A", "b": 2}],
                "object": {"a": 1, "b": "O"},
                "additionalProperties": {"x": {"a": 1, "b": "beta"}, "y": {"a": "alpha", "b": 2}},
                "foo": "bar"
            })
        );
    }

    #[test]
    fn empty_and_null() {
        let schema = json!({"items": {"properties": {"a": {"default": "A"}}}});
        assert_eq!(
            defaulted(
                schema,
                json!([{}, {"a": 1}, {"a": 0}, {"a": 0.0}, {"a": ""}, {"a": null}, {"a": []}, {"a": {}}])
            ),
            json!([{"a": "A"}, {"a": 1}, {"a": 0}, {"a": 0.0}, {"a": ""}, {"a": "A"}, {"a": []}, {"a": {}}])
        );
    }

    #[test]
    fn nulls_and_nullable() {
        let nullable_list = json!({"nullable": true, "items": {"properties": {"a": {"default": "A"}}}});
        assert_eq!(defaulted(nullable_list, json!([null])), json!([null]));
        assert_eq!(defaulted(json!({"items": {"default": "A"}}), json!([null])), json!(["A"]));
        assert_eq!(
            defaulted(json!({"properties": {"a": {"nullable": true, "default": "A"}}}), json!({"a": null})),
            json!({"a": null})
        );
        assert_eq!(defaulted(json!({"properties": {"a": {"default": "A"}}}), json!({"a": null})), json!({"a": "A"}));
        assert_eq!(
            defaulted(json!({"additionalProperties": {"nullable": true, "default": "A"}}), json!({"a": null})),
            json!({"a": null})
        );
        assert_eq!(defaulted(json!({"additionalProperties": {"default": "A"}}), json!({"a": null})), json!({"a": "A"}));
        assert_eq!(defaulted(json!({"additionalProperties": true}), json!({"a": null})), json!({"a": null}));
        // a null default is no default
        assert_eq!(defaulted(json!({"properties": {"a": {"default": null}}}), json!({})), json!({}));
    }

    #[test]
    fn nested_defaults_apply_inside_defaulted_objects() {
        let schema = json!({"properties": {"spec": {
            "type": "object",
            "default": {},
            "properties": {"replicas": {"type": "integer", "default": 1}, "mode": {"type": "string", "default": "a"}}
        }}});
        assert_eq!(defaulted(schema, json!({})), json!({"spec": {"replicas": 1, "mode": "a"}}));
    }

    #[test]
    fn crontab_prune_default_validate() {
        let schema = json!({"type": "object", "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"type": "object"},
            "spec": {"type": "object", "properties": {
                "cronSpec": {"type": "string", "pattern": "^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$", "default": "* * * * *"},
                "replicas": {"type": "integer", "minimum": 1, "default": 1},
                "containers": {"type": "array", "items": {"type": "object", "required": ["name"], "properties": {
                    "name": {"type": "string"},
                    "image": {"type": "string", "default": "busybox"},
                    "ports": {"type": "array", "items": {"type": "object", "properties": {
                        "containerPort": {"type": "integer"},
                        "protocol": {"type": "string", "enum": ["TCP", "UDP"], "default": "TCP"}
                    }}}
                }}}
            }}
        }});
        let mut obj = json!({
            "apiVersion": "stable.example.com/v1", "kind": "CronTab", "metadata": {"name": "c", "foo": 1},
            "spec": {"replicas": null, "extra": true, "containers": [{"name": "a", "ports": [{"containerPort": 80, "x": 1}]}, {"image": "i"}]}
        });
        let unknown = pruning::prune(&schema, &mut obj);
        assert_eq!(unknown, vec!["spec.containers[0].ports[0].x", "spec.extra"]);
        default(&schema, &mut obj);
        assert_eq!(
            obj,
            json!({
                "apiVersion": "stable.example.com/v1", "kind": "CronTab", "metadata": {"name": "c", "foo": 1},
                "spec": {
                    "replicas": 1,
                    "containers": [
                        {"name": "a", "ports": [{"containerPort": 80, "protocol": "TCP"}], "image": "busybox"},
                        {"image": "i"}
                    ],
                    "cronSpec": "* * * * *"
                }
            })
        );
        let errs: Vec<String> = schema::validate(&schema, &obj).iter().map(|c| c.to_line()).collect();
        assert_eq!(errs, vec!["spec.containers[1].name: Required value"]);
    }
}
