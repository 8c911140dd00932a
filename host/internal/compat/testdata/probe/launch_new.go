//go:build !compat_old

package main

import (
	"context"

	"github.com/alphaswarm/controller/sdk/pluginhost"
)

// client is the host's handle on a plugin, in this tree's SDK.
type client = pluginhost.Client

func launch(ctx context.Context, path string) (*client, error) {
	return pluginhost.Launch(ctx, pluginhost.LaunchConfig{Name: "memory", Path: path})
}
