//! Level-triggered sync of one object: read the tenant's and the super cluster's copy, then
//! write what differs. Spec and metadata flow down, status (and pod bindings) flow up.

use anyhow::{Context, Result};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use kube::api::{Api, DeleteParams, DynamicObject, PostParams, Preconditions};
use kube::ResourceExt;
use nestor_api::{naming, Marks};
use serde_json::{json, Value};
use tracing::{debug, info, warn};

use crate::convert::{self, Downward, Kind};
use crate::lean::into_value;
use crate::resources::Synced;
use crate::tenant::{Side, Tenant};
use crate::{Item, Shared};

/// Where a tenant object goes in the super cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub namespace: Option<String>,
    pub name: String,
}

impl Target {
    /// The super namespace and name of tenant object `namespace`/`name`; `None` when the name
    /// is one the naming module refuses (it would collide with a renamed system object).
    pub fn of(tenant: &Tenant, synced: &Synced, namespace: &str, name: &str) -> Option<Target> {
        if synced.kind == Kind::Namespace {
            return Some(Target { namespace: None, name: naming::super_namespace(&tenant.key, name) });
        }
        if !synced.namespaced {
            return Some(Target { namespace: None, name: naming::super_cluster_scoped_name(&tenant.key, name) });
        }
        Some(Target {
            namespace: Some(naming::super_namespace(&tenant.key, namespace)),
            name: naming::super_object_name(&synced.resource.kind, name)?,
        })
    }
}

/// The API of a synced kind in one cluster, in one namespace or cluster-wide.
pub fn api(client: &kube::Client, synced: &Synced, namespace: Option<&str>) -> Api<DynamicObject> {
    match namespace {
        Some(ns) if synced.namespaced => Api::namespaced_with(client.clone(), ns, &synced.resource),
        _ => Api::all_with(client.clone(), &synced.resource),
    }
}

/// The super object a tenant object asks for.
pub fn desired(tenant: &Tenant, synced: &Synced, target: &Target, object: &Value) -> Value {
    let meta: ObjectMeta = serde_json::from_value(object["metadata"].clone()).unwrap_or_default();
    let owners: Vec<OwnerReference> = meta.owner_references.clone().unwrap_or_default();
    let marks = tenant.marks(
        meta.namespace.as_deref().unwrap_or_default(),
        meta.name.as_deref().unwrap_or_default(),
        meta.uid.as_deref().unwrap_or_default(),
    );
    let mut marked = ObjectMeta::default();
    marks.write(&mut marked, &owners);
    let rename = |kind: &str, name: &str| naming::super_object_name(kind, name);
    let ctx = Downward {
        name: &target.name,
        namespace: target.namespace.as_deref(),
        labels: &marked.labels.unwrap_or_default(),
        annotations: &marked.annotations.unwrap_or_default(),
        apiserver: tenant.endpoint.as_ref().map(|e| (e.host.as_str(), e.port)),
        rename: &rename,
        token_secret: None,
    };
    convert::desired(synced.kind, object, &ctx)
}

fn to_value(object: &DynamicObject) -> Value {
    serde_json::to_value(object).unwrap_or(Value::Null)
}

fn from_value(value: Value) -> Result<DynamicObject> {
    serde_json::from_value(value).context("building an object")
}

/// A 404 answer.
pub fn not_found(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 404)
}

/// A 409 answer: a lost write race or an object that exists already.
pub fn conflict(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 409)
}

fn precondition(uid: Option<String>) -> DeleteParams {
    DeleteParams { preconditions: Some(Preconditions { uid, resource_version: None }), ..Default::default() }
}

/// Brings tenant object `namespace`/`name` of kind `resource` and its super copy in line.
pub async fn object(shared: &Shared, tenant: &Tenant, resource: &str, namespace: &str, name: &str) -> Result<()> {
    let Some(synced) = tenant.synced(resource) else { return Ok(()) };
    let Some(target) = Target::of(tenant, synced, namespace, name) else {
        debug!(resource, namespace, name, "not synced: the name is reserved for a renamed system object");
        return Ok(());
    };
    let tenant_api = api(&tenant.client, synced, Some(namespace));
    let super_api = api(&shared.super_client, synced, target.namespace.as_deref());
    let item =
        Item::Object { resource: resource.to_string(), namespace: namespace.to_string(), name: name.to_string() };
    // What the watches last brought, else a read.
    let tenant_obj = match shared.objects.take(&tenant.key, Side::Tenant, &item) {
        Some(watched) => watched,
        None => tenant_api.get_opt(name).await.context("reading the tenant object")?,
    };
    let tenant_obj = match tenant_obj {
        Some(obj) if !wanted(tenant, synced, &obj).await? => None,
        other => other,
    };
    let super_obj = match shared.objects.take(&tenant.key, Side::Super, &item) {
        Some(watched) => watched,
        None => super_api.get_opt(&target.name).await.context("reading the super object")?,
    };
    let super_marks = super_obj.as_ref().map(|s| Marks::read(&s.metadata));
    if let Some(marks) = &super_marks {
        if !marks.as_ref().is_some_and(|m| tenant.owns(m)) {
            // Someone else's object (another tenant's, the platform's, or forged marks):
            // never written, never deleted.
            warn!(resource, namespace = ?target.namespace, name = %target.name, "super object exists and is not this tenant's; leaving it");
            shared.metrics.conflict(&tenant.key);
            return Ok(());
        }
    }
    let (tenant_obj, super_obj) = match (tenant_obj, super_obj) {
        (None, None) => return Ok(()),
        (None, Some(s)) => return delete_super(&super_api, &s, None).await,
        (Some(t), s) => (t, s),
    };
    let tenant_uid = tenant_obj.uid().unwrap_or_default();
    if let (Some(s), Some(Some(marks))) = (&super_obj, &super_marks) {
        if marks.uid != tenant_uid {
            // A copy of an older tenant object of the same name: it goes, the new one comes.
            info!(resource, name = %target.name, "replacing the copy of a deleted tenant object");
            delete_super(&super_api, s, Some(0)).await?;
            anyhow::bail!("waiting for the old super copy to go");
        }
    }
    if tenant_obj.metadata.deletion_timestamp.is_some() && synced.kind == Kind::Pod {
        return delete_pod(&tenant_api, &super_api, &tenant_obj, super_obj.as_ref()).await;
    }
    if tenant_obj.metadata.deletion_timestamp.is_some() && synced.kind == Kind::Namespace {
        return match super_obj {
            Some(s) => delete_super(&super_api, &s, None).await,
            None => Ok(()),
        };
    }
    let tenant_value = to_value(&tenant_obj);
    let want = desired(tenant, synced, &target, &tenant_value);
    let Some(super_obj) = super_obj else {
        if synced.kind == Kind::Pod && is_terminal(&tenant_value) {
            // A finished pod is not started again.
            return Ok(());
        }
        if synced.kind == Kind::Pod && !shared.pacing.admit(&tenant.key, &item) {
            debug!(namespace, name, "held back: the tenant's pods waiting for the scheduler are at the limit");
            return Ok(());
        }
        return create(shared, tenant, synced, &target, want, item).await;
    };
    let actual = into_value(super_obj);
    let super_value = match convert::changes(synced.kind, &actual, &want) {
        Some(merged) => {
            debug!(resource, name = %target.name, "updating super object");
            let updated = super_api.replace(&target.name, &PostParams::default(), &from_value(merged)?).await?;
            tenant.expect_echo(Side::Super, item.clone(), updated.resource_version());
            into_value(updated)
        }
        None => actual,
    };
    let latest = if synced.status_up {
        status_up(tenant, synced, &tenant_api, (&tenant_obj, &tenant_value), &super_value, item.clone()).await?
    } else {
        None
    };
    // The next sync of this object (a super event, mostly) starts from what is known of the
    // tenant's copy instead of reading it again.
    shared.objects.put_back(&tenant.key, Side::Tenant, &item, Some(latest.unwrap_or(tenant_obj)));
    Ok(())
}

/// Whether a tenant object of a synced kind goes down at all. Not: the tenant's own
/// `default/kubernetes` Service and Endpoints (they describe the tenant API server, which pods
/// reach through their rewritten environment), and Endpoints of Services with a selector (the
/// super cluster's endpoints controller keeps those, from the super pods).
pub async fn wanted(tenant: &Tenant, synced: &Synced, object: &DynamicObject) -> Result<bool> {
    let namespace = object.namespace().unwrap_or_default();
    let name = object.name_any();
    if matches!(synced.kind, Kind::Service | Kind::Endpoints) && namespace == "default" && name == "kubernetes" {
        return Ok(false);
    }
    if synced.kind != Kind::Endpoints {
        return Ok(true);
    }
    let services: Api<k8s_openapi::api::core::v1::Service> = Api::namespaced(tenant.client.clone(), &namespace);
    let selector = services.get_opt(&name).await?.and_then(|s| s.spec?.selector).unwrap_or_default();
    Ok(selector.is_empty())
}

fn is_terminal(pod: &Value) -> bool {
    matches!(pod["status"]["phase"].as_str(), Some("Succeeded" | "Failed"))
}

async fn create(
    shared: &Shared,
    tenant: &Tenant,
    synced: &Synced,
    target: &Target,
    mut want: Value,
    item: Item,
) -> Result<()> {
    if let Some(spec) = want.get_mut("spec").and_then(Value::as_object_mut) {
        // kube refuses ephemeral containers in a new pod (they go through their own
        // subresource); a debugged tenant pod is recreated without them.
        spec.remove("ephemeralContainers");
    }
    let super_api = api(&shared.super_client, synced, target.namespace.as_deref());
    let object = from_value(want)?;
    let created = match super_api.create(&PostParams::default(), &object).await {
        Ok(created) => created,
        Err(e) if not_found(&e) && synced.namespaced => {
            // The super namespace is not there yet: make it now rather than wait for its turn.
            let tenant_ns = object.annotations().get(nestor_api::keys::TENANT_NAMESPACE).cloned().unwrap_or_default();
            ensure_namespace(shared, tenant, &tenant_ns).await?;
            super_api.create(&PostParams::default(), &object).await?
        }
        Err(e) if conflict(&e) => anyhow::bail!("super object appeared meanwhile; syncing again"),
        Err(e) => return Err(e.into()),
    };
    tenant.expect_echo(Side::Super, item, created.resource_version());
    Ok(())
}

async fn ensure_namespace(shared: &Shared, tenant: &Tenant, namespace: &str) -> Result<()> {
    let Some(synced) = tenant.synced("namespaces") else { return Ok(()) };
    let tenant_ns = api(&tenant.client, synced, None).get(namespace).await.context("reading the tenant namespace")?;
    let target = Target::of(tenant, synced, "", namespace).context("namespace target")?;
    let want = desired(tenant, synced, &target, &to_value(&tenant_ns));
    match api(&shared.super_client, synced, None).create(&PostParams::default(), &from_value(want)?).await {
        Ok(_) => Ok(()),
        Err(e) if conflict(&e) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

async fn delete_super(super_api: &Api<DynamicObject>, object: &DynamicObject, grace: Option<u32>) -> Result<()> {
    if object.metadata.deletion_timestamp.is_some() {
        return Ok(());
    }
    let mut params = precondition(object.uid());
    params.grace_period_seconds = grace;
    match super_api.delete(&object.name_any(), &params).await {
        Ok(_) => Ok(()),
        Err(e) if not_found(&e) || conflict(&e) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// A tenant pod being deleted: its super copy is deleted with the same grace period, and once
/// that is gone the tenant pod is deleted for good. The tenant has no kubelet: the syncer
/// finishes graceful deletion in its place.
async fn delete_pod(
    tenant_api: &Api<DynamicObject>,
    super_api: &Api<DynamicObject>,
    tenant_pod: &DynamicObject,
    super_pod: Option<&DynamicObject>,
) -> Result<()> {
    if let Some(super_pod) = super_pod {
        let grace = tenant_pod.metadata.deletion_grace_period_seconds.and_then(|g| u32::try_from(g).ok());
        return delete_super(super_api, super_pod, grace).await;
    }
    let mut params = precondition(tenant_pod.uid());
    params.grace_period_seconds = Some(0);
    match tenant_api.delete(&tenant_pod.name_any(), &params).await {
        Ok(_) => Ok(()),
        Err(e) if not_found(&e) || conflict(&e) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Status (and, for pods, the node binding) from the super object to the tenant's. The status
/// goes as a merge patch of what changed, so the binding needs no re-read: nothing else writes a
/// tenant pod's status (the tenant has no kubelet).
/// The tenant object comes as read and as JSON, the super object as JSON: each is converted
/// once per sync. Answers the tenant object as written, if it was.
async fn status_up(
    tenant: &Tenant,
    synced: &Synced,
    tenant_api: &Api<DynamicObject>,
    (tenant_obj, tenant_value): (&DynamicObject, &Value),
    super_value: &Value,
    item: Item,
) -> Result<Option<DynamicObject>> {
    let name = tenant_obj.name_any();
    if synced.kind == Kind::Pod {
        let node = super_value["spec"]["nodeName"].as_str().unwrap_or_default();
        let tenant_node = tenant_value["spec"]["nodeName"].as_str().unwrap_or_default();
        if !node.is_empty() && tenant_node.is_empty() {
            let binding = json!({
                "apiVersion": "v1", "kind": "Binding",
                "metadata": {"name": name, "namespace": tenant_obj.namespace(), "uid": tenant_obj.uid()},
                "target": {"apiVersion": "v1", "kind": "Node", "name": node},
            });
            match tenant_api.create_subresource::<_, Value>("binding", &name, &PostParams::default(), &binding).await {
                Ok(_) => {}
                Err(e) if conflict(&e) => {}
                Err(e) => return Err(e).context("binding the tenant pod"),
            }
        }
    }
    if let Some(status) = convert::status_up(synced.kind, super_value, tenant_value) {
        let patch = json!({ "status": merge_diff(&tenant_value["status"], &status) });
        let written = tenant_api
            .patch_status(&name, &kube::api::PatchParams::default(), &kube::api::Patch::Merge(&patch))
            .await?;
        tenant.expect_echo(Side::Tenant, item, written.resource_version());
        return Ok(Some(crate::tenant::lean(written)));
    }
    Ok(None)
}

/// The JSON merge patch (RFC 7386) that turns `old` into `new`: changed keys, and nulls for
/// keys that went away. Lists are replaced whole, as merge patches do.
fn merge_diff(old: &Value, new: &Value) -> Value {
    match (old, new) {
        (Value::Object(old), Value::Object(new)) => {
            let mut patch = serde_json::Map::new();
            for (key, value) in new {
                match old.get(key) {
                    Some(before) if before == value => {}
                    Some(before) if before.is_object() && value.is_object() => {
                        patch.insert(key.clone(), merge_diff(before, value));
                    }
                    _ => {
                        patch.insert(key.clone(), value.clone());
                    }
                }
            }
            for key in old.keys().filter(|k| !new.contains_key(*k)) {
                patch.insert(key.clone(), Value::Null);
            }
            Value::Object(patch)
        }
        _ => new.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::merge_diff;
    use serde_json::json;

    #[test]
    fn merge_diff_patches_old_into_new() {
        let old = json!({"phase": "Pending", "conditions": [{"type": "PodScheduled"}], "nominatedNodeName": "n1", "qosClass": "BestEffort", "x": {"a": 1, "b": 2}});
        let new = json!({"phase": "Running", "conditions": [{"type": "Ready"}], "qosClass": "BestEffort", "podIP": "10.0.0.1", "x": {"a": 1}});
        let patch = merge_diff(&old, &new);
        assert_eq!(
            patch,
            json!({"phase": "Running", "conditions": [{"type": "Ready"}], "podIP": "10.0.0.1", "x": {"b": null}, "nominatedNodeName": null})
        );
        let mut applied = old.clone();
        json_patch::merge(&mut applied, &patch);
        assert_eq!(applied, new);
        assert_eq!(merge_diff(&json!(null), &new), new);
    }
}
