//go:build tools

// Package kwok pins kwok, which simulates the test cluster's nodes and
// pods; built only by scripts/k8s-bin.sh.
package kwok

import _ "sigs.k8s.io/kwok/cmd/kwok"
