//! Kinds served at several versions over one storage version: conversion on the way into
//! and out of etcd (kube's versioning codec). Events and HorizontalPodAutoscalers need it;
//! every other built-in is the same shape at each version it is served at.

use serde_json::Value;

use super::{events, hpa};
use crate::registry::resources::ResourceDef;

/// Turns an object of `version` into the shape stored in etcd.
pub fn to_storage(def: &ResourceDef, version: &str, obj: &mut Value) {
    match (def.group.as_str(), def.resource.as_str(), version) {
        ("events.k8s.io", "events", _) => events::to_core(obj),
        ("autoscaling", "horizontalpodautoscalers", "v1") => hpa::v1_to_v2(obj),
        _ => {}
    }
}

/// Turns a stored object into the shape of `version`.
pub fn from_storage(def: &ResourceDef, version: &str, obj: &mut Value) {
    if let Some(convert) = from_storage_of(def, version) {
        convert(obj);
    }
}

/// The conversion of stored objects of `def` served in `version`, if they need one.
fn from_storage_of(def: &ResourceDef, version: &str) -> Option<fn(&mut Value)> {
    match (def.group.as_str(), def.resource.as_str(), version) {
        ("events.k8s.io", "events", _) => Some(events::from_core),
        ("autoscaling", "horizontalpodautoscalers", "v1") => Some(hpa::v2_to_v1),
        _ => None,
    }
}

/// Whether objects of `def` served in `version` are their stored text with nothing converted
/// (apiVersion and kind aside): what [`from_storage`] leaves alone.
pub fn stored_as_served(def: &ResourceDef, version: &str) -> bool {
    from_storage_of(def, version).is_none()
}

/// The apiVersion objects of a resource are stored with (events.k8s.io Events are core v1).
pub fn storage_api_version(def: &ResourceDef) -> String {
    if def.group == "events.k8s.io" && def.resource == "events" {
        return "v1".into();
    }
    def.api_version(def.storage_version())
}
