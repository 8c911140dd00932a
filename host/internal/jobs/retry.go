package jobs

import (
	"context"
	"errors"

	"github.com/alphaswarm/controller/host/internal/pluginmgr"
	"github.com/alphaswarm/controller/host/internal/store"
	"github.com/alphaswarm/controller/sdk"
)

// Retriable reports whether a job that failed with err may succeed if it
// runs again: this is the one place that decides what is retried. A
// plugin that crashed or said its backend is unavailable, a plugin
// instance stopped under the job (replaced by another configuration, or
// its host stopping), a database that did not answer or was busy, and a
// job cut short because its host is stopping are retried with backoff. Everything else (a constraint the
// store refuses, a spec the backend rejects, a secret that does not
// exist) fails the same way every time, so the job fails at once with
// that cause.
func Retriable(err error) bool {
	switch {
	case err == nil, errors.Is(err, errInvalidJob):
		return false
	case sdk.IsRetriable(err), store.IsTransient(err), errors.Is(err, pluginmgr.ErrStopped):
		return true
	}
	return errors.Is(err, context.Canceled)
}
