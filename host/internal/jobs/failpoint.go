package jobs

// Failpoints let the end-to-end tests stop the host at a precise step, as
// a crash would. They do nothing unless the binary is built with the
// "failpoints" tag (failpoint_on.go), which no release is.

// failpointBeforeRecord is after a plugin's apply returned and before the
// host records it.
const failpointBeforeRecord = "before-record-apply"

// failpoint is called at each named step; failpoint_on.go replaces it.
var failpoint = func(name string) {}
