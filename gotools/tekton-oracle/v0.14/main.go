// Command tekton-oracle-v0.14 runs the credential code of Tekton v0.14 (the release in go.mod,
// what Dispatch 1.4 shipped, when creds-init was a binary of its own) on what dispatchctl
// wrote.
//
//	tekton-oracle-v0.14 creds-init -home DIR -volumes DIR < list.json
//
// Same input and report as tekton-oracle creds-init (see ../current). The docker lookup is
// tekton-oracle's: docker/cli reads the config.json this writes the same way.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"dispatchctl.test/tekton-oracle/pod"
	"github.com/tektoncd/pipeline/pkg/credentials"
	"github.com/tektoncd/pipeline/pkg/credentials/dockercreds"
	"github.com/tektoncd/pipeline/pkg/credentials/gitcreds"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func main() {
	if len(os.Args) < 2 || os.Args[1] != "creds-init" {
		pod.Fatalf("usage: tekton-oracle-v0.14 creds-init -home DIR -volumes DIR < list.json")
	}
	pod.RunCredsInit(os.Args[2:], credsInit)
}

// credsInit is Tekton v0.14's credential set-up for one TaskRun pod of the account. The
// controller half re-implements the unexported credsInit of pkg/pod/creds_init.go (v0.14.2);
// the creds-init half is cmd/creds-init/main.go.
func credsInit(o pod.Options, account pod.Account, secrets map[string]pod.Secret) (pod.Report, error) {
	report := pod.Report{Tekton: pod.ModuleVersion("github.com/tektoncd/pipeline")}
	if o.RequireKnownHosts {
		return report, errors.New("Tekton v0.14 has no require-git-ssh-secret-known-hosts flag")
	}
	credentials.VolumePath = o.Volumes
	builders := []credentials.Builder{dockercreds.NewBuilder(), gitcreds.NewBuilder()}

	// Controller: every .secrets entry, in order, must exist (a failed GET fails the pod's
	// creation); a matching one is mounted and its flags are appended, docker's before git's.
	for _, name := range account.Secrets {
		s, ok := secrets[name]
		if !ok {
			report.Fail("controller", fmt.Errorf("secrets %q not found", name), true)
			return report, nil
		}
		secret := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: s.Name, Annotations: s.Annotations},
			Type:       corev1.SecretType(s.Type),
			Data:       s.Data,
		}
		matched := false
		for _, b := range builders {
			if args := b.MatchingAnnotations(secret); len(args) > 0 {
				matched = true
				report.Args = append(report.Args, args...)
			}
		}
		if matched {
			if err := pod.Mount(o.Volumes, s); err != nil {
				return report, err
			}
		}
	}
	if len(report.Args) == 0 {
		return report, nil // no creds-init container at all
	}

	// creds-init: the packages registered their flags on flag.CommandLine in init(); its
	// flag.Parse exits 2 on an error (reported here instead), a Write error is Fatalf (exit 1).
	// The container's HOME is where the files go.
	flag.CommandLine.Init("creds-init", flag.ContinueOnError)
	flag.CommandLine.SetOutput(io.Discard)
	if err := flag.CommandLine.Parse(report.Args); err != nil {
		report.Fail("flags", err, true)
		return report, nil
	}
	if err := os.Setenv("HOME", o.Home); err != nil {
		return report, err
	}
	for _, b := range builders {
		if err := b.Write(); err != nil {
			report.Fail("write", fmt.Errorf("Error initializing credentials: %w", err), true)
			return report, nil
		}
	}
	return report, nil
}
