#!/usr/bin/env bash
# Builds the test cluster's binaries (etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler, kubectl, kwok) from the Go modules pinned
# in tools/k8s, into a cache outside the repository keyed by those pins,
# and prints the cache directory. Idempotent: a complete cache is reused; a
# build that was interrupted leaves nothing behind.
#
# A cold build takes about ten minutes on 2 cores (kube-apiserver alone
# about six, peaking near 3 GB); later runs return at once.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
key=$(cat "$root/tools/k8s/go.mod" "$root/tools/k8s/go.sum" "$root/tools/k8s/kwok/go.mod" "$root/tools/k8s/kwok/go.sum" \
	"$root/tools/k8s/cmd/etcd/main.go" "$0" | sha256sum | cut -c1-16)
cache=${ALPHASWARM_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/alphaswarm}/k8s/$key
bins="etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok"
complete() { for b in $bins; do [ -x "$cache/$b" ] || return 1; done; [ -d "$cache/stages" ]; }
if complete; then echo "$cache"; exit 0; fi

mkdir -p "$(dirname "$cache")"
tmp=$(mktemp -d "$(dirname "$cache")/.build-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export GOWORK=off CGO_ENABLED=0 GOFLAGS=-trimpath
echo "building the Kubernetes test binaries into $cache (once; about ten minutes cold)" >&2
(cd "$root/tools/k8s" && go build -ldflags "-s -w" -o "$tmp/" ./cmd/etcd \
	k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler \
	k8s.io/kubernetes/cmd/kubectl)
(cd "$root/tools/k8s/kwok" && go build -ldflags "-s -w" -o "$tmp/" sigs.k8s.io/kwok/cmd/kwok)
# kwok moves nodes and pods through "stages" that ship as YAML in its
# module: nodes become ready and keep a heartbeat; pods become ready,
# complete, and go when deleted.
kwok_dir=$(cd "$root/tools/k8s/kwok" && go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)
mkdir -p "$tmp/stages"
for stage in node/fast node/heartbeat pod/fast; do
	for f in "$kwok_dir/kustomize/stage/$stage"/*.yaml; do
		[ "$(basename "$f")" = kustomization.yaml ] || cp "$f" "$tmp/stages/$(echo "$stage" | tr / -)-$(basename "$f")"
	done
done
mkdir -p "$cache"
for b in $bins stages; do rm -rf "${cache:?}/$b"; mv "$tmp/$b" "$cache/$b"; done
echo "$cache"
