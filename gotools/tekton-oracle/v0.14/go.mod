// Test tooling of dispatchctl: the Tekton credential oracle at Tekton v0.14 (Dispatch 1.4).
// k8s.io/api and apimachinery are pinned as Tekton v0.14.2 pinned them (its replaces do not
// apply to a dependency). Not part of the package.
module dispatchctl.test/tekton-oracle/v014

go 1.26.0

require (
	dispatchctl.test/tekton-oracle/pod v0.0.0
	github.com/tektoncd/pipeline v0.14.2
	k8s.io/api v0.17.6
	k8s.io/apimachinery v0.17.6
)

require (
	github.com/gogo/protobuf v1.3.1 // indirect
	github.com/google/gofuzz v1.1.0 // indirect
	github.com/mitchellh/go-homedir v1.1.0 // indirect
	golang.org/x/net v0.0.0-20200324143707-d3edc9973b7e // indirect
	golang.org/x/text v0.3.2 // indirect
	gopkg.in/inf.v0 v0.9.1 // indirect
	k8s.io/klog v1.0.0 // indirect
)

replace (
	dispatchctl.test/tekton-oracle/pod => ../pod
	k8s.io/api => k8s.io/api v0.16.5
	k8s.io/apimachinery => k8s.io/apimachinery v0.16.5
	k8s.io/client-go => k8s.io/client-go v0.16.5
)

// Tekton v0.14.2's go.mod predates module graph pruning, so the go command reads the go.mod
// of every module in its graph, test tools included; vbom.ml is no longer served (it moved to
// github.com/fvbommel). Nothing of it is built.
replace vbom.ml/util => github.com/fvbommel/sortorder v1.0.1
