//! Events upward: a super Event about a synced object is copied into the tenant, pointing at the
//! tenant's object, so `kubectl describe pod` in the tenant shows scheduling and kubelet events.

use std::hash::{Hash, Hasher};

use anyhow::Result;
use k8s_openapi::api::core::v1::{Event, EventSeries};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{Api, ListParams, PostParams};
use kube::ResourceExt;
use nestor_api::runtime::events::{record, About, Type};
use nestor_api::VirtualCluster;
use serde::Deserialize;
use serde_json::json;
use tracing::{debug, info, Instrument};

use crate::convert::{self, Involved};
use crate::reconcile::{api, conflict};
use crate::tenant::{Side, Tenant};
use crate::{Item, Shared};

/// The fields a tenant copy follows when its super Event changes.
const FOLLOWED: [&str; 4] = ["count", "lastTimestamp", "message", "series"];

/// Copies super Event `namespace`/`name` into the tenant: one request when the event is about
/// a pod (most are) and new, a read and a write when it was copied before.
pub async fn reconcile(shared: &Shared, tenant: &Tenant, namespace: &str, name: &str) -> Result<()> {
    let Some((key, tenant_ns)) = shared.namespaces.get(namespace) else { return Ok(()) };
    if key != tenant.key {
        return Ok(());
    }
    let item = Item::Event { namespace: namespace.to_string(), name: name.to_string() };
    let event = match shared.events.take(&tenant.key, Side::Super, &item) {
        Some(event) => event,
        None => match Api::<Event>::namespaced(shared.super_client.clone(), namespace).get_opt(name).await? {
            Some(event) => event,
            None => return Ok(()),
        },
    };
    let involved = &event.involved_object;
    let (kind, api_version) =
        (involved.kind.clone().unwrap_or_default(), involved.api_version.clone().unwrap_or_default());
    let Some(synced) = tenant.synced.iter().find(|s| s.resource.kind == kind && s.resource.api_version == api_version)
    else {
        return Ok(());
    };
    let indexed = (kind == "Pod").then(|| shared.pods.get(involved.uid.as_deref().unwrap_or_default())).flatten();
    let (object_name, uid) = match indexed {
        Some(pod) => (pod.name, pod.uid),
        None => {
            let object_name = involved.name.clone().unwrap_or_default();
            let Some(object) = api(&tenant.client, synced, Some(&tenant_ns)).get_opt(&object_name).await? else {
                debug!(event = %name, "the event's object is not in the tenant; not copied");
                return Ok(());
            };
            (object_name, object.uid().unwrap_or_default())
        }
    };
    let tenant_ns_of_object = if synced.namespaced { tenant_ns.as_str() } else { "" };
    let copy = convert::event_up(
        &serde_json::to_value(&event)?,
        &Involved {
            api_version: &api_version,
            kind: &kind,
            namespace: tenant_ns_of_object,
            name: &object_name,
            uid: &uid,
        },
    );
    let events: Api<Event> = Api::namespaced(tenant.client.clone(), &tenant_ns);
    match events.create(&PostParams::default(), &serde_json::from_value(copy.clone())?).await {
        Ok(_) => return Ok(()),
        Err(e) if conflict(&e) => {}
        Err(e) => return Err(e.into()),
    }
    // Copied before: bring the count, times and message along.
    let Some(existing) = events.get_opt(name).await? else { anyhow::bail!("event vanished meanwhile") };
    let mut updated = copy;
    updated["metadata"]["resourceVersion"] = json!(existing.resource_version());
    let current = serde_json::to_value(&existing)?;
    if FOLLOWED.iter().any(|f| updated[f] != current[f]) {
        events.replace(name, &PostParams::default(), &serde_json::from_value(updated)?).await?;
    }
    Ok(())
}

/// What of an Event its copy follows ([`FOLLOWED`]), in short: equal for a super Event and an
/// up-to-date copy. Only those fields are encoded: a restart digests every super Event and every
/// copy (60,000 at 100 tenants), and whole events are several times their size.
pub fn digest(event: &Event) -> u64 {
    digest_of(&event.count, &event.last_timestamp, &event.message, &event.series)
}

fn digest_of(
    count: &Option<i32>,
    last_timestamp: &Option<Time>,
    message: &Option<String>,
    series: &Option<EventSeries>,
) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    let text = |field: Result<String, serde_json::Error>| field.unwrap_or_default();
    text(serde_json::to_string(count)).hash(&mut hasher);
    text(serde_json::to_string(last_timestamp)).hash(&mut hasher);
    text(serde_json::to_string(message)).hash(&mut hasher);
    text(serde_json::to_string(series)).hash(&mut hasher);
    hasher.finish()
}

/// A page of a tenant's Event copies, only what comparing them needs: decoding whole events
/// (metadata with managedFields, the involved object, the source) was most of a comparison.
#[derive(Deserialize)]
struct CopiesPage {
    #[serde(default)]
    metadata: PageMeta,
    #[serde(default)]
    items: Vec<Copy>,
}

#[derive(Deserialize, Default)]
struct PageMeta {
    #[serde(rename = "continue", default)]
    continue_: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Copy {
    metadata: CopyName,
    count: Option<i32>,
    last_timestamp: Option<Time>,
    message: Option<String>,
    series: Option<EventSeries>,
}

impl Copy {
    fn digest(&self) -> u64 {
        digest_of(&self.count, &self.last_timestamp, &self.message, &self.series)
    }
}

#[derive(Deserialize)]
struct CopyName {
    #[serde(default)]
    namespace: String,
    #[serde(default)]
    name: String,
}

/// Compares a tenant's Event copies with the super Events about its objects, in one list of
/// the tenant's Events, and queues the super Events whose copy is missing or behind. Runs when
/// the tenant has started, after each list of super Events, and with each patrol.
pub async fn compare(shared: &Shared, tenant: &Tenant) {
    let Some(wanted) = shared.event_index.of_tenant(&tenant.key) else { return };
    let listed = async {
        let copies = kube::core::Request::new("/api/v1/events");
        let mut have = std::collections::HashMap::new();
        let mut params = ListParams::default().limit(500);
        loop {
            let page: CopiesPage = tenant.client.request(copies.list(&params)?).await?;
            for copy in page.items {
                let digest = copy.digest();
                have.insert((copy.metadata.namespace, copy.metadata.name), digest);
            }
            match page.metadata.continue_.filter(|c| !c.is_empty()) {
                Some(token) => params = params.continue_token(&token),
                None => return anyhow::Ok(have),
            }
        }
    };
    let have = match listed.instrument(tenant.span.clone()).await {
        Ok(have) => have,
        Err(e) => {
            let _entered = tenant.span.enter();
            debug!(error = %format!("{e:#}"), "listing the tenant's events failed; the next patrol compares again");
            return;
        }
    };
    let mut behind = 0;
    for ((tenant_ns, name), (super_ns, digest)) in wanted {
        if have.get(&(tenant_ns, name.clone())) != Some(&digest) {
            behind += 1;
            shared.queue.add(&tenant.key, Item::Event { namespace: super_ns, name });
        }
    }
    if behind > 0 {
        let _entered = tenant.span.enter();
        info!(behind, "events to copy after comparing");
    }
}

/// Records a Warning event on a VirtualCluster, in the background.
pub fn warn_on_vc(shared: &Shared, vc: &VirtualCluster, reason: &str, message: &str) {
    const ABOUT: About<'static> =
        About { component: "nestor-syncer", kind: "VirtualCluster", api_version: "tenancy.nestor.dev/v1alpha1" };
    record(&shared.super_client, ABOUT, vc, Type::Warning, reason, message);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(extra: serde_json::Value) -> Event {
        let mut value = json!({
            "metadata": {"name": "web.1", "namespace": "t1-prod", "resourceVersion": "5"},
            "involvedObject": {"kind": "Pod", "name": "web", "namespace": "t1-prod"},
            "reason": "Started", "message": "started", "count": 1,
            "lastTimestamp": "2026-12-05T10:00:00Z",
        });
        for (k, v) in extra.as_object().unwrap() {
            value[k] = v.clone();
        }
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn a_listed_copy_has_the_digest_of_the_whole_event() {
        let full = json!({
            "metadata": {"name": "web.1", "namespace": "prod", "managedFields": [{"manager": "nestor-syncer"}]},
            "involvedObject": {"kind": "Pod", "name": "web"},
            "count": 4, "lastTimestamp": "2026-12-05T10:00:00Z", "message": "pulled",
            "series": {"count": 2, "lastObservedTime": "2026-12-05T10:00:02.000000Z"},
        });
        let page: CopiesPage = serde_json::from_value(json!({"metadata": {"continue": "x"}, "items": [full]})).unwrap();
        assert_eq!(page.metadata.continue_.as_deref(), Some("x"));
        let copy = &page.items[0];
        assert_eq!((copy.metadata.namespace.as_str(), copy.metadata.name.as_str()), ("prod", "web.1"));
        let event: Event = serde_json::from_value(full).unwrap();
        assert_eq!(copy.digest(), digest(&event));
        let bare: CopiesPage = serde_json::from_value(json!({"items": [{"metadata": {"name": "e"}}]})).unwrap();
        assert_eq!(bare.items[0].digest(), digest(&Event::default()));
    }

    #[test]
    fn the_digest_follows_only_what_copies_follow() {
        let base = digest(&event(json!({})));
        let copy = json!({
            "metadata": {"name": "web.1", "namespace": "prod", "resourceVersion": "900"},
            "involvedObject": {"kind": "Pod", "name": "web", "namespace": "prod", "uid": "tenant-uid"},
        });
        assert_eq!(digest(&event(copy)), base, "where it is and what it points at are not followed");
        for changed in [
            json!({"count": 2}),
            json!({"lastTimestamp": "2026-12-05T10:00:01Z"}),
            json!({"message": "restarted"}),
            json!({"series": {"count": 3, "lastObservedTime": "2026-12-05T10:00:02.000000Z"}}),
        ] {
            assert_ne!(digest(&event(changed.clone())), base, "{changed}");
        }
    }
}
