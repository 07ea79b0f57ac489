#!/usr/bin/env python3
"""Writes the protobuf wire schema of the Kubernetes API types nestor-apiserver decodes.

Sources (both Apache-2.0 crates from crates.io, found in the local cargo registry):
  * k8s-pb: prost types generated from Kubernetes' generated.proto files. Gives messages,
    field numbers, wire types and the `+optional` markers of the doc comments.
  * k8s-openapi (v1_35 module, the Kubernetes release k8s-pb 0.9 was built from): gives the JSON names of the fields, the definition
    (Go type) names, which fields the OpenAPI schema marks required, and which Go fields are
    embedded inline (they appear flattened in k8s-openapi but as a sub-message in protobuf).
Plus gen/pointers.txt: which Go fields are pointers (from the types' deep-copy functions).

Usage (from crates/apiserver): python3 proto/gen/gen.py proto
Needs the k8s-pb 0.9.0 and k8s-openapi 0.29.0 sources in ~/.cargo/registry (a `cargo fetch`
of a crate depending on them puts them there). Prints what it had to guess, if anything.
"""
import glob
import os
import re
import sys

REG = glob.glob(os.path.expanduser("~/.cargo/registry/src/*/"))[0]
PB = os.path.join(REG, "k8s-pb-0.9.0/src")
OA = os.path.join(REG, "k8s-openapi-0.29.0/src/v1_35")
HERE = os.path.dirname(os.path.abspath(__file__))

# k8s-pb module directory -> (proto package, import path of its file)
PACKAGES = {
    "apimachinery/pkg/apis/meta/v1": "k8s.io/apimachinery/pkg/apis/meta/v1",
    "apimachinery/pkg/runtime": "k8s.io/apimachinery/pkg/runtime",
    "apimachinery/pkg/util/intstr": "k8s.io/apimachinery/pkg/util/intstr",
    "apimachinery/pkg/api/resource": "k8s.io/apimachinery/pkg/api/resource",
    "apiextensions_apiserver/pkg/apis/apiextensions/v1":
        "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1",
}
for g in ["core/v1", "apps/v1", "batch/v1", "autoscaling/v1", "autoscaling/v2",
          "coordination/v1", "discovery/v1", "events/v1", "networking/v1", "node/v1",
          "policy/v1", "rbac/v1", "scheduling/v1", "storage/v1", "certificates/v1",
          "admissionregistration/v1", "authentication/v1", "authorization/v1",
          "flowcontrol/v1"]:
    PACKAGES["api/" + g] = "k8s.io/api/" + g


def proto_package(mod):
    return "k8s.io." + mod.replace("/", ".")


SCALARS = {"string": "string", "int32": "int32", "int64": "int64", "bool": "bool",
           "double": "double", "bytes": "bytes"}


def norm(name):
    return re.sub(r"[^a-z0-9]", "", name.lower())


def lower_camel(snake):
    parts = snake.split("_")
    return parts[0] + "".join(p[:1].upper() + p[1:] for p in parts[1:])


def resolve(mod, rust_type):
    """Turns a prost type path (relative to module `mod`) into (module, Name)."""
    t = rust_type.replace("::prost::alloc::boxed::Box<", "").rstrip(">").strip().rstrip(",")
    parts = [p for p in t.split("::") if p]
    here = mod.split("/")
    while parts and parts[0] == "super":
        parts.pop(0)
        here.pop()
    return "/".join(here + parts[:-1]), parts[-1]


def parse_pb(mod):
    """Returns {MessageName: [field dict]} in declaration order."""
    src = open(os.path.join(PB, mod, "mod.rs")).read().split("\n")
    messages = {}
    cur = None
    doc = []
    attr = None
    i = 0
    while i < len(src):
        line = src[i].strip()
        i += 1
        m = re.match(r"pub struct (\w+) \{(\})?$", line)
        if m:
            cur = [] if not m.group(2) else None
            messages[m.group(1)] = cur if cur is not None else []
            doc = []
            continue
        if cur is None:
            continue
        if line == "}":
            cur = None
            continue
        if line.startswith("///"):
            doc.append(line)
            continue
        if line.startswith("#[prost("):
            attr = line[len("#[prost("):-2]
            continue
        if line.startswith("pub "):
            decl = line
            depth = decl.count("<") - decl.count(">")
            while depth > 0 or not decl.endswith(","):
                nxt = src[i].strip()
                i += 1
                decl += nxt
                depth = decl.count("<") - decl.count(">")
            name, ty = decl[4:-1].split(":", 1)
            name = name.strip().replace("r#", "")
            tag = int(re.search(r'tag = "(\d+)"', attr).group(1))
            kind = attr.split(",")[0].strip()
            f = {"rust": name, "tag": tag, "optional_doc": any("+optional" in d for d in doc)}
            if kind.startswith("btree_map"):
                kt, vt = re.search(r'btree_map = "(\w+), (\w+)"', attr).groups()
                f["label"] = "map"
                f["key"] = kt
                if vt == "message":
                    inner = ty.split("String,", 1)[1].strip().rstrip(">").rstrip(",").strip()
                    f["type"] = ("msg",) + resolve(mod, inner)
                else:
                    f["type"] = ("scalar", vt)
            else:
                label = "repeated" if ", repeated" in attr else "optional"
                f["label"] = label
                if kind == "message":
                    inner = re.search(r"(?:Option|Vec)<(.*)>$", ty.strip()).group(1)
                    f["type"] = ("msg",) + resolve(mod, inner)
                else:
                    scalar = kind.split(" ")[0]
                    f["type"] = ("scalar", SCALARS[scalar])
            cur.append(f)
            doc = []
            attr = None
    return messages


def parse_openapi():
    """Returns {(module, lowercased name): (DefinitionName, {norm(json): (json, required)})}."""
    out = {}
    for path in glob.glob(os.path.join(OA, "**/*.rs"), recursive=True):
        text = open(path).read()
        m = re.match(r"// Generated from definition ([\w.\-]+)", text)
        if not m:
            continue
        full = m.group(1)
        pkg, name = full.rsplit(".", 1)
        mod = pkg.replace("io.k8s.", "", 1).replace("apiextensions-apiserver", "apiextensions_apiserver").replace(".", "/")
        keys = dict(re.findall(r'"([^"]+)" => Field::Key_(\w+),', text))
        if not keys:
            # A type with its own JSON form (Quantity, Time, JSON...): only its name is used.
            out[(mod, name.lower())] = (name, None)
            continue
        body = re.search(r"pub struct \w+ \{(.*?)\n\}", text, re.S)
        required = set()
        if body:
            for rust, ty in re.findall(r"\n    pub (\w+): ([^\n]+),", body.group(1)):
                if not ty.startswith("Option<"):
                    required.add(rust.replace("r#", ""))
        fields = {}
        for js, rust in keys.items():
            fields[norm(js)] = (js, rust in required)
        out[(mod, name.lower())] = (name, fields)
    return out


def parse_pointers():
    """pointers.txt: `package Message: Field Field ...` (Go field names, any case)."""
    ptr = {}
    pkg = None
    for line in open(os.path.join(HERE, "pointers.txt")):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("["):
            pkg = line.strip("[]")
            continue
        msg, fields = line.split(":", 1)
        ptr.setdefault((pkg, msg.strip()), set()).update(norm(f) for f in fields.split())
    return ptr


def covered(pbs, mod, name, keys):
    """True when every field of message mod.name shows up among the parent's JSON keys,
    directly or through a further inline message: the Go field is `json:",inline"`."""
    sub = pbs[mod][name]
    if not sub:
        return False
    for s in sub:
        if norm(s["rust"]) in keys:
            continue
        if s["type"][0] == "msg" and covered(pbs, s["type"][1], s["type"][2], keys):
            continue
        return False
    return True


def main(out_dir):
    oa = parse_openapi()
    ptrs = parse_pointers()
    pbs = {mod: parse_pb(mod) for mod in PACKAGES}
    used_ptrs = set()
    # Proto message names: the Go type name (k8s-openapi's definition name) where known.
    names = {}
    for mod, msgs in pbs.items():
        for rname in msgs:
            hit = oa.get((mod, rname.lower()))
            names[(mod, rname)] = hit[0] if hit else rname
    report = []
    for mod, msgs in pbs.items():
        pkg = proto_package(mod)
        imports = set()
        body = []
        for rname, fields in msgs.items():
            mname = names[(mod, rname)]
            hit = oa.get((mod, rname.lower()))
            oafields = hit[1] if hit else None
            body.append(f"message {mname} {{")
            for f in fields:
                opts = []
                key = norm(f["rust"])
                if f["type"][0] == "msg":
                    tmod, tname = f["type"][1], f["type"][2]
                    if tmod != mod:
                        if tmod not in PACKAGES:
                            sys.exit(f"{mod}.{rname}.{f['rust']}: type in unknown module {tmod}")
                        imports.add(PACKAGES[tmod])
                    tyname = "." + proto_package(tmod) + "." + names[(tmod, tname)]
                else:
                    tyname = f["type"][1]
                jname = None
                required = False
                inline = False
                if oafields is not None:
                    if key in oafields:
                        jname, required = oafields[key]
                    elif f["type"][0] == "msg":
                        inline = covered(pbs, f["type"][1], f["type"][2], oafields)
                    if jname is None and not inline:
                        report.append(f"not in openapi: {pkg}.{mname}.{f['rust']}")
                if jname is None:
                    jname = lower_camel(f["rust"])
                if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", jname):
                    fname = jname
                else:
                    fname = lower_camel(f["rust"])
                    opts.append(f'json_name = "{jname}"')
                if inline:
                    opts.append("(nestor.inline) = true")
                if f["label"] == "optional" and f["type"][0] == "scalar":
                    pointer = key in ptrs.get((pkg, mname), set())
                    if pointer:
                        used_ptrs.add((pkg, mname, key))
                    # k8s-openapi marks some omitempty fields required (they have a default);
                    # the `+optional` marker is the better sign of omitempty then.
                    if pointer or (required and not f["optional_doc"]):
                        opts.append("(nestor.keep_zero) = true")
                o = f" [{', '.join(opts)}]" if opts else ""
                if f["label"] == "map":
                    body.append(f"  map<{f['key']}, {tyname}> {fname} = {f['tag']}{o};")
                else:
                    body.append(f"  {f['label']} {tyname} {fname} = {f['tag']}{o};")
            body.append("}")
            body.append("")
        path = os.path.join(out_dir, PACKAGES[mod], "generated.proto")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as fh:
            fh.write(HEADER)
            fh.write('syntax = "proto2";\n\n')
            fh.write(f"package {pkg};\n\n")
            uses_options = any("(nestor." in line for line in body)
            for imp in sorted(imports) + (["nestor"] if uses_options else []):
                if imp == "nestor":
                    fh.write('import "nestor/options.proto";\n')
                else:
                    fh.write(f'import "{imp}/generated.proto";\n')
            fh.write("\n")
            fh.write("\n".join(body).rstrip() + "\n")
    for (pkg, msg), fs in sorted(ptrs.items()):
        for f in sorted(fs):
            if (pkg, msg, f) not in used_ptrs:
                report.append(f"pointer entry not applied (not a scalar or unknown): {pkg}.{msg}.{f}")
    for line in report:
        print(line)


HEADER = """\
// Wire schema of Kubernetes API types, as the Kubernetes project publishes them in its
// generated.proto files (Copyright The Kubernetes Authors, Apache License 2.0). This copy
// keeps the messages, field names and numbers only, and adds nestor options that carry the
// Go JSON encoding facts the decoder needs. Generated: do not edit by hand.

"""

if __name__ == "__main__":
    main(sys.argv[1])
