#!/usr/bin/env bash
# `make run`: the embedded super cluster in .nestor/, two tenants (blue and green) with a
# deployment and a service each, then wait for Ctrl-C and stop everything.
# KUBECTL_VC names the kubectl-vc binary (make passes the one it built).
set -euo pipefail

VC="${KUBECTL_VC:-kubectl-vc}"
DIR="${NESTOR_STATE_DIR:-.nestor}"
PORT="${NESTOR_PORT:-6443}"

SLEEP=""
stop() {
  local code=$1
  trap - INT TERM EXIT
  if [ -n "$SLEEP" ]; then kill "$SLEEP" 2>/dev/null || true; fi
  echo
  "$VC" down --state-dir "$DIR" || true
  # A trap handler returns to where the signal came: leave instead of waiting again.
  exit "$code"
}
# Ctrl-C is how it ends (0); an error on the way keeps its status.
trap 'stop 0' INT TERM
trap 'stop $?' EXIT

"$VC" up --state-dir "$DIR" --port "$PORT"
echo

for tenant in blue green; do
  kept=""
  if "$VC" list --state-dir "$DIR" 2>/dev/null | grep -q "^$tenant "; then
    kept=yes
  else
    "$VC" create "$tenant" --wait --state-dir "$DIR"
  fi
  "$VC" kubeconfig "$tenant" --state-dir "$DIR" > "$DIR/$tenant.kubeconfig"
  if [ -n "$kept" ]; then
    # Kept from an earlier run: its status still says Running while the manager starts its
    # processes again, so ask its API server itself.
    for _ in $(seq 60); do
      kubectl --kubeconfig "$DIR/$tenant.kubeconfig" get --raw /readyz >/dev/null 2>&1 && break
      sleep 1
    done
    echo "$tenant: kept from an earlier run"
  fi
  k() { kubectl --kubeconfig "$DIR/$tenant.kubeconfig" "$@"; }
  k create namespace demo --dry-run=client -o yaml | k apply -f - >/dev/null
  k -n demo create deployment web --image=nginx --replicas=2 --dry-run=client -o yaml | k apply -f - >/dev/null
  k -n demo create service clusterip web --tcp=80:80 --dry-run=client -o yaml | k apply -f - >/dev/null
  echo "$tenant: namespace demo, deployment web (2 replicas), service web"
done

cat <<MSG

Both tenants run on the same simulated nodes. Try:

  kubectl --kubeconfig $DIR/blue.kubeconfig -n demo get pods -o wide
  kubectl --kubeconfig $DIR/green.kubeconfig -n demo get pods -o wide
  kubectl --kubeconfig $DIR/blue.kubeconfig get nodes
  kubectl --kubeconfig $DIR/admin.kubeconfig get namespaces        # the super cluster: <key>-demo per tenant
  kubectl --kubeconfig $DIR/admin.kubeconfig get pods -A
  $VC list -A --state-dir $DIR

Press Ctrl-C to stop everything (data stays in $DIR/; make clean removes it).
MSG

# Wait for Ctrl-C; `sleep` in the background so the trap runs at once.
while true; do
  sleep 3600 &
  SLEEP=$!
  wait "$SLEEP" || true
done
