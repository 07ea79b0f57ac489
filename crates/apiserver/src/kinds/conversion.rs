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
    match (def.group.as_str(), def.resource.as_str(), version) {
        ("events.k8s.io", "events", _) => events::from_core(obj),
        ("autoscaling", "horizontalpodautoscalers", "v1") => hpa::v2_to_v1(obj),
        _ => {}
    }
}

/// The apiVersion objects of a resource are stored with (events.k8s.io Events are core v1).
pub fn storage_api_version(def: &ResourceDef) -> String {
    if def.group == "events.k8s.io" && def.resource == "events" {
        return "v1".into();
    }
    def.api_version(def.storage_version())
}
