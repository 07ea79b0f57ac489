#!/usr/bin/env bash
# Installs what building, running and testing Nestor need, when it is missing:
# etcd (server and etcdctl), protoc with the well-known protos (etcd-client and our
# vendored Kubernetes protos), h2load for benchmarks, and the client matrix's Python and
# JavaScript clients.
set -euo pipefail
missing=()
command -v etcd >/dev/null || missing+=(etcd-server)
command -v etcdctl >/dev/null || missing+=(etcd-client)
command -v protoc >/dev/null || missing+=(protobuf-compiler)
[ -f /usr/include/google/protobuf/timestamp.proto ] || missing+=(libprotobuf-dev)
command -v h2load >/dev/null || missing+=(nghttp2-client)
command -v node >/dev/null || missing+=(nodejs npm)
python3 -c "import venv, ensurepip" 2>/dev/null || missing+=(python3-venv)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
command -v kubectl >/dev/null || echo "warning: kubectl is not installed; the e2e tests need it" >&2
# The published clients of the client matrix (e2e/tests/clients.rs), at the versions pinned
# in e2e/clients: the Python `kubernetes` client from PyPI, @kubernetes/client-node from npm.
clients="$(dirname "$0")/../e2e/clients"
if [ ! -x "$clients/.venv/bin/python" ] || ! "$clients/.venv/bin/python" -c "import kubernetes" 2>/dev/null; then
  python3 -m venv "$clients/.venv"
  "$clients/.venv/bin/pip" install --quiet --disable-pip-version-check -r "$clients/requirements.txt"
fi
[ -d "$clients/node_modules/@kubernetes/client-node" ] || (cd "$clients" && npm ci --no-audit --no-fund --silent)
