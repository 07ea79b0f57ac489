#!/usr/bin/env bash
# Installs what building, running and testing Nestor need, when it is missing:
# etcd (server and etcdctl), protoc with the well-known protos (etcd-client and our
# vendored Kubernetes protos), and h2load for benchmarks.
set -euo pipefail
missing=()
command -v etcd >/dev/null || missing+=(etcd-server)
command -v etcdctl >/dev/null || missing+=(etcd-client)
command -v protoc >/dev/null || missing+=(protobuf-compiler)
[ -f /usr/include/google/protobuf/timestamp.proto ] || missing+=(libprotobuf-dev)
command -v h2load >/dev/null || missing+=(nghttp2-client)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
command -v kubectl >/dev/null || echo "warning: kubectl is not installed; the e2e tests need it" >&2
