//! Whole objects read and turned into JSON trees without copies. kube's `DynamicObject`
//! flattens its type fields and its data, so serde buffers every object as generic content and
//! then copies that content into the tree: a restart's lists spent more time there than in the
//! JSON itself. [`Lean`] reads the same object in one pass, without its managed fields (the
//! syncer never reads them), and [`into_value`] moves an object's data into a tree.

use std::borrow::Cow;
use std::fmt;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{ApiResource, DynamicObject};
use kube::core::{DynamicResourceScope, TypeMeta};
use kube::runtime::watcher::Event;
use kube::Resource;
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::{Map, Value};

/// A `DynamicObject` read in one pass; its managed fields are dropped.
#[derive(Debug, Clone)]
pub struct Lean(pub DynamicObject);

impl<'de> Deserialize<'de> for Lean {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(LeanVisitor)
    }
}

struct LeanVisitor;

impl<'de> Visitor<'de> for LeanVisitor {
    type Value = Lean;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a Kubernetes object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Lean, A::Error> {
        let (mut api_version, mut kind) = (None, None);
        let mut metadata = ObjectMeta::default();
        let mut data = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "apiVersion" => api_version = map.next_value::<Option<String>>()?,
                "kind" => kind = map.next_value::<Option<String>>()?,
                "metadata" => metadata = map.next_value::<Option<ObjectMeta>>()?.unwrap_or_default(),
                _ => {
                    let value = map.next_value::<Value>()?;
                    data.insert(key, value);
                }
            }
        }
        metadata.managed_fields = None;
        // As `DynamicObject` reads them: the type fields come as a pair or not at all.
        let types = match (api_version, kind) {
            (Some(api_version), Some(kind)) => Some(TypeMeta { api_version, kind }),
            (None, None) => None,
            (Some(_), None) => return Err(serde::de::Error::missing_field("kind")),
            (None, Some(_)) => return Err(serde::de::Error::missing_field("apiVersion")),
        };
        Ok(Lean(DynamicObject { types, metadata, data: Value::Object(data) }))
    }
}

impl Resource for Lean {
    type DynamicType = ApiResource;
    type Scope = DynamicResourceScope;

    fn kind(dt: &ApiResource) -> Cow<'_, str> {
        DynamicObject::kind(dt)
    }

    fn group(dt: &ApiResource) -> Cow<'_, str> {
        DynamicObject::group(dt)
    }

    fn version(dt: &ApiResource) -> Cow<'_, str> {
        DynamicObject::version(dt)
    }

    fn api_version(dt: &ApiResource) -> Cow<'_, str> {
        DynamicObject::api_version(dt)
    }

    fn plural(dt: &ApiResource) -> Cow<'_, str> {
        DynamicObject::plural(dt)
    }

    fn meta(&self) -> &ObjectMeta {
        &self.0.metadata
    }

    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.0.metadata
    }
}

/// A watch event with its object(s) turned by `f`.
pub fn map_event<K, T>(event: Event<K>, f: impl Fn(K) -> T) -> Event<T> {
    match event {
        Event::Apply(o) => Event::Apply(f(o)),
        Event::Delete(o) => Event::Delete(f(o)),
        Event::InitApply(o) => Event::InitApply(f(o)),
        Event::Init => Event::Init,
        Event::InitDone => Event::InitDone,
    }
}

/// The JSON tree of `object`, as `serde_json::to_value` makes it, with its data moved rather
/// than written out and read back.
pub fn into_value(object: DynamicObject) -> Value {
    let mut tree = match object.data {
        Value::Object(data) => data,
        _ => Map::new(),
    };
    let mut head = Map::with_capacity(tree.len() + 3);
    if let Some(types) = object.types {
        head.insert("apiVersion".into(), Value::String(types.api_version));
        head.insert("kind".into(), Value::String(types.kind));
    }
    head.insert("metadata".into(), serde_json::to_value(&object.metadata).unwrap_or_default());
    head.append(&mut tree);
    Value::Object(head)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod() -> Value {
        json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": "web", "namespace": "prod", "uid": "u-1", "resourceVersion": "7",
                "labels": {"app": "web"},
                "managedFields": [{"manager": "kubectl", "operation": "Update", "fieldsType": "FieldsV1",
                                   "fieldsV1": {"f:spec": {}}}],
            },
            "spec": {"containers": [{"name": "c", "image": "nginx", "ports": [{"containerPort": 80}]}]},
            "status": {"phase": "Running", "podIP": "10.0.0.1"},
        })
    }

    #[test]
    fn reads_as_dynamic_object_reads_without_managed_fields() {
        let text = pod().to_string();
        let lean: Lean = serde_json::from_str(&text).unwrap();
        let mut dynamic: DynamicObject = serde_json::from_str(&text).unwrap();
        assert!(dynamic.metadata.managed_fields.is_some());
        dynamic.metadata.managed_fields = None;
        assert_eq!(lean.0, dynamic);

        // No type fields, and only metadata.
        let bare: Lean = serde_json::from_str(r#"{"metadata":{"name":"x"}}"#).unwrap();
        assert_eq!(bare.0, serde_json::from_str::<DynamicObject>(r#"{"metadata":{"name":"x"}}"#).unwrap());
        assert!(serde_json::from_str::<Lean>(r#"{"kind":"Pod","metadata":{}}"#).is_err());
        assert!(serde_json::from_str::<Lean>("[1]").is_err());
    }

    #[test]
    fn into_value_equals_to_value() {
        let object: DynamicObject = serde_json::from_value(pod()).unwrap();
        assert_eq!(into_value(object.clone()), serde_json::to_value(&object).unwrap());
        let untyped = DynamicObject { types: None, ..object };
        assert_eq!(into_value(untyped.clone()), serde_json::to_value(&untyped).unwrap());
    }
}
