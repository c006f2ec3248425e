// Test tooling of dispatchctl: what both builds of the Tekton credential oracle share (the
// ServiceAccount input, the secret volume layout, the report). Standard library only.
module dispatchctl.test/tekton-oracle/pod

go 1.26.0
