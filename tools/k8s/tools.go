//go:build tools

// Package k8s pins the Kubernetes control-plane binaries the Kubernetes
// backend's tests run: kube-apiserver, kube-controller-manager and
// kube-scheduler (and kubectl, to look at the cluster) from
// k8s.io/kubernetes, and etcd (cmd/etcd). It is its
// own module, outside go.work, built only by scripts/k8s-bin.sh into a
// cache outside the repository.
package k8s

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
