// Package pod is what the two oracle builds share: it reads a ServiceAccount and its Secrets
// as kubectl prints them, lays the Secrets out as the kubelet mounts them into a TaskRun's
// pod, and prints the report. It knows nothing of Tekton: each build imports its own
// Tekton release and calls that release's credential code.
package pod

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
)

// Secret is the part of a core/v1 Secret that Tekton's credential code reads.
type Secret struct {
	Name        string
	Type        string
	Annotations map[string]string
	Data        map[string][]byte
}

// Account is a ServiceAccount: its name and its .secrets entries, in order (Tekton reads
// only that list).
type Account struct {
	Name    string
	Secrets []string
}

type object struct {
	Kind     string `json:"kind"`
	Metadata struct {
		Name        string            `json:"name"`
		Annotations map[string]string `json:"annotations"`
	} `json:"metadata"`
	Type    string            `json:"type"`
	Data    map[string][]byte `json:"data"` // base64 on the wire, as encoding/json decodes []byte
	Secrets []struct {
		Name string `json:"name"`
	} `json:"secrets"`
}

// ReadInput reads a v1 List holding one ServiceAccount and the Secrets it lists that exist,
// as `kubectl get serviceaccount/NAME secret/A secret/B -o json --ignore-not-found` prints it.
// A listed Secret missing from the input is a Secret missing from the cluster.
func ReadInput(r io.Reader) (Account, map[string]Secret, error) {
	var list struct {
		Kind  string   `json:"kind"`
		Items []object `json:"items"`
	}
	if err := json.NewDecoder(r).Decode(&list); err != nil {
		return Account{}, nil, fmt.Errorf("stdin: not a JSON v1 List: %w", err)
	}
	var account *Account
	secrets := map[string]Secret{}
	for _, item := range list.Items {
		switch item.Kind {
		case "ServiceAccount":
			if account != nil {
				return Account{}, nil, errors.New("stdin: more than one ServiceAccount")
			}
			account = &Account{Name: item.Metadata.Name}
			for _, entry := range item.Secrets {
				account.Secrets = append(account.Secrets, entry.Name)
			}
		case "Secret":
			secrets[item.Metadata.Name] = Secret{
				Name:        item.Metadata.Name,
				Type:        item.Type,
				Annotations: item.Metadata.Annotations,
				Data:        item.Data,
			}
		default:
			return Account{}, nil, fmt.Errorf("stdin: unexpected kind %q", item.Kind)
		}
	}
	if account == nil {
		return Account{}, nil, errors.New("stdin: no ServiceAccount in the List")
	}
	return *account, secrets, nil
}

// Mount writes one file per data key under dir/<secret name>, as a secret volume mounted at
// matcher.VolumeName(secret) shows it to the step (mode 0644, the volume's defaultMode).
func Mount(dir string, s Secret) error {
	target := filepath.Join(dir, s.Name)
	if err := os.MkdirAll(target, 0o755); err != nil {
		return err
	}
	for key, value := range s.Data {
		if strings.ContainsRune(key, '/') {
			return fmt.Errorf("secret %s: data key %q cannot be a file name", s.Name, key)
		}
		if err := os.WriteFile(filepath.Join(target, key), value, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// Report is what the oracle prints on stdout as JSON: what Tekton did with the account.
type Report struct {
	// Tekton is the release of github.com/tektoncd/pipeline whose code ran.
	Tekton string `json:"tekton"`
	// Args are the credential flags the controller gave the step, as creds_init.go builds them.
	Args []string `json:"args"`
	// Stage names where Tekton failed: "controller" (no pod is created), "flags" (the
	// step's credential flags are refused: the step exits 2), "write" (writing the files).
	Stage string `json:"stage,omitempty"`
	// Error is Tekton's own error message, as the user would read it in the pod's log.
	Error string `json:"error,omitempty"`
	// Fatal says whether the error fails the TaskRun; a non-fatal one is only logged.
	Fatal bool `json:"fatal"`
	// Skipped lists listed Secrets that do not exist and that Tekton skipped with an event.
	Skipped []string `json:"skipped"`
	// Files lists what the credential code wrote into HOME, relative to it, sorted.
	Files []string `json:"files"`
}

// Fail records Tekton's error at stage.
func (r *Report) Fail(stage string, err error, fatal bool) {
	r.Stage, r.Error, r.Fatal = stage, err.Error(), fatal
}

// Print lists home's files into the report and writes it to stdout.
func (r *Report) Print(home string) error {
	r.Files = []string{}
	err := filepath.WalkDir(home, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(home, path)
		r.Files = append(r.Files, rel)
		return err
	})
	if err != nil {
		return err
	}
	if r.Args == nil {
		r.Args = []string{}
	}
	if r.Skipped == nil {
		r.Skipped = []string{}
	}
	out := json.NewEncoder(os.Stdout)
	out.SetIndent("", "  ")
	return out.Encode(r)
}

// Options are the command line of a creds-init run, the same for both builds.
type Options struct {
	Home    string // where the credential files go (the step's HOME), empty and existing
	Volumes string // where the Secrets are mounted (matcher.VolumePath), empty and existing
	// RequireKnownHosts turns on Tekton's require-git-ssh-secret-known-hosts feature flag
	// (releases that have it).
	RequireKnownHosts bool
}

// ParseOptions parses `creds-init -home DIR -volumes DIR [-require-known-hosts]`.
func ParseOptions(args []string) Options {
	fs := flag.NewFlagSet("creds-init", flag.ContinueOnError)
	var o Options
	fs.StringVar(&o.Home, "home", "", "the step's HOME: an empty directory")
	fs.StringVar(&o.Volumes, "volumes", "", "where to mount the Secrets: an empty directory")
	fs.BoolVar(&o.RequireKnownHosts, "require-known-hosts", false,
		"the require-git-ssh-secret-known-hosts feature flag")
	if fs.Parse(args) != nil || o.Home == "" || o.Volumes == "" || fs.NArg() != 0 {
		Fatalf("usage: creds-init -home DIR -volumes DIR [-require-known-hosts] < list.json")
	}
	for _, dir := range []string{o.Home, o.Volumes} {
		entries, err := os.ReadDir(dir)
		if err != nil || len(entries) != 0 {
			Fatalf("%s must be an existing empty directory", dir)
		}
	}
	return o
}

// ModuleVersion is the version of the module at path built into this binary (from its go.mod,
// not a constant that could drift from it).
func ModuleVersion(path string) string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == path {
				return dep.Version
			}
		}
	}
	return "unknown"
}

// CredsInit is one Tekton release's credential set-up for a TaskRun pod of the account.
type CredsInit func(Options, Account, map[string]Secret) (Report, error)

// RunCredsInit is the creds-init command of both builds: options, stdin, run, report.
func RunCredsInit(args []string, run CredsInit) {
	options := ParseOptions(args)
	account, secrets, err := ReadInput(os.Stdin)
	if err != nil {
		Fatalf("%v", err)
	}
	report, err := run(options, account, secrets)
	if err == nil {
		err = report.Print(options.Home)
	}
	if err != nil {
		Fatalf("%v", err)
	}
}

// Fatalf reports a problem with the oracle's own input and exits 1: a Tekton failure is a
// result (in the report), this is not.
func Fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "tekton-oracle: "+format+"\n", args...)
	os.Exit(1)
}
