package cli

import "os"

// resizeSignals is empty on windows, which has no SIGWINCH: a -t session
// keeps the size it started with.
var resizeSignals []os.Signal
