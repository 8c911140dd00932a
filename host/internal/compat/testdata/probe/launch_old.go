//go:build compat_old

package main

import (
	"context"

	"github.com/alphaswarm/controller/sdk"
)

// client is the host's handle on a plugin, in the SDK from before the host
// half moved to sdk/pluginhost.
type client = sdk.Client

func launch(ctx context.Context, path string) (*client, error) {
	return sdk.Launch(ctx, sdk.LaunchConfig{Name: "memory", Path: path})
}
