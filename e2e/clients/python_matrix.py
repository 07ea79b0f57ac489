"""The Python `kubernetes` client (PyPI) against nestor-apiserver: list, watch, create, every
patch type the client sends, server-side apply and delete, for a ConfigMap and a custom
resource. Run by e2e/tests/clients.rs with a kubeconfig; prints one line per step and exits
non-zero at the first failure."""

import sys
import time

from kubernetes import client, config, watch

NS = "python"


def step(name):
    print(f"ok {name}", flush=True)


def main(kubeconfig):
    config.load_kube_config(config_file=kubeconfig)
    core = client.CoreV1Api()
    ext = client.ApiextensionsV1Api()
    custom = client.CustomObjectsApi()

    core.create_namespace({"metadata": {"name": NS}})
    created = core.create_namespaced_config_map(NS, {"metadata": {"name": "settings", "labels": {"app": "py"}}, "data": {"color": "blue"}})
    assert created.metadata.uid, created
    step("create configmap")

    names = [cm.metadata.name for cm in core.list_namespaced_config_map(NS, label_selector="app=py").items]
    assert names == ["settings"], names
    step("list configmaps")

    seen = []
    for event in watch.Watch().stream(core.list_namespaced_config_map, NS, resource_version="0", timeout_seconds=5):
        seen.append((event["type"], event["object"].metadata.name))
        if ("ADDED", "settings") in seen:
            break
    assert ("ADDED", "settings") in seen, seen
    step("watch configmaps")

    # The client picks the patch type from the body: a list is a JSON patch, a dict a
    # strategic merge patch; `_content_type` asks for the others.
    core.patch_namespaced_config_map("settings", NS, [{"op": "replace", "path": "/data/color", "value": "green"}])
    core.patch_namespaced_config_map("settings", NS, {"data": {"size": "m"}})
    core.patch_namespaced_config_map("settings", NS, {"data": {"shape": "round"}}, _content_type="application/merge-patch+json")
    data = core.read_namespaced_config_map("settings", NS).data
    assert data == {"color": "green", "size": "m", "shape": "round"}, data
    step("patch configmap (json, strategic, merge)")

    applied = core.patch_namespaced_config_map(
        "applied", NS,
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "applied"}, "data": {"k": "v"}},
        field_manager="python-matrix", _content_type="application/apply-patch+yaml",
    )
    managers = [(m.manager, m.operation) for m in applied.metadata.managed_fields]
    assert ("python-matrix", "Apply") in managers, managers
    step("server-side apply configmap")

    core.delete_namespaced_config_map("settings", NS)
    try:
        core.read_namespaced_config_map("settings", NS)
        raise AssertionError("still there")
    except client.exceptions.ApiException as e:
        assert e.status == 404, e
    step("delete configmap")

    ext.create_custom_resource_definition({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "gadgets.python.example.com"},
        "spec": {"group": "python.example.com", "scope": "Namespaced",
                 "names": {"plural": "gadgets", "singular": "gadget", "kind": "Gadget"},
                 "versions": [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {
                     "type": "object", "properties": {"spec": {"type": "object", "properties": {
                         "size": {"type": "integer"}, "tags": {"type": "array", "items": {"type": "string"}}}}}}}}]},
    })
    group, version, plural = "python.example.com", "v1", "gadgets"
    for _ in range(100):
        try:
            custom.list_namespaced_custom_object(group, version, NS, plural)
            break
        except client.exceptions.ApiException:
            time.sleep(0.1)
    custom.create_namespaced_custom_object(group, version, NS, plural, {
        "apiVersion": "python.example.com/v1", "kind": "Gadget", "metadata": {"name": "g1"}, "spec": {"size": 1}})
    step("create custom object")
    items = custom.list_namespaced_custom_object(group, version, NS, plural)["items"]
    assert [i["metadata"]["name"] for i in items] == ["g1"], items
    step("list custom objects")
    seen = []
    for event in watch.Watch().stream(custom.list_namespaced_custom_object, group, version, NS, plural, resource_version="0", timeout_seconds=5):
        seen.append((event["type"], event["object"]["metadata"]["name"]))
        if ("ADDED", "g1") in seen:
            break
    assert ("ADDED", "g1") in seen, seen
    step("watch custom objects")
    custom.patch_namespaced_custom_object(group, version, NS, plural, "g1", {"spec": {"size": 2}})
    custom.patch_namespaced_custom_object(group, version, NS, plural, "g1", [{"op": "add", "path": "/spec/tags", "value": ["a"]}],
                                          _content_type="application/json-patch+json")
    spec = custom.get_namespaced_custom_object(group, version, NS, plural, "g1")["spec"]
    assert spec == {"size": 2, "tags": ["a"]}, spec
    step("patch custom object (merge, json)")
    applied = custom.patch_namespaced_custom_object(group, version, NS, plural, "g1",
                                                    {"apiVersion": "python.example.com/v1", "kind": "Gadget", "metadata": {"name": "g1"}, "spec": {"size": 3}},
                                                    field_manager="python-matrix", force=True, _content_type="application/apply-patch+yaml")
    assert applied["spec"]["size"] == 3, applied
    step("server-side apply custom object")
    custom.delete_namespaced_custom_object(group, version, NS, plural, "g1")
    assert custom.list_namespaced_custom_object(group, version, NS, plural)["items"] == []
    step("delete custom object")


if __name__ == "__main__":
    main(sys.argv[1])
