// Command tekton-oracle runs Tekton's own credential code (github.com/tektoncd/pipeline, the
// release in go.mod) and docker/cli's own credential lookup on what dispatchctl wrote, so the
// tests learn what a pipeline would get instead of what we believe it gets.
//
//	tekton-oracle creds-init -home DIR -volumes DIR [-require-known-hosts] < list.json
//	tekton-oracle docker-auth -home DIR IMAGE...
//
// creds-init reads a v1 List (one ServiceAccount and the Secrets it lists, as kubectl prints
// them), does what Tekton's controller and the step's entrypoint do with them, writes the
// credential files into HOME, and prints a JSON report (pod.Report). docker-auth prints, for
// each image, the credential docker would send to its registry, looked up in HOME/.docker.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"dispatchctl.test/tekton-oracle/pod"
	"github.com/distribution/reference"
	"github.com/docker/cli/cli/config"
	"github.com/tektoncd/pipeline/pkg/credentials/dockercreds"
	"github.com/tektoncd/pipeline/pkg/credentials/gitcreds"
	"github.com/tektoncd/pipeline/pkg/credentials/matcher"
	"github.com/tektoncd/pipeline/pkg/credentials/writer"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func main() {
	if len(os.Args) < 2 {
		pod.Fatalf("usage: tekton-oracle creds-init|docker-auth ...")
	}
	switch os.Args[1] {
	case "creds-init":
		pod.RunCredsInit(os.Args[2:], credsInit)
	case "docker-auth":
		if err := dockerAuth(os.Args[2:]); err != nil {
			pod.Fatalf("%v", err)
		}
	default:
		pod.Fatalf("unknown command %q: creds-init or docker-auth", os.Args[1])
	}
}

type builder interface {
	matcher.Matcher
	writer.Writer
}

// knownHostsMessage is checkGitSSHSecret's error in pkg/pod/creds_init.go.
const knownHostsMessage = "TaskRun validation failed. Git SSH Secret must have \"known_hosts\" " +
	"included when feature flag \"require-git-ssh-secret-known-hosts\" is set to true"

// credsInit is Tekton's credential set-up for one TaskRun pod of the account. The controller
// half re-implements the unexported credsInit of pkg/pod/creds_init.go (which needs a
// clientset); every decision about a Secret is Tekton's exported code.
func credsInit(o pod.Options, account pod.Account, secrets map[string]pod.Secret) (pod.Report, error) {
	report := pod.Report{Tekton: pod.ModuleVersion("github.com/tektoncd/pipeline")}
	matcher.VolumePath = o.Volumes
	builders := []builder{dockercreds.NewBuilder(), gitcreds.NewBuilder()}

	// Controller (creds_init.go): each .secrets entry once, in order; a missing Secret is
	// skipped with a FailedToRetrieveSecret event; a matching one is mounted at
	// matcher.VolumeName(name) and its flags are appended, docker's before git's.
	visited := map[string]bool{}
	for _, name := range account.Secrets {
		if name == "" || visited[name] {
			continue
		}
		visited[name] = true
		s, ok := secrets[name]
		if !ok {
			report.Skipped = append(report.Skipped, name)
			continue
		}
		secret := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: s.Name, Annotations: s.Annotations},
			Type:       corev1.SecretType(s.Type),
			Data:       s.Data,
		}
		if o.RequireKnownHosts && secret.Type == corev1.SecretTypeSSHAuth {
			if _, ok := secret.Data["known_hosts"]; !ok {
				report.Fail("controller", errors.New(knownHostsMessage), true)
				return report, nil
			}
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

	// Step (cmd/entrypoint/main.go): the flags are parsed by the entrypoint's FlagSet (an error
	// exits 2 before the step runs); a Write error is only logged. Writing into HOME directly
	// stands for Write(/tekton/creds) followed by CopyCredsToHome, a plain copy.
	fs := flag.NewFlagSet("entrypoint", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	gitcreds.AddFlags(fs)
	dockercreds.AddFlags(fs)
	if err := fs.Parse(report.Args); err != nil {
		report.Fail("flags", err, true)
		return report, nil
	}
	for _, b := range builders {
		if err := b.Write(o.Home); err != nil {
			report.Fail("write", fmt.Errorf("Error initializing credentials: %w", err), false)
		}
	}
	return report, nil
}

type lookup struct {
	Image         string `json:"image"`
	Registry      string `json:"registry"`
	Found         bool   `json:"found"`
	ServerAddress string `json:"serverAddress"`
	Username      string `json:"username"`
	Password      string `json:"password"`
}

// dockerAuth looks each image's credential up as `docker push IMAGE` does: the image's
// registry domain (reference.Domain of the normalized name) through ConfigFile.GetAuthConfig,
// as docker/cli's cli/command/registry.go RetrieveAuthTokenFromImage does.
func dockerAuth(args []string) error {
	fs := flag.NewFlagSet("docker-auth", flag.ContinueOnError)
	home := fs.String("home", "", "the HOME that creds-init wrote")
	if err := fs.Parse(args); err != nil || *home == "" || fs.NArg() == 0 {
		return errors.New("usage: docker-auth -home DIR IMAGE...")
	}
	cfg, err := config.Load(filepath.Join(*home, ".docker"))
	if err != nil {
		return err
	}
	var out []lookup
	for _, image := range fs.Args() {
		ref, err := reference.ParseNormalizedNamed(image)
		if err != nil {
			return fmt.Errorf("%s: %w", image, err)
		}
		domain := reference.Domain(ref)
		auth, err := cfg.GetAuthConfig(domain)
		if err != nil {
			return fmt.Errorf("%s: %w", image, err)
		}
		out = append(out, lookup{
			Image:         image,
			Registry:      domain,
			Found:         auth.Username != "" || auth.Password != "",
			ServerAddress: auth.ServerAddress,
			Username:      auth.Username,
			Password:      auth.Password,
		})
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
