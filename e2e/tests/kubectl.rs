//! The real kubectl against nestor-apiserver. Expected outputs follow what kubectl prints
//! against kube-apiserver v1.32: column sets from pkg/printers/internalversion/printers.go,
//! messages from kubectl's own commands (staging/src/k8s.io/kubectl/pkg/cmd/...), as noted
//! at each check.

use std::time::Duration;

use nestor_e2e::{header, rows, Kubectl};
use nestor_testkit::{eventually, Cluster};

const MANIFEST: &str = r#"
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: shop, labels: {app: web}}
data: {color: blue}
---
apiVersion: v1
kind: Secret
metadata: {name: creds, namespace: shop}
stringData: {password: hunter2}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: robot, namespace: shop}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop, labels: {app: web}}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - {name: nginx, image: "nginx:1.24", ports: [{containerPort: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop, labels: {app: web}}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 80}]
---
apiVersion: batch/v1
kind: Job
metadata: {name: once, namespace: shop}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: c, image: busybox, command: ["true"]}]
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: tick, namespace: shop}
spec:
  schedule: "*/5 * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers: [{name: c, image: busybox}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: shop}
spec:
  serviceName: db
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers: [{name: db, image: postgres}]
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: shop}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      containers: [{name: a, image: busybox}]
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data, namespace: shop}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: shop}
spec:
  rules:
  - host: shop.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
"#;

#[tokio::test]
async fn discovery_commands_match_kube() {
    let c = Cluster::start().await.unwrap();
    let k = Kubectl::new(&c.kubeconfig());
    // `kubectl api-resources` columns (kubectl/pkg/cmd/apiresources) and well-known rows.
    let out = k.ok(&["api-resources"]);
    assert_eq!(header(&out), ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"]);
    for want in [
        "pods po v1 true Pod",
        "deployments deploy apps/v1 true Deployment",
        "horizontalpodautoscalers hpa autoscaling/v2 true HorizontalPodAutoscaler",
        "customresourcedefinitions crd,crds apiextensions.k8s.io/v1 false CustomResourceDefinition",
        "networkpolicies netpol networking.k8s.io/v1 true NetworkPolicy",
        "poddisruptionbudgets pdb policy/v1 true PodDisruptionBudget",
    ] {
        assert!(rows(&out).iter().any(|r| r.join(" ") == want), "missing row {want:?} in\n{out}");
    }
    let out = k.ok(&["api-versions"]);
    for gv in ["v1", "apps/v1", "autoscaling/v2", "batch/v1", "apiextensions.k8s.io/v1", "rbac.authorization.k8s.io/v1"]
    {
        assert!(out.lines().any(|l| l == gv), "{gv} missing:\n{out}");
    }
    // The same answers for older and newer kubectl.
    for v in ["1.27", "1.33"] {
        let out = Kubectl::version(&c.kubeconfig(), v).ok(&["get", "namespaces"]);
        assert_eq!(header(&out), ["NAME", "STATUS", "AGE"], "kubectl {v}");
        assert!(rows(&out).iter().any(|r| r[0] == "kube-system" && r[1] == "Active"), "kubectl {v}: {out}");
    }
}

#[tokio::test]
async fn create_get_in_every_format() {
    let c = Cluster::start().await.unwrap();
    let k = Kubectl::new(&c.kubeconfig());
    let out = k.ok_stdin(&["create", "-f", "-"], MANIFEST);
    for line in [
        "namespace/shop created",
        "deployment.apps/web created",
        "service/web created",
        "cronjob.batch/tick created",
        "ingress.networking.k8s.io/web created",
    ] {
        assert!(out.contains(line), "{line:?} missing:\n{out}");
    }
    // Columns as printers.go defines them.
    let out = k.ok(&["-n", "shop", "get", "deployments"]);
    assert_eq!(header(&out), ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]);
    assert_eq!(&rows(&out)[0][..2], ["web", "0/2"]);
    let out = k.ok(&["-n", "shop", "get", "deployments", "-o", "wide"]);
    assert_eq!(header(&out), ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE", "CONTAINERS", "IMAGES", "SELECTOR"]);
    assert_eq!(&rows(&out)[0][5..], ["nginx", "nginx:1.24", "app=web"]);
    let out = k.ok(&["-n", "shop", "get", "svc", "web"]);
    assert_eq!(header(&out), ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"]);
    let row = &rows(&out)[0];
    assert_eq!((row[1].as_str(), row[3].as_str(), row[4].as_str()), ("ClusterIP", "<none>", "80/TCP"));
    assert!(row[2].starts_with("10.0.0."), "cluster IP from the default range: {out}");
    let out = k.ok(&["-n", "shop", "get", "secret", "creds"]);
    assert_eq!(rows(&out)[0][..3], ["creds", "Opaque", "1"]);
    let out = k.ok(&["-n", "shop", "get", "cronjob"]);
    assert_eq!(header(&out)[..3], ["NAME", "SCHEDULE", "TIMEZONE"]);
    // -o name, json, yaml, jsonpath, custom-columns.
    assert_eq!(k.ok(&["-n", "shop", "get", "cm", "settings", "-o", "name"]).trim(), "configmap/settings");
    let json: serde_json::Value =
        serde_json::from_str(&k.ok(&["-n", "shop", "get", "deploy", "web", "-o", "json"])).unwrap();
    assert_eq!(json["spec"]["strategy"]["rollingUpdate"]["maxSurge"], "25%", "defaulted as kube-apiserver does");
    let yaml = k.ok(&["-n", "shop", "get", "sa", "robot", "-o", "yaml"]);
    assert!(yaml.contains("kind: ServiceAccount") && yaml.contains("name: robot"), "{yaml}");
    assert_eq!(k.ok(&["-n", "shop", "get", "cm", "settings", "-o", "jsonpath={.data.color}"]), "blue");
    let out = k.ok(&["-n", "shop", "get", "deploy", "-o", "custom-columns=N:.metadata.name,R:.spec.replicas"]);
    assert_eq!(rows(&out), vec![vec!["web".to_string(), "2".to_string()]]);
    // -A, -l, --field-selector, --chunk-size.
    let out = k.ok(&["get", "cm", "-A", "-l", "app=web"]);
    assert_eq!(header(&out), ["NAMESPACE", "NAME", "DATA", "AGE"]);
    assert_eq!(rows(&out).len(), 1);
    let out = k.ok(&["get", "namespaces", "--field-selector", "metadata.name=shop", "-o", "name"]);
    assert_eq!(out.trim(), "namespace/shop");
    let out = k.ok(&["get", "namespaces", "--chunk-size=1", "-o", "name"]);
    assert_eq!(out.lines().count(), 5, "{out}");
    // --sort-by asks for whole objects in the table rows (includeObject=Object).
    let out = k.ok(&["-n", "shop", "get", "cm,secret", "--sort-by=.metadata.name", "-o", "name"]);
    assert_eq!(out.lines().collect::<Vec<_>>(), ["secret/creds", "configmap/settings"]);
    // `get all` lists the "all" category.
    let out = k.ok(&["-n", "shop", "get", "all", "-o", "name"]);
    for name in [
        "service/web",
        "deployment.apps/web",
        "statefulset.apps/db",
        "daemonset.apps/agent",
        "job.batch/once",
        "cronjob.batch/tick",
    ] {
        assert!(out.lines().any(|l| l == name), "{name} missing:\n{out}");
    }
}

#[tokio::test]
async fn imperative_commands_and_patches() {
    let c = Cluster::start().await.unwrap();
    let k = Kubectl::new(&c.kubeconfig());
    // These go through client-go's typed clients, which send protobuf bodies.
    assert_eq!(k.ok(&["create", "namespace", "team"]).trim(), "namespace/team created");
    assert_eq!(
        k.ok(&["-n", "team", "create", "configmap", "cfg", "--from-literal=a=1"]).trim(),
        "configmap/cfg created"
    );
    assert_eq!(
        k.ok(&["-n", "team", "create", "secret", "generic", "s", "--from-literal=k=v"]).trim(),
        "secret/s created"
    );
    assert_eq!(k.ok(&["-n", "team", "create", "serviceaccount", "bot"]).trim(), "serviceaccount/bot created");
    assert_eq!(
        k.ok(&["-n", "team", "create", "deployment", "web", "--image=nginx:1.24", "--replicas=2"]).trim(),
        "deployment.apps/web created"
    );
    assert_eq!(k.ok(&["-n", "team", "create", "job", "j", "--image=busybox"]).trim(), "job.batch/j created");
    assert_eq!(k.ok(&["-n", "team", "run", "p", "--image=busybox", "--labels=app=p"]).trim(), "pod/p created");
    assert_eq!(k.ok(&["-n", "team", "get", "secret", "s", "-o", "jsonpath={.data.k}"]), "dg==");
    let out = k.ok(&["-n", "team", "get", "pod", "p"]);
    assert_eq!(header(&out), ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]);
    assert_eq!(rows(&out)[0][..4], ["p", "0/1", "Pending", "0"]);

    assert_eq!(k.ok(&["-n", "team", "label", "pod", "p", "tier=front"]).trim(), "pod/p labeled");
    assert_eq!(k.ok(&["-n", "team", "annotate", "pod", "p", "note=hi"]).trim(), "pod/p annotated");
    assert_eq!(
        k.ok(&["-n", "team", "get", "pod", "p", "-o", "jsonpath={.metadata.labels.tier}/{.metadata.annotations.note}"]),
        "front/hi"
    );
    assert_eq!(k.ok(&["-n", "team", "label", "pod", "p", "tier-"]).trim(), "pod/p unlabeled");

    let path = |p: &str| k.ok(&["-n", "team", "get", "deploy", "web", "-o", &format!("jsonpath={p}")]);
    k.ok(&["-n", "team", "patch", "deploy", "web", "-p", r#"{"spec":{"replicas":3}}"#]);
    assert_eq!(path("{.spec.replicas}"), "3");
    k.ok(&["-n", "team", "patch", "deploy", "web", "--type=merge", "-p", r#"{"metadata":{"labels":{"x":"y"}}}"#]);
    assert_eq!(path("{.metadata.labels.x}"), "y");
    k.ok(&[
        "-n",
        "team",
        "patch",
        "deploy",
        "web",
        "--type=json",
        "-p",
        r#"[{"op":"replace","path":"/spec/replicas","value":4}]"#,
    ]);
    assert_eq!(path("{.spec.replicas}"), "4");
    k.ok(&[
        "-n",
        "team",
        "patch",
        "deploy",
        "web",
        "--subresource=status",
        "--type=merge",
        "-p",
        r#"{"status":{"replicas":4}}"#,
    ]);
    assert_eq!(path("{.status.replicas}"), "4");
    // "no change" as kubectl reports a patch that changes nothing.
    let out =
        k.ok(&["-n", "team", "patch", "deploy", "web", "--type=merge", "-p", r#"{"metadata":{"labels":{"x":"y"}}}"#]);
    assert_eq!(out.trim(), "deployment.apps/web patched (no change)");
    assert_eq!(k.ok(&["-n", "team", "scale", "deploy", "web", "--replicas=5"]).trim(), "deployment.apps/web scaled");
    assert_eq!(path("{.spec.replicas}"), "5");
    assert_eq!(
        k.ok(&["-n", "team", "set", "image", "deploy/web", "nginx=nginx:1.25"]).trim(),
        "deployment.apps/web image updated"
    );
    assert_eq!(path("{.spec.template.spec.containers[0].image}"), "nginx:1.25");
    assert_eq!(path("{.metadata.generation}"), "5", "generation moves on spec changes only");

    // An invalid object: kubectl prints kube's 422 message.
    let err = k.fails(&["-n", "team", "scale", "deploy", "web", "--replicas=-1"]);
    assert!(err.contains("error"), "{err}");
    // delete by name and by label; a namespace with its content.
    assert_eq!(k.ok(&["-n", "team", "delete", "job", "j"]).trim(), r#"job.batch "j" deleted"#);
    assert_eq!(k.ok(&["-n", "team", "delete", "pod", "-l", "app=p"]).trim(), r#"pod "p" deleted"#);
    assert_eq!(k.ok(&["delete", "namespace", "team"]).trim(), r#"namespace "team" deleted"#);
    let err = k.fails(&["get", "namespace", "team"]);
    assert!(err.contains(r#"namespaces "team" not found"#), "{err}");
}

#[tokio::test]
async fn apply_replace_and_watch() {
    let c = Cluster::start().await.unwrap();
    let k = Kubectl::new(&c.kubeconfig());
    let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app}\ndata: {mode: one}\n";
    assert_eq!(k.ok_stdin(&["apply", "-f", "-"], cm).trim(), "configmap/app created");
    // The second apply of the same manifest computes an empty patch (apply.go prints "unchanged").
    assert_eq!(k.ok_stdin(&["apply", "-f", "-"], cm).trim(), "configmap/app unchanged");
    let changed = cm.replace("one", "two");
    assert_eq!(k.ok_stdin(&["apply", "-f", "-"], &changed).trim(), "configmap/app configured");
    assert_eq!(k.ok(&["get", "cm", "app", "-o", "jsonpath={.data.mode}"]), "two");
    let replaced = cm.replace("one", "three");
    assert_eq!(k.ok_stdin(&["replace", "-f", "-"], &replaced).trim(), "configmap/app replaced");
    assert_eq!(k.ok(&["get", "cm", "app", "-o", "jsonpath={.data.mode}"]), "three");

    // `get -w` prints the table and then each change as a row.
    let kubeconfig = c.kubeconfig();
    let watcher =
        std::thread::spawn(move || Kubectl::new(&kubeconfig).run(&["get", "cm", "-w", "--request-timeout=4s"], None));
    // Wait until the watch is open (the first table is printed), then change things.
    eventually(Duration::from_secs(10), "a second configmap to be created", || async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        Kubectl::new(&c.kubeconfig()).run(&["create", "cm", "late"], None).success.then_some(())
    })
    .await
    .unwrap();
    let out = watcher.join().unwrap();
    let names: Vec<String> = rows(&out.stdout).iter().map(|r| r[0].clone()).collect();
    assert!(
        names.contains(&"app".to_string()) && names.contains(&"late".to_string()),
        "{}\n{}",
        out.stdout,
        out.stderr
    );
}

#[tokio::test]
async fn custom_resources_end_to_end() {
    let c = Cluster::start().await.unwrap();
    let k = Kubectl::new(&c.kubeconfig());
    let crd = r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: crontabs.stable.example.com}
spec:
  group: stable.example.com
  scope: Namespaced
  names: {plural: crontabs, singular: crontab, kind: CronTab, shortNames: [ct]}
  versions:
  - name: v1
    served: true
    storage: true
    additionalPrinterColumns:
    - {name: Spec, type: string, jsonPath: .spec.cronSpec}
    - {name: Image, type: string, jsonPath: .spec.image}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              cronSpec: {type: string}
              image: {type: string}
"#;
    k.ok_stdin(&["apply", "-f", "-"], crd);
    let out = k.ok(&["wait", "--for=condition=established", "crd/crontabs.stable.example.com", "--timeout=20s"]);
    assert_eq!(out.trim(), "customresourcedefinition.apiextensions.k8s.io/crontabs.stable.example.com condition met");
    let ct = "apiVersion: stable.example.com/v1\nkind: CronTab\nmetadata: {name: my-ct}\nspec: {cronSpec: '* * * * */5', image: my-image}\n";
    assert_eq!(k.ok_stdin(&["create", "-f", "-"], ct).trim(), "crontab.stable.example.com/my-ct created");
    let out = k.ok(&["get", "ct"]);
    assert_eq!(header(&out), ["NAME", "SPEC", "IMAGE"]);
    assert_eq!(rows(&out)[0], ["my-ct", "*", "*", "*", "*", "*/5", "my-image"]);
    k.ok(&["patch", "ct", "my-ct", "--type=merge", "-p", r#"{"spec":{"image":"v2"}}"#]);
    assert_eq!(k.ok(&["get", "crontab", "my-ct", "-o", "jsonpath={.spec.image}"]), "v2");
    // Strategic merge patch is refused for custom resources, as kube-apiserver refuses it.
    let err = k.fails(&["patch", "ct", "my-ct", "-p", r#"{"spec":{"image":"v3"}}"#]);
    assert!(
        err.contains("UnsupportedMediaType") || err.contains("unknown format") || err.contains("strategic merge patch"),
        "{err}"
    );
    assert_eq!(k.ok(&["delete", "ct", "my-ct"]).trim(), r#"crontab.stable.example.com "my-ct" deleted"#);
    assert_eq!(
        k.ok(&["delete", "crd", "crontabs.stable.example.com"]).trim(),
        r#"customresourcedefinition.apiextensions.k8s.io "crontabs.stable.example.com" deleted"#
    );
}

/// Unknown fields follow `--validate` as on kube-apiserver: `strict` (kubectl's default) is a
/// 400 with the decoder's message, `warn` prints a warning per field and stores the object
/// without them, `false` drops them silently. The server does the checking: kubectl sends
/// `fieldValidation` because the OpenAPI v3 operations say the server takes it.
#[tokio::test]
async fn unknown_fields_are_rejected_warned_or_dropped() {
    let c = Cluster::start().await.unwrap();
    let pod = |name: &str| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, colour: red}}\nspec:\n  containers:\n  - {{name: c, image: nginx, imagex: typo}}\n"
        )
    };
    // kubectl 1.27 and 1.28 learn that the server validates from /openapi/v2 (protobuf),
    // later ones from /openapi/v3.
    for (n, version) in ["1.27", "1.28", "1.29", "1.32", "1.33"].into_iter().enumerate() {
        let k = Kubectl::version(&c.kubeconfig(), version);
        let strict = k.run(&["create", "-f", "-"], Some(&pod(&format!("strict-{n}"))));
        assert!(!strict.success, "kubectl {version}: {}", strict.stdout);
        assert!(
            strict.stderr.contains(r#"Error from server (BadRequest): error when creating "STDIN": Pod in version "v1" cannot be handled as a Pod: strict decoding error: unknown field "metadata.colour", unknown field "spec.containers[0].imagex""#),
            "kubectl {version}: {}",
            strict.stderr
        );
        assert!(!k.run(&["get", "pod", &format!("strict-{n}")], None).success, "nothing stored");

        let warned = k.run(&["create", "--validate=warn", "-f", "-"], Some(&pod(&format!("warn-{n}"))));
        assert!(warned.success, "kubectl {version}: {}", warned.stderr);
        assert_eq!(warned.stdout.trim(), format!("pod/warn-{n} created"));
        assert!(warned.stderr.contains(r#"Warning: unknown field "metadata.colour""#), "{}", warned.stderr);
        assert!(warned.stderr.contains(r#"Warning: unknown field "spec.containers[0].imagex""#), "{}", warned.stderr);
        let stored = k.ok(&["get", "pod", &format!("warn-{n}"), "-o", "json"]);
        assert!(!stored.contains("imagex") && !stored.contains("colour"), "{stored}");

        let ignored = k.run(&["create", "--validate=false", "-f", "-"], Some(&pod(&format!("ignore-{n}"))));
        assert!(ignored.success, "kubectl {version}: {}", ignored.stderr);
        assert!(!ignored.stderr.contains("unknown field"), "{}", ignored.stderr);
    }

    // kubectl patch sends no fieldValidation: the server's default, Warn, drops the field.
    let k = Kubectl::new(&c.kubeconfig());
    let out = k.run(&["patch", "pod", "warn-0", "--type=merge", "-p", r#"{"spec":{"bogus":1}}"#], None);
    assert!(out.success && out.stderr.contains(r#"Warning: unknown field "spec.bogus""#), "{}", out.stderr);
    assert!(!k.ok(&["get", "pod", "warn-0", "-o", "json"]).contains("bogus"));
    // Strict on a patch: the decoder's bare message (kube's patcher decodes the patched object).
    let path = "/api/v1/namespaces/default/pods/warn-0";
    let merge = Some("application/merge-patch+json");
    let strict =
        c.raw("PATCH", &format!("{path}?fieldValidation=Strict"), merge, r#"{"spec":{"bogus":1}}"#).await.unwrap();
    assert_eq!(strict.status, 400, "{}", strict.text());
    assert_eq!(strict.json()["message"], r#"strict decoding error: unknown field "spec.bogus""#);
    let warned = c.raw("PATCH", path, merge, r#"{"spec":{"bogus":1}}"#).await.unwrap();
    assert_eq!(warned.headers["warning"], r#"299 - "unknown field \"spec.bogus\"""#);
    let bad = c.raw("PATCH", &format!("{path}?fieldValidation=Loud"), merge, "{}").await.unwrap();
    assert_eq!(bad.status, 422, "{}", bad.text());
    // A key repeated in a JSON body: named by Strict, warned about by Warn (the last value wins).
    let twice =
        r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"twice"},"data":{"a":"1","a":"2"},"dtaa":{}}"#;
    let cms = "/api/v1/namespaces/default/configmaps";
    let strict = c.raw("POST", &format!("{cms}?fieldValidation=Strict"), None, twice).await.unwrap();
    assert_eq!(strict.status, 400, "{}", strict.text());
    assert_eq!(
        strict.json()["message"],
        r#"ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: duplicate field "data.a", unknown field "dtaa""#
    );
    let warned = c.raw("POST", cms, None, twice).await.unwrap();
    assert_eq!(warned.status, 201, "{}", warned.text());
    let said: Vec<&str> = warned.headers.get_all("warning").iter().filter_map(|v| v.to_str().ok()).collect();
    assert!(said.contains(&r#"299 - "duplicate field \"data.a\"""#), "{said:?}");
    assert_eq!(warned.json()["data"]["a"], "2");

    // Custom resources: the fields their schema prunes.
    k.ok_stdin(&["apply", "-f", "-"], WIDGET_CRD);
    k.ok(&["wait", "--for=condition=established", "crd/widgets.example.com", "--timeout=20s"]);
    let widget = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {size: 1, flavour: red}\n";
    let out = k.run(&["create", "-f", "-"], Some(widget));
    assert!(!out.success);
    assert!(
        out.stderr.contains(r#"Widget in version "v1" cannot be handled as a Widget: strict decoding error: unknown field "spec.flavour""#),
        "{}",
        out.stderr
    );
    let out = k.run(&["create", "--validate=warn", "-f", "-"], Some(widget));
    assert!(out.success && out.stderr.contains(r#"Warning: unknown field "spec.flavour""#), "{}", out.stderr);
    assert_eq!(k.ok(&["get", "widget", "w", "-o", "jsonpath={.spec}"]), r#"{"size":1}"#);
}

const WIDGET_CRD: &str = r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        description: A widget of the example shop.
        properties:
          spec:
            type: object
            properties:
              size: {type: integer, description: How many sprockets the widget has.}
              colour: {type: string, nullable: true, enum: [red, blue]}
"#;

/// A deployment `web` of the given containers (name, image).
fn deployment_of(containers: &[(&str, &str)]) -> String {
    let mut out = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers:\n".to_string();
    for (name, image) in containers {
        out.push_str(&format!("      - {{name: {name}, image: \"{image}\"}}\n"));
    }
    out
}

/// `kubectl explain` reads the schemas of `/openapi/v3` (and of `/openapi/v2` with
/// `--output=plaintext-openapiv2`, which parses the whole protobuf document), for built-ins
/// and CRDs; outputs as kubectl prints them against kube-apiserver (explain/v2 templates).
#[tokio::test]
async fn explain_reads_the_openapi_schemas() {
    let c = Cluster::start().await.unwrap();
    for version in ["1.27", "1.32", "1.33"] {
        let k = Kubectl::version(&c.kubeconfig(), version);
        let pods = k.ok(&["explain", "pods"]);
        assert!(pods.starts_with("KIND:       Pod\nVERSION:    v1\n\nDESCRIPTION:\n"), "kubectl {version}: {pods}");
        assert!(pods.contains("Pod is a collection of containers that can run on a host."), "{pods}");
        assert!(pods.contains("  spec\t<PodSpec>\n"), "{pods}");
        // k8s-openapi's types require metadata; kube's schema does not.
        assert!(pods.contains("  metadata\t<ObjectMeta>\n"), "{pods}");
    }
    let k = Kubectl::version(&c.kubeconfig(), "1.32");
    let field = k.ok(&["explain", "deployment.spec.strategy.rollingUpdate.maxSurge"]);
    assert!(
        field
            .starts_with("GROUP:      apps\nKIND:       Deployment\nVERSION:    v1\n\nFIELD: maxSurge <IntOrString>\n"),
        "{field}"
    );
    assert!(field.contains("The maximum number of pods that can be scheduled above the desired number of"), "{field}");
    let recursive = k.ok(&["explain", "pods.spec.containers", "--recursive"]);
    assert!(recursive.contains("  name\t<string> -required-\n"), "{recursive}");
    assert!(recursive.contains("    containerPort\t<integer> -required-\n"), "{recursive}");
    let missing = k.run(&["explain", "pods.spec.nosuch"], None);
    assert!(!missing.success && missing.stderr.contains(r#"field "nosuch" does not exist"#), "{}", missing.stderr);
    let v2 = k.ok(&["explain", "pods.spec.containers", "--output=plaintext-openapiv2"]);
    assert!(v2.contains("RESOURCE: containers <[]Object>"), "{v2}");
    assert!(v2.contains("List of containers belonging to the pod."), "{v2}");

    k.ok_stdin(&["apply", "-f", "-"], WIDGET_CRD);
    k.ok(&["wait", "--for=condition=established", "crd/widgets.example.com", "--timeout=20s"]);
    let size = k.ok(&["explain", "widgets.spec.size"]);
    assert!(
        size.starts_with("GROUP:      example.com\nKIND:       Widget\nVERSION:    v1\n\nFIELD: size <integer>\n"),
        "{size}"
    );
    assert!(size.contains("How many sprockets the widget has."), "{size}");
    let widget = k.ok(&["explain", "widget"]);
    assert!(
        widget.contains("A widget of the example shop.") && widget.contains("  metadata\t<ObjectMeta>"),
        "{widget}"
    );
    let colour = k.ok(&["explain", "widgets.spec.colour"]);
    assert!(colour.contains("ENUM:\n    red\n    blue\n"), "{colour}");
    let v2 = k.ok(&["explain", "widgets.spec", "--output=plaintext-openapiv2"]);
    assert!(v2.contains("size\t<integer>"), "{v2}");
}

/// Client-side apply computes its strategic merge patch from the OpenAPI merge keys (v2 for
/// kubectl 1.27, v3 for 1.32). Dropping container `b` from the file deletes it only when the
/// patch names it by its merge key (`$patch: delete`); without the key kubectl sends the list
/// as a whole, which the server merges, and `b` would stay. A container another writer added
/// survives, and the applied one changes in place.
#[tokio::test]
async fn client_side_apply_merges_lists_by_the_openapi_merge_keys() {
    let c = Cluster::start().await.unwrap();
    for (n, version) in ["1.27", "1.32"].into_iter().enumerate() {
        let k = Kubectl::version(&c.kubeconfig(), version);
        let ns = format!("apply-{n}");
        k.ok(&["create", "namespace", &ns]);
        k.ok_stdin(&["apply", "-n", &ns, "-f", "-"], &deployment_of(&[("a", "nginx:1"), ("b", "busybox")]));
        let sidecar = r#"{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"envoy"}]}}}}"#;
        k.ok(&["patch", "-n", &ns, "deploy", "web", "-p", sidecar]);
        let out = k.run(&["apply", "-n", &ns, "-f", "-"], Some(&deployment_of(&[("a", "nginx:2")])));
        assert!(out.success && !out.stderr.contains("warning"), "kubectl {version}: {}", out.stderr);
        let containers = k.ok(&[
            "get",
            "-n",
            &ns,
            "deploy",
            "web",
            "-o",
            "jsonpath={range .spec.template.spec.containers[*]}{.name}={.image} {end}",
        ]);
        assert_eq!(containers.trim(), "sidecar=envoy a=nginx:2", "kubectl {version}");
    }
}

/// The documents themselves: content negotiation, the merge keys and kinds they carry, and
/// the caching answers (ETag and 304, the v3 hash and its redirect).
#[tokio::test]
async fn openapi_documents_negotiate_and_cache() {
    let c = Cluster::start().await.unwrap();
    Kubectl::new(&c.kubeconfig()).ok_stdin(&["apply", "-f", "-"], WIDGET_CRD);
    let client = c.raw_client().await.unwrap();
    let get = |path: &str, headers: Vec<(&'static str, String)>| {
        let (client, path) = (client.clone(), path.to_string());
        async move {
            let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
            nestor_testkit::raw(&client, "GET", &path, &headers, Default::default()).await.unwrap()
        }
    };
    let v2 = get("/openapi/v2", vec![]).await;
    assert_eq!(v2.status, 200);
    assert_eq!(v2.headers["content-type"], "application/json");
    let doc = v2.json();
    assert_eq!(doc["swagger"], "2.0");
    let containers = &doc["definitions"]["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"];
    assert_eq!(containers["x-kubernetes-patch-merge-key"], "name", "{containers}");
    assert_eq!(containers["x-kubernetes-patch-strategy"], "merge");
    assert_eq!(containers["items"]["$ref"], "#/definitions/io.k8s.api.core.v1.Container");
    assert_eq!(
        doc["definitions"]["io.k8s.api.apps.v1.Deployment"]["x-kubernetes-group-version-kind"],
        serde_json::json!([{"group": "apps", "kind": "Deployment", "version": "v1"}])
    );
    assert_eq!(doc["definitions"]["com.example.v1.Widget"]["x-kubernetes-group-version-kind"][0]["kind"], "Widget");
    // Swagger 2.0 has no `nullable`: it is dropped from CRD schemas there.
    let colour = &doc["definitions"]["com.example.v1.Widget"]["properties"]["spec"]["properties"]["colour"];
    assert!(colour.get("nullable").is_none() && colour["type"] == "string", "{colour}");
    let patch = &doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"];
    assert!(patch["parameters"].as_array().unwrap().iter().any(|p| p["name"] == "fieldValidation"), "{patch}");

    let etag = v2.headers["etag"].to_str().unwrap().to_string();
    assert!(etag.starts_with('"') && etag.len() == 130, "{etag}");
    let again = get("/openapi/v2", vec![("If-None-Match", etag)]).await;
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());

    let pb =
        get("/openapi/v2", vec![("Accept", "application/com.github.proto-openapi.spec.v2@v1.0+protobuf".into())]).await;
    assert_eq!(pb.status, 200);
    assert_eq!(pb.headers["content-type"], "application/com.github.proto-openapi.spec.v2.v1.0+protobuf");
    // Field 1 of openapi.v2.Document, `swagger`, comes first.
    assert_eq!(&pb.body[..5], b"\x0a\x032.0");
    let refused = get("/openapi/v2", vec![("Accept", "text/html".into())]).await;
    assert_eq!(refused.status, 406, "{}", refused.text());
    assert_eq!(refused.json()["reason"], "NotAcceptable");

    let index = get("/openapi/v3", vec![]).await.json();
    let url = index["paths"]["apis/apps/v1"]["serverRelativeURL"].as_str().unwrap().to_string();
    assert!(index["paths"]["apis/example.com/v1"]["serverRelativeURL"].is_string(), "{index}");
    let hash = url.split_once("?hash=").unwrap().1.to_string();
    let pinned = get(&url, vec![]).await;
    assert_eq!(pinned.status, 200);
    assert_eq!(pinned.headers["cache-control"], "public, immutable");
    assert_eq!(pinned.headers["etag"].to_str().unwrap(), format!("\"{hash}\""));
    let schemas = &pinned.json()["components"]["schemas"];
    // A described reference is wrapped in allOf in 3.0, where siblings of $ref do not count.
    assert_eq!(
        schemas["io.k8s.api.apps.v1.DeploymentSpec"]["properties"]["template"]["allOf"][0]["$ref"],
        "#/components/schemas/io.k8s.api.core.v1.PodTemplateSpec"
    );
    let stale = get("/openapi/v3/apis/apps/v1?hash=0123", vec![]).await;
    assert_eq!(stale.status, 301);
    assert_eq!(stale.headers["location"].to_str().unwrap(), url);
    assert_eq!(get("/openapi/v3/apis/nosuch.example.com/v1", vec![]).await.status, 404);
}

/// `kubectl auth can-i` as `who` (extra flags after the question); answers its stdout.
fn can_i(k: &Kubectl, question: &[&str]) -> String {
    let mut args = vec!["auth", "can-i"];
    args.extend_from_slice(question);
    k.run(&args, None).stdout.trim().to_string()
}

/// RBAC as kube-apiserver runs it: the bootstrap roles (with `admin`, `edit`, `view` filled
/// by aggregation), bindings granting in their namespace only, `auth can-i [--list]`,
/// `auth whoami`, impersonation, the escalation check, and SubjectAccessReview.
#[tokio::test]
async fn rbac_grants_what_bindings_say_and_answers_reviews() {
    let c = Cluster::start().await.unwrap();
    let admin = Kubectl::version(&c.kubeconfig(), "1.32");
    let alice = Kubectl::version(&c.kubeconfig_for("alice", &["dev"]).unwrap(), "1.32");
    admin.ok(&["create", "namespace", "team"]);
    assert_eq!(can_i(&alice, &["list", "pods", "-n", "team"]), "no");
    let denied = alice.fails(&["get", "pods", "-n", "team"]);
    assert!(
        denied.contains(r#"Error from server (Forbidden): pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "team""#),
        "{denied}"
    );
    admin.ok(&["create", "rolebinding", "alice-view", "-n", "team", "--clusterrole=view", "--user=alice"]);
    eventually(Duration::from_secs(10), "the binding to take effect", || async {
        (can_i(&alice, &["list", "pods", "-n", "team"]) == "yes").then_some(())
    })
    .await
    .unwrap();
    assert_eq!(can_i(&alice, &["delete", "pods", "-n", "team"]), "no");
    assert_eq!(can_i(&alice, &["list", "pods", "-n", "default"]), "no");
    assert_eq!(alice.ok(&["get", "pods", "-n", "team"]).trim(), "", "an empty list, no error");
    let list = alice.ok(&["auth", "can-i", "--list", "-n", "team"]);
    assert!(rows(&list).iter().any(|r| r == &["pods", "[]", "[]", "[get", "list", "watch]"]), "{list}");
    assert!(
        rows(&list).iter().any(|r| r == &["selfsubjectaccessreviews.authorization.k8s.io", "[]", "[]", "[create]"]),
        "{list}"
    );

    for whoami in [alice.ok(&["auth", "whoami"]), admin.ok(&["auth", "whoami", "--as", "alice", "--as-group", "dev"])] {
        assert_eq!(
            rows(&whoami),
            [vec!["Username", "alice"], vec!["Groups", "[dev", "system:authenticated]"]],
            "{whoami}"
        );
    }
    assert_eq!(can_i(&admin, &["list", "pods", "-n", "team", "--as", "alice"]), "yes");
    assert_eq!(can_i(&admin, &["list", "pods", "-n", "team", "--as", "bob"]), "no");
    let impersonating = alice.fails(&["get", "pods", "-n", "team", "--as", "bob"]);
    assert!(
        impersonating.contains(r#"users "bob" is forbidden: User "alice" cannot impersonate resource "users" in API group "" at the cluster scope"#),
        "{impersonating}"
    );

    // The escalation check: alice, admin of the namespace, grants only what she holds.
    admin.ok(&["create", "rolebinding", "alice-admin", "-n", "team", "--clusterrole=admin", "--user=alice"]);
    eventually(Duration::from_secs(10), "admin in team", || async {
        (can_i(&alice, &["create", "roles", "-n", "team"]) == "yes").then_some(())
    })
    .await
    .unwrap();
    alice.ok(&["create", "role", "secret-reader", "-n", "team", "--verb=get", "--resource=secrets"]);
    let escalating = alice.fails(&["create", "role", "node-reader", "-n", "team", "--verb=get", "--resource=nodes"]);
    assert!(
        escalating.contains("roles.rbac.authorization.k8s.io \"node-reader\" is forbidden: user \"alice\" (groups=[\"dev\" \"system:authenticated\"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[\"\"], Resources:[\"nodes\"], Verbs:[\"get\"]}"),
        "{escalating}"
    );
    let binding =
        alice.fails(&["create", "rolebinding", "boss", "-n", "team", "--clusterrole=cluster-admin", "--user=alice"]);
    assert!(binding.contains(r#"rolebindings.rbac.authorization.k8s.io "boss" is forbidden"#), "{binding}");
    assert!(
        admin.run(&["get", "role", "node-reader", "-n", "team"], None).stderr.contains("NotFound"),
        "nothing stored"
    );
    assert!(
        admin.run(&["get", "rolebinding", "boss", "-n", "team"], None).stderr.contains("NotFound"),
        "nothing stored"
    );

    // Aggregation: a ClusterRole labelled for `view` adds its rules to `view`.
    let widget_viewer = "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: widget-viewer, labels: {rbac.authorization.k8s.io/aggregate-to-view: \"true\"}}\nrules:\n- {apiGroups: [example.com], resources: [widgets], verbs: [get, list]}\n";
    admin.ok_stdin(&["apply", "-f", "-"], widget_viewer);
    eventually(Duration::from_secs(10), "view to gather widgets", || async {
        let view = admin.ok(&["get", "clusterrole", "view", "-o", "json"]);
        view.contains("widgets").then_some(())
    })
    .await
    .unwrap();
    let review = r#"{"apiVersion":"authorization.k8s.io/v1","kind":"SubjectAccessReview","spec":{"user":"alice","resourceAttributes":{"namespace":"team","verb":"list","group":"example.com","resource":"widgets"}}}"#;
    let answer = c.raw("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", None, review).await.unwrap();
    assert_eq!(answer.status, 201, "{}", answer.text());
    assert_eq!(answer.json()["status"]["allowed"], true);
    // `view` is gathered into `edit`, and `edit` into `admin`: the first binding (by name) allows.
    assert_eq!(
        answer.json()["status"]["reason"],
        r#"RBAC: allowed by RoleBinding "team/alice-admin" of ClusterRole "admin" to User "alice""#
    );
    let nobody = r#"{"apiVersion":"authorization.k8s.io/v1","kind":"SubjectAccessReview","spec":{"resourceAttributes":{"verb":"list","resource":"pods"}}}"#;
    let refused = c.raw("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", None, nobody).await.unwrap();
    assert_eq!(refused.status, 422, "{}", refused.text());
}

/// Service accounts as a pod meets them: its spec gets the projected token volume, a token
/// from `kubectl create token` (bound to the pod) authenticates as the service account and is
/// allowed exactly what its RoleBinding allows, and it stops working when the pod is gone.
#[tokio::test]
async fn service_account_tokens_act_as_their_account() {
    let c = Cluster::start().await.unwrap();
    let admin = Kubectl::version(&c.kubeconfig(), "1.32");
    admin.ok(&["create", "serviceaccount", "robot"]);
    admin.ok(&["create", "rolebinding", "robot-view", "--clusterrole=view", "--serviceaccount=default:robot"]);
    admin.ok(&["run", "worker", "--image=busybox", "--overrides", r#"{"spec":{"serviceAccountName":"robot"}}"#]);
    let volumes = admin.ok(&[
        "get",
        "pod",
        "worker",
        "-o",
        "jsonpath={.spec.volumes[0].name} {.spec.containers[0].volumeMounts[0].mountPath}",
    ]);
    assert!(
        volumes.starts_with("kube-api-access-") && volumes.ends_with(" /var/run/secrets/kubernetes.io/serviceaccount"),
        "{volumes}"
    );

    let token = admin.ok(&["create", "token", "robot", "--bound-object-kind", "Pod", "--bound-object-name", "worker"]);
    let robot = Kubectl::version(&c.kubeconfig_with_token("robot", token.trim()).unwrap(), "1.32");
    let whoami = robot.ok(&["auth", "whoami"]);
    assert!(
        rows(&whoami).contains(&vec!["Username".to_string(), "system:serviceaccount:default:robot".to_string()]),
        "{whoami}"
    );
    assert!(robot.ok(&["get", "pods"]).contains("worker"));
    let denied = robot.fails(&["delete", "pod", "worker"]);
    assert!(
        denied.contains(r#"pods "worker" is forbidden: User "system:serviceaccount:default:robot" cannot delete resource "pods" in API group "" in the namespace "default""#),
        "{denied}"
    );
    assert_eq!(can_i(&robot, &["list", "secrets"]), "no");
    let issuer = robot.ok(&["get", "--raw", "/.well-known/openid-configuration"]);
    assert!(issuer.contains(r#""issuer":"https://kubernetes.default.svc.cluster.local""#), "{issuer}");

    admin.ok(&["delete", "pod", "worker", "--grace-period=0", "--force"]);
    eventually(Duration::from_secs(20), "the pod's token to stop working", || async {
        let out = robot.run(&["get", "pods"], None);
        (!out.success && out.stderr.contains("Unauthorized")).then_some(())
    })
    .await
    .unwrap();
}

/// The managers of an object and what each owns, as `kubectl get --show-managed-fields` shows.
fn managed_fields(k: &Kubectl, what: &[&str]) -> serde_json::Value {
    let mut args = vec!["get"];
    args.extend_from_slice(what);
    args.extend_from_slice(&["-o", "json", "--show-managed-fields"]);
    let obj: serde_json::Value = serde_json::from_str(&k.ok(&args)).unwrap();
    obj["metadata"]["managedFields"].clone()
}

fn entry<'a>(fields: &'a serde_json::Value, manager: &str, operation: &str) -> Option<&'a serde_json::Value> {
    fields.as_array()?.iter().find(|e| e["manager"] == manager && e["operation"] == operation)
}

/// Server-side apply with the real kubectl: create, change, a conflict with another manager
/// (kube's message), `--force-conflicts`, removal of what the applier dropped, the move from
/// client-side apply, and bad apply requests.
#[tokio::test]
async fn server_side_apply_tracks_managers_and_conflicts() {
    let c = Cluster::start().await.unwrap();
    for (n, version) in ["1.29", "1.32"].into_iter().enumerate() {
        let k = Kubectl::version(&c.kubeconfig(), version);
        let ns = format!("ssa-{n}");
        k.ok(&["create", "namespace", &ns]);
        let deployment = |replicas: u32, image: &str, label: &str| {
            format!("apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web, namespace: {ns}, labels: {{{label}}}}}\nspec:\n  replicas: {replicas}\n  selector: {{matchLabels: {{app: web}}}}\n  template:\n    metadata: {{labels: {{app: web}}}}\n    spec:\n      containers:\n      - {{name: web, image: \"{image}\"}}\n")
        };
        let out =
            k.ok_stdin(&["apply", "--server-side", "-f", "-"], &deployment(2, "nginx:1", "app: web, tier: front"));
        assert_eq!(out.trim(), "deployment.apps/web serverside-applied", "kubectl {version}");
        let fields = managed_fields(&k, &["deploy", "web", "-n", &ns]);
        let applied = entry(&fields, "kubectl", "Apply").unwrap_or_else(|| panic!("{fields}"));
        assert_eq!(applied["fieldsV1"]["f:spec"]["f:replicas"], serde_json::json!({}));
        assert_eq!(
            applied["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"web\"}"],
            serde_json::json!({".": {}, "f:image": {}, "f:name": {}})
        );

        k.ok_stdin(&["apply", "--server-side", "-f", "-"], &deployment(2, "nginx:2", "app: web, tier: front"));
        assert_eq!(
            k.ok(&["get", "deploy", "web", "-n", &ns, "-o", "jsonpath={.spec.template.spec.containers[0].image}"]),
            "nginx:2"
        );

        // Another manager changes replicas; applying another value conflicts with it.
        k.ok(&["patch", "deploy", "web", "-n", &ns, "--field-manager=ops", "-p", r#"{"spec":{"replicas":5}}"#]);
        let conflict =
            k.run(&["apply", "--server-side", "-f", "-"], Some(&deployment(3, "nginx:2", "app: web, tier: front")));
        assert!(!conflict.success, "kubectl {version}");
        assert!(
            conflict.stderr.contains(r#"Apply failed with 1 conflict: conflict with "ops" using apps/v1 at "#),
            "{}",
            conflict.stderr
        );
        assert!(conflict.stderr.contains(": .spec.replicas\n"), "{}", conflict.stderr);
        assert_eq!(
            k.ok(&["get", "deploy", "web", "-n", &ns, "-o", "jsonpath={.spec.replicas}"]),
            "5",
            "nothing changed"
        );
        // The same value as the other manager's is shared, not a conflict.
        k.ok_stdin(&["apply", "--server-side", "-f", "-"], &deployment(5, "nginx:2", "app: web, tier: front"));
        k.ok_stdin(
            &["apply", "--server-side", "--force-conflicts", "-f", "-"],
            &deployment(3, "nginx:2", "app: web, tier: front"),
        );
        assert_eq!(k.ok(&["get", "deploy", "web", "-n", &ns, "-o", "jsonpath={.spec.replicas}"]), "3");
        let fields = managed_fields(&k, &["deploy", "web", "-n", &ns]);
        let ops_owns = entry(&fields, "ops", "Update").map(|e| e["fieldsV1"]["f:spec"]["f:replicas"].is_object());
        assert_ne!(ops_owns, Some(true), "force took replicas from ops: {fields}");

        // A label the applier drops, and nobody else holds, goes.
        k.ok_stdin(&["apply", "--server-side", "-f", "-"], &deployment(3, "nginx:2", "app: web"));
        assert_eq!(k.ok(&["get", "deploy", "web", "-n", &ns, "-o", "jsonpath={.metadata.labels}"]), r#"{"app":"web"}"#);

        // From client-side apply to server-side apply: kubectl hands the fields over.
        let cm = |color: &str| {
            format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: settings, namespace: {ns}}}\ndata: {{color: {color}}}\n")
        };
        k.ok_stdin(&["apply", "-f", "-"], &cm("blue"));
        k.ok_stdin(&["apply", "--server-side", "-f", "-"], &cm("blue"));
        let fields = managed_fields(&k, &["configmap", "settings", "-n", &ns]);
        assert!(entry(&fields, "kubectl-client-side-apply", "Update").is_none(), "{fields}");
        assert!(
            entry(&fields, "kubectl", "Apply").is_some_and(|e| e["fieldsV1"]["f:data"]["f:color"].is_object()),
            "{fields}"
        );
        k.ok_stdin(&["apply", "--server-side", "-f", "-"], &cm("red"));
        assert_eq!(k.ok(&["get", "configmap", "settings", "-n", &ns, "-o", "jsonpath={.data.color}"]), "red");
    }

    // Apply on the status subresource: the manager owns status fields only, recorded with
    // the subresource.
    let status_path = "/apis/apps/v1/namespaces/ssa-1/deployments/web/status?fieldManager=status-writer";
    let status =
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nstatus: {observedGeneration: 9, replicas: 7}\n";
    let applied = c.raw("PATCH", status_path, Some("application/apply-patch+yaml"), status).await.unwrap();
    assert_eq!(applied.status, 200, "{}", applied.text());
    assert_eq!(applied.json()["status"]["replicas"], 7);
    let entries = applied.json()["metadata"]["managedFields"].clone();
    let writer = entries.as_array().unwrap().iter().find(|e| e["manager"] == "status-writer").unwrap().clone();
    assert_eq!(writer["subresource"], "status", "{writer}");
    assert_eq!(writer["fieldsV1"], serde_json::json!({"f:status": {"f:observedGeneration": {}, "f:replicas": {}}}));

    // Bad apply requests.
    let path = "/api/v1/namespaces/default/configmaps/x";
    let apply = Some("application/apply-patch+yaml");
    let body = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {a: b}\n";
    let no_manager = c.raw("PATCH", path, apply, body).await.unwrap();
    assert_eq!(no_manager.status, 422, "{}", no_manager.text());
    assert!(no_manager.json()["message"]
        .as_str()
        .unwrap()
        .contains("fieldManager: Required value: is required for apply patch"));
    let forced = c
        .raw("PATCH", &format!("{path}?fieldManager=m&force=true"), Some("application/merge-patch+json"), "{}")
        .await
        .unwrap();
    assert_eq!(forced.status, 422, "{}", forced.text());
    let with_fields = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, managedFields: [{manager: m}]}\n";
    let sent_fields = c.raw("PATCH", &format!("{path}?fieldManager=m"), apply, with_fields).await.unwrap();
    assert_eq!(sent_fields.status, 400, "{}", sent_fields.text());
    let malformed = c.raw("PATCH", &format!("{path}?fieldManager=m"), apply, "data: [unclosed").await.unwrap();
    assert_eq!(malformed.status, 400, "{}", malformed.text());
    assert_eq!(c.raw("GET", path, None, "").await.unwrap().status, 404, "nothing stored");
}

/// Pod Security admission: a `restricted` namespace refuses a privileged pod with kube's
/// message and admits a compliant one, `warn` prints kube's warning, and a workload's pod
/// template is only warned about.
#[tokio::test]
async fn pod_security_levels_refuse_and_warn() {
    let c = Cluster::start().await.unwrap();
    let k = Kubectl::version(&c.kubeconfig(), "1.32");
    k.ok(&["create", "namespace", "locked"]);
    k.ok(&["label", "namespace", "locked", "pod-security.kubernetes.io/enforce=restricted"]);
    let privileged = "apiVersion: v1\nkind: Pod\nmetadata: {name: root, namespace: locked}\nspec:\n  containers:\n  - {name: app, image: busybox, securityContext: {privileged: true}}\n";
    let refused = eventually(Duration::from_secs(10), "the namespace's level to apply", || async {
        let out = k.run(&["create", "-f", "-"], Some(privileged));
        (!out.success).then_some(out.stderr)
    })
    .await
    .unwrap();
    assert!(
        refused.contains(r#"Error from server (Forbidden): error when creating "STDIN": pods "root" is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false (container "app" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container "app" must set securityContext.capabilities.drop=["ALL"]), privileged (container "app" must not set securityContext.privileged=true), runAsNonRoot != true (pod or container "app" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container "app" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")"#),
        "{refused}"
    );
    assert!(k.run(&["get", "pod", "root", "-n", "locked"], None).stderr.contains("NotFound"), "nothing stored");
    let compliant = "apiVersion: v1\nkind: Pod\nmetadata: {name: app, namespace: locked}\nspec:\n  securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}\n  containers:\n  - name: app\n    image: busybox\n    securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}\n";
    assert_eq!(k.ok_stdin(&["create", "-f", "-"], compliant).trim(), "pod/app created");
    let deployment = k.run(&["create", "deployment", "web", "-n", "locked", "--image=nginx"], None);
    assert!(deployment.success, "{}", deployment.stderr);
    assert!(
        deployment
            .stderr
            .contains(r#"Warning: would violate PodSecurity "restricted:latest": allowPrivilegeEscalation != false"#),
        "{}",
        deployment.stderr
    );

    k.ok(&["create", "namespace", "loose"]);
    k.ok(&["label", "namespace", "loose", "pod-security.kubernetes.io/warn=baseline"]);
    let host = "apiVersion: v1\nkind: Pod\nmetadata: {name: host, namespace: loose}\nspec:\n  hostNetwork: true\n  containers:\n  - {name: app, image: busybox}\n";
    let warned = eventually(Duration::from_secs(10), "the warn level to apply", || async {
        let out = k.run(&["create", "-f", "-"], Some(host));
        assert!(out.success, "{}", out.stderr);
        if out.stderr.contains("Warning") {
            return Some(out.stderr);
        }
        k.ok(&["delete", "pod", "host", "-n", "loose", "--grace-period=0", "--force"]);
        None
    })
    .await
    .unwrap();
    assert!(
        warned.contains(r#"Warning: would violate PodSecurity "baseline:latest": host namespaces (hostNetwork)"#),
        "{warned}"
    );
}

/// ResourceQuota: usage kept in `status.used`, kube's 403 when a create would exceed it or a
/// pod does not name what the quota limits, and usage given back when a pod goes.
#[tokio::test]
async fn resource_quota_counts_refuses_and_gives_back() {
    let c = Cluster::start().await.unwrap();
    let k = Kubectl::version(&c.kubeconfig(), "1.32");
    k.ok(&["create", "namespace", "q"]);
    k.ok(&["create", "quota", "compute", "-n", "q", "--hard=pods=2,requests.cpu=1"]);
    let used = |k: &Kubectl| k.ok(&["get", "quota", "compute", "-n", "q", "-o", "jsonpath={.status.used}"]);
    eventually(Duration::from_secs(10), "the quota's status", || async {
        (used(&k) == r#"{"pods":"0","requests.cpu":"0"}"#).then_some(())
    })
    .await
    .unwrap();
    let pod = |name: &str, cpu: Option<&str>| {
        let resources = cpu.map(|c| format!(", resources: {{requests: {{cpu: {c}}}}}")).unwrap_or_default();
        format!("apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: q}}\nspec:\n  containers:\n  - {{name: app, image: busybox{resources}}}\n")
    };
    k.ok_stdin(&["create", "-f", "-"], &pod("a", Some("300m")));
    k.ok_stdin(&["create", "-f", "-"], &pod("b", Some("300m")));
    assert_eq!(used(&k), r#"{"pods":"2","requests.cpu":"600m"}"#);
    let exceeded = k.run(&["create", "-f", "-"], Some(&pod("c", Some("300m"))));
    assert!(
        exceeded.stderr.contains(r#"Error from server (Forbidden): error when creating "STDIN": pods "c" is forbidden: exceeded quota: compute, requested: pods=1, used: pods=2, limited: pods=2"#),
        "{}",
        exceeded.stderr
    );
    let unnamed = k.run(&["create", "-f", "-"], Some(&pod("d", None)));
    assert!(
        unnamed.stderr.contains(r#"pods "d" is forbidden: failed quota: compute: must specify requests.cpu for: app"#),
        "{}",
        unnamed.stderr
    );
    k.ok(&["delete", "pod", "a", "-n", "q", "--grace-period=0", "--force"]);
    eventually(Duration::from_secs(10), "the deleted pod's usage to come back", || async {
        (used(&k) == r#"{"pods":"1","requests.cpu":"300m"}"#).then_some(())
    })
    .await
    .unwrap();
    assert_eq!(k.ok_stdin(&["create", "-f", "-"], &pod("c", Some("300m"))).trim(), "pod/c created");
    let describe = k.ok(&["describe", "quota", "compute", "-n", "q"]);
    assert!(rows(&describe).iter().any(|r| r == &["pods", "2", "2"]), "{describe}");
}

/// The everyday inspection commands: `describe` (its sections and the object's events),
/// `diff` against the server's dry run, `edit` through a scripted editor, and `top` answered
/// as kube answers it without a metrics server.
#[tokio::test]
async fn describe_diff_edit_and_top() {
    let c = Cluster::start().await.unwrap();
    let k = Kubectl::version(&c.kubeconfig(), "1.32");
    let manifest = |replicas: u32| {
        format!("apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web}}\nspec:\n  replicas: {replicas}\n  selector: {{matchLabels: {{app: web}}}}\n  template:\n    metadata: {{labels: {{app: web}}}}\n    spec:\n      containers:\n      - {{name: web, image: nginx}}\n")
    };
    k.ok_stdin(&["apply", "-f", "-"], &manifest(1));
    k.ok(&["expose", "deployment", "web", "--port=80"]);
    k.ok(&["run", "solo", "--image=busybox"]);
    let deployment = k.ok(&["describe", "deployment", "web"]);
    for section in [
        "Name:                   web",
        "Selector:               app=web",
        "Replicas:",
        "StrategyType:           RollingUpdate",
        "Pod Template:",
        "Events:",
    ] {
        assert!(deployment.contains(section), "{section:?} missing:\n{deployment}");
    }
    let service = k.ok(&["describe", "service", "web"]);
    assert!(
        service.contains("Type:                     ClusterIP")
            && service.contains("Port:                     <unset>  80/TCP"),
        "{service}"
    );
    let pod = k.ok(&["describe", "pod", "solo"]);
    assert!(pod.contains("Containers:\n  solo:"), "{pod}");
    assert!(pod.lines().any(|l| l.split_whitespace().eq(["Image:", "busybox"])), "{pod}");
    assert!(pod.contains("kube-api-access-") && pod.contains("TokenExpirationSeconds:  3607"), "{pod}");
    assert!(k.ok(&["describe", "namespace", "default"]).contains("Status:       Active"));

    // diff exits 1 and shows the change; nothing is changed on the server.
    let diff = k.run(&["diff", "-f", "-"], Some(&manifest(3)));
    assert!(!diff.success, "diff exits 1 when something differs: {}", diff.stderr);
    assert!(diff.stdout.contains("-  replicas: 1") && diff.stdout.contains("+  replicas: 3"), "{}", diff.stdout);
    assert_eq!(k.ok(&["get", "deployment", "web", "-o", "jsonpath={.spec.replicas}"]), "1");

    // edit with an editor that raises the replicas.
    let editor = c.dir().join("editor.sh");
    std::fs::write(&editor, "#!/bin/sh\nsed -i 's/^  replicas: 1$/  replicas: 4/' \"$1\"\n").unwrap();
    std::fs::set_permissions(&editor, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let edited = k.clone().with_env("KUBE_EDITOR", editor.to_str().unwrap()).run(&["edit", "deployment", "web"], None);
    assert!(edited.success, "{}", edited.stderr);
    assert_eq!(edited.stdout.trim(), "deployment.apps/web edited");
    assert_eq!(k.ok(&["get", "deployment", "web", "-o", "jsonpath={.spec.replicas}"]), "4");

    let top = k.run(&["top", "pod"], None);
    assert!(!top.success && top.stderr.contains("error: Metrics API not available"), "{}", top.stderr);
}

/// The admission plugins that read other objects: Priority, DefaultStorageClass and
/// LimitRanger, with kube's answers.
#[tokio::test]
async fn admission_plugins_default_and_refuse() {
    let c = Cluster::start().await.unwrap();
    let k = Kubectl::version(&c.kubeconfig(), "1.32");
    let pod = |name: &str, extra: &str| {
        format!("apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}}}\nspec:\n{extra}  containers:\n  - {{name: app, image: busybox}}\n")
    };
    k.ok(&["create", "priorityclass", "high", "--value=1000"]);
    k.ok_stdin(&["create", "-f", "-"], &pod("urgent", "  priorityClassName: high\n"));
    assert_eq!(
        k.ok(&["get", "pod", "urgent", "-o", "jsonpath={.spec.priority} {.spec.preemptionPolicy}"]),
        "1000 PreemptLowerPriority"
    );
    let unknown = k.run(&["create", "-f", "-"], Some(&pod("lost", "  priorityClassName: nope\n")));
    assert!(
        unknown.stderr.contains(r#"pods "lost" is forbidden: no PriorityClass with name nope was found"#),
        "{}",
        unknown.stderr
    );
    k.ok(&["create", "priorityclass", "normal", "--value=10", "--global-default"]);
    k.ok_stdin(&["create", "-f", "-"], &pod("plain", ""));
    assert_eq!(
        k.ok(&["get", "pod", "plain", "-o", "jsonpath={.spec.priorityClassName} {.spec.priority}"]),
        "normal 10"
    );

    let sc = "apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: fast, annotations: {storageclass.kubernetes.io/is-default-class: \"true\"}}\nprovisioner: example.com/fast\n";
    k.ok_stdin(&["create", "-f", "-"], sc);
    let claim = "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: data}\nspec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}\n";
    k.ok_stdin(&["create", "-f", "-"], claim);
    assert_eq!(k.ok(&["get", "pvc", "data", "-o", "jsonpath={.spec.storageClassName}"]), "fast");

    k.ok(&["create", "namespace", "limited"]);
    let range = "apiVersion: v1\nkind: LimitRange\nmetadata: {name: cpu, namespace: limited}\nspec:\n  limits:\n  - {type: Container, default: {cpu: 500m}, defaultRequest: {cpu: 100m}, max: {cpu: \"1\"}}\n";
    k.ok_stdin(&["create", "-f", "-"], range);
    k.ok(&["run", "small", "-n", "limited", "--image=busybox"]);
    assert_eq!(
        k.ok(&["get", "pod", "small", "-n", "limited", "-o", "jsonpath={.spec.containers[0].resources}"]),
        r#"{"limits":{"cpu":"500m"},"requests":{"cpu":"100m"}}"#
    );
    let big = k.run(
        &[
            "run",
            "big",
            "-n",
            "limited",
            "--image=busybox",
            "--overrides",
            r#"{"spec":{"containers":[{"name":"big","image":"busybox","resources":{"limits":{"cpu":"2"}}}]}}"#,
        ],
        None,
    );
    assert!(
        big.stderr.contains(r#"pods "big" is forbidden: maximum cpu usage per Container is 1, but limit is 2"#),
        "{}",
        big.stderr
    );
}
