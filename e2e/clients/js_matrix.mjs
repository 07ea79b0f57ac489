// @kubernetes/client-node (npm) against nestor-apiserver: list, watch, create, every patch
// type, server-side apply and delete, for a ConfigMap and a custom resource. Run by
// e2e/tests/clients.rs with a kubeconfig; prints one line per step and exits non-zero at the
// first failure.
import * as k8s from '@kubernetes/client-node';
import assert from 'node:assert/strict';

const NS = 'javascript';
const step = (name) => console.log(`ok ${name}`);
const patchAs = (type) => k8s.setHeaderOptions('Content-Type', type);

async function watchFor(kc, path, name) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ADDED ${name} within 5 s`)), 5000);
    new k8s.Watch(kc).watch(path, { resourceVersion: '0' }, (phase, obj) => {
      if (phase === 'ADDED' && obj.metadata.name === name) {
        clearTimeout(timer);
        resolve();
      }
    }, (err) => { if (err) reject(err); }).then((req) => setTimeout(() => req.abort(), 5000));
  });
}

async function main(kubeconfig) {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(kubeconfig);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const ext = kc.makeApiClient(k8s.ApiextensionsV1Api);
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);

  await core.createNamespace({ body: { metadata: { name: NS } } });
  const created = await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'settings', labels: { app: 'js' } }, data: { color: 'blue' } } });
  assert.ok(created.metadata.uid);
  step('create configmap');
  const listed = await core.listNamespacedConfigMap({ namespace: NS, labelSelector: 'app=js' });
  assert.deepEqual(listed.items.map((c) => c.metadata.name), ['settings']);
  step('list configmaps');
  await watchFor(kc, `/api/v1/namespaces/${NS}/configmaps`, 'settings');
  step('watch configmaps');

  await core.patchNamespacedConfigMap({ name: 'settings', namespace: NS, body: [{ op: 'replace', path: '/data/color', value: 'green' }] }, patchAs(k8s.PatchStrategy.JsonPatch));
  await core.patchNamespacedConfigMap({ name: 'settings', namespace: NS, body: { data: { size: 'm' } } }, patchAs(k8s.PatchStrategy.MergePatch));
  await core.patchNamespacedConfigMap({ name: 'settings', namespace: NS, body: { data: { shape: 'round' } } }, patchAs(k8s.PatchStrategy.StrategicMergePatch));
  const read = await core.readNamespacedConfigMap({ name: 'settings', namespace: NS });
  assert.deepEqual(read.data, { color: 'green', size: 'm', shape: 'round' });
  step('patch configmap (json, merge, strategic)');

  const applied = await core.patchNamespacedConfigMap({
    name: 'applied', namespace: NS, fieldManager: 'js-matrix',
    body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'applied' }, data: { k: 'v' } },
  }, patchAs(k8s.PatchStrategy.ServerSideApply));
  assert.ok(applied.metadata.managedFields.some((m) => m.manager === 'js-matrix' && m.operation === 'Apply'));
  step('server-side apply configmap');

  await core.deleteNamespacedConfigMap({ name: 'settings', namespace: NS });
  await assert.rejects(core.readNamespacedConfigMap({ name: 'settings', namespace: NS }), (e) => e.code === 404);
  step('delete configmap');

  await ext.createCustomResourceDefinition({ body: {
    apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition',
    metadata: { name: 'gadgets.js.example.com' },
    spec: { group: 'js.example.com', scope: 'Namespaced', names: { plural: 'gadgets', singular: 'gadget', kind: 'Gadget' },
      versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object',
        properties: { size: { type: 'integer' }, tags: { type: 'array', items: { type: 'string' } } } } } } } }] },
  } });
  const gadgets = { group: 'js.example.com', version: 'v1', namespace: NS, plural: 'gadgets' };
  for (let i = 0; i < 100; i++) {
    try { await custom.listNamespacedCustomObject(gadgets); break; } catch { await new Promise((r) => setTimeout(r, 100)); }
  }
  await custom.createNamespacedCustomObject({ ...gadgets, body: { apiVersion: 'js.example.com/v1', kind: 'Gadget', metadata: { name: 'g1' }, spec: { size: 1 } } });
  step('create custom object');
  const items = (await custom.listNamespacedCustomObject(gadgets)).items;
  assert.deepEqual(items.map((i) => i.metadata.name), ['g1']);
  step('list custom objects');
  await watchFor(kc, `/apis/js.example.com/v1/namespaces/${NS}/gadgets`, 'g1');
  step('watch custom objects');
  await custom.patchNamespacedCustomObject({ ...gadgets, name: 'g1', body: { spec: { size: 2 } } }, patchAs(k8s.PatchStrategy.MergePatch));
  await custom.patchNamespacedCustomObject({ ...gadgets, name: 'g1', body: [{ op: 'add', path: '/spec/tags', value: ['a'] }] }, patchAs(k8s.PatchStrategy.JsonPatch));
  const got = await custom.getNamespacedCustomObject({ ...gadgets, name: 'g1' });
  assert.deepEqual(got.spec, { size: 2, tags: ['a'] });
  step('patch custom object (merge, json)');
  const appliedCr = await custom.patchNamespacedCustomObject({
    ...gadgets, name: 'g1', fieldManager: 'js-matrix', force: true,
    body: { apiVersion: 'js.example.com/v1', kind: 'Gadget', metadata: { name: 'g1' }, spec: { size: 3 } },
  }, patchAs(k8s.PatchStrategy.ServerSideApply));
  assert.equal(appliedCr.spec.size, 3);
  step('server-side apply custom object');
  await custom.deleteNamespacedCustomObject({ ...gadgets, name: 'g1' });
  assert.deepEqual((await custom.listNamespacedCustomObject(gadgets)).items, []);
  step('delete custom object');
}

main(process.argv[2]).then(() => process.exit(0), (err) => { console.error(err); process.exit(1); });
