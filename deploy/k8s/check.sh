#!/usr/bin/env bash
# Checks the Kubernetes base without a cluster: renders it with `kubectl kustomize` (so the
# kustomization builds: every resource listed, the namespace and image tags applied), then
# validates every rendered resource against the Kubernetes schemas with kubernetes-validate
# (PyPI; it ships the schemas) in strict mode. The KEDA ScaledObject is a custom resource with
# no schema there: it is reported and skipped.
set -euo pipefail
cd "$(dirname "$0")/../.."

K8S_VERSION=1.30.0
VALIDATE_PIN=kubernetes-validate==1.37.0

case "${1:-}" in
  -h|--help)
    cat <<EOF
usage: deploy/k8s/check.sh

Renders deploy/k8s with 'kubectl kustomize' into target/k8s/rendered.yaml and validates it
with '$VALIDATE_PIN --strict -k $K8S_VERSION'. Installs what is missing: kubectl from
Debian (kubernetes-client) when none is on PATH; kubernetes-validate with pip into a private
folder in the cache (nothing system-wide). Exits non-zero when rendering or validation fails.
EOF
    exit 0 ;;
  "") ;;
  *) echo "error: unknown argument $1 (see --help)" >&2; exit 2 ;;
esac

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
if ! command -v kubectl >/dev/null 2>&1; then
  echo "==> installing Debian package: kubernetes-client (kubectl)"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq kubernetes-client >/dev/null
fi

PYDEPS_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/finishline/pydeps-kubernetes-validate"
. deploy/local/find-pip.sh
pip_target "$PYDEPS_DIR" --only-binary=:all: "$VALIDATE_PIN"

out=target/k8s
mkdir -p "$out"
echo "==> kubectl kustomize deploy/k8s"
kubectl kustomize deploy/k8s >"$out/rendered.yaml"
kinds="$(grep -c '^kind:' "$out/rendered.yaml")"
# Every resource lands in the namespace, and the images carry the kustomization's tags.
namespaced="$(grep -c '^  namespace: finishline$' "$out/rendered.yaml" || true)"
if [ "$namespaced" -ne "$((kinds - 1))" ]; then
  echo "error: $namespaced of the $((kinds - 1)) namespaced resources are in namespace finishline" >&2
  exit 1
fi
for image in finishline-gateway:latest finishline-worker:latest; do
  grep -q "image: $image\$" "$out/rendered.yaml" || { echo "error: no container uses $image" >&2; exit 1; }
done
echo "==> kubernetes-validate --strict -k $K8S_VERSION ($kinds resources)"
PYTHONPATH="$PYDEPS_DIR" PYTHONNOUSERSITE=1 python3 -m kubernetes_validate --strict --quiet \
  -k "$K8S_VERSION" "$out/rendered.yaml"
echo "==> Kubernetes base renders and validates"
