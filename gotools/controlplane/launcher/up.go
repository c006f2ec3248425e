package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// How long each component may take to become usable. Generous: a test machine may be busy.
const (
	etcdWait      = 60 * time.Second
	apiserverWait = 180 * time.Second
	defaultSAWait = 120 * time.Second
)

// state is DIR/control-plane.json: what "down" needs to stop exactly what "up" started, and what
// tests read to reach the cluster.
type state struct {
	Version    string    `json:"version"`
	Bin        string    `json:"bin"` // also holds kubectl of the same version
	Server     string    `json:"server"`
	Etcd       string    `json:"etcd"`
	Fsync      bool      `json:"fsync"`
	Kubeconfig string    `json:"kubeconfig"`
	CA         string    `json:"ca"`
	Ports      ports     `json:"ports"`
	Processes  []process `json:"processes"` // in start order
}

type ports struct {
	Etcd, EtcdPeer, Apiserver, ControllerManager int
}

type process struct {
	Name string `json:"name"`
	Pid  int    `json:"pid"`
	Exe  string `json:"exe"`
	Log  string `json:"log"`
}

func statePath(dir string) string { return filepath.Join(dir, "control-plane.json") }

func readState(dir string) (*state, error) {
	data, err := os.ReadFile(statePath(dir))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var s state
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("%s is not a control-plane state file: %w", statePath(dir), err)
	}
	return &s, nil
}

func (s *state) write(dir string) error {
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(statePath(dir), append(data, '\n'), 0o644)
}

func up(dir, bin, version string, fsync bool) error {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	bin, err = filepath.Abs(bin)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	previous, err := readState(dir)
	if err != nil {
		return err
	}
	if previous != nil {
		if alive := running(previous.Processes); len(alive) > 0 {
			return fmt.Errorf("a control plane is already running in %s: %s; stop it with "+
				"gotools/controlplane/control-plane down %s", dir, describe(alive), dir)
		}
	}
	keys, err := loadOrMakePKI(dir)
	if err != nil {
		return err
	}
	// A port chosen free can be taken before its server binds it (kube-controller-manager
	// starts seconds after its port was chosen, and other processes, other control planes
	// among them, open connections meanwhile): then start again on new ports.
	for attempt := 1; ; attempt++ {
		s, err := startOnce(dir, bin, version, fsync, previous, keys)
		if err == nil {
			return nil
		}
		if attempt == 3 || !strings.Contains(err.Error(), "address already in use") {
			return err
		}
		previous = s
	}
}

// startOnce starts the control plane on ports free now (the previous run's where they still
// are), recording every started pid before anything can fail, so "down" can always stop them;
// on failure it stops them again.
func startOnce(dir, bin, version string, fsync bool, previous *state, keys *pki) (*state, error) {
	p, err := choosePorts(previous)
	if err != nil {
		return nil, err
	}
	s := &state{
		Version:    version,
		Bin:        bin,
		Server:     fmt.Sprintf("https://127.0.0.1:%d", p.Apiserver),
		Etcd:       fmt.Sprintf("http://127.0.0.1:%d", p.Etcd),
		Fsync:      fsync,
		Kubeconfig: filepath.Join(dir, "kubeconfig"),
		CA:         keys.caCert,
		Ports:      p,
	}
	if err := writeKubeconfig(s.Kubeconfig, s.Server, keys); err != nil {
		return nil, err
	}
	started, err := start(dir, bin, s, keys)
	s.Processes = started
	if werr := s.write(dir); werr != nil && err == nil {
		err = werr
	}
	if err != nil {
		stop(started)
		s.Processes = []process{}
		_ = s.write(dir)
		return s, err
	}
	return s, nil
}

// start launches etcd, kube-apiserver and kube-controller-manager in that order, each only once
// the previous one answers, and returns what it started (also on failure).
func start(dir, bin string, s *state, keys *pki) ([]process, error) {
	var started []process
	etcdArgs := []string{
		"--name=default",
		"--data-dir=" + filepath.Join(dir, "etcd"),
		"--listen-client-urls=" + s.Etcd,
		"--advertise-client-urls=" + s.Etcd,
		fmt.Sprintf("--listen-peer-urls=http://127.0.0.1:%d", s.Ports.EtcdPeer),
		fmt.Sprintf("--initial-advertise-peer-urls=http://127.0.0.1:%d", s.Ports.EtcdPeer),
		fmt.Sprintf("--initial-cluster=default=http://127.0.0.1:%d", s.Ports.EtcdPeer),
		"--log-level=warn",
	}
	if !s.Fsync {
		etcdArgs = append(etcdArgs, "--unsafe-no-fsync=true")
	}
	etcd, exited, err := launch(dir, bin, "etcd", etcdArgs)
	if err != nil {
		return started, err
	}
	started = append(started, etcd)
	plain := &http.Client{Timeout: 5 * time.Second}
	if err := waitFor(etcd, exited, etcdWait, func() bool {
		return get(plain, s.Etcd+"/health", "") == http.StatusOK
	}); err != nil {
		return started, err
	}

	apiserver, exited, err := launch(dir, bin, "kube-apiserver", []string{
		"--etcd-servers=" + s.Etcd,
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		fmt.Sprintf("--secure-port=%d", s.Ports.Apiserver),
		"--cert-dir=" + filepath.Join(dir, "apiserver"),
		"--tls-cert-file=" + keys.serverCert,
		"--tls-private-key-file=" + keys.serverKey,
		"--client-ca-file=" + keys.caCert,
		"--token-auth-file=" + keys.tokenFile,
		"--authorization-mode=RBAC",
		"--service-cluster-ip-range=10.0.0.0/24",
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=" + keys.saPub,
		"--service-account-signing-key-file=" + keys.saKey,
		"--allow-privileged=true",
		// No node network on a loopback-only machine: the kubernetes Service gets no endpoints.
		"--endpoint-reconciler-type=none",
		"--profiling=false",
	})
	if err != nil {
		return started, err
	}
	started = append(started, apiserver)
	client, err := adminClient(keys)
	if err != nil {
		return started, err
	}
	if err := waitFor(apiserver, exited, apiserverWait, func() bool {
		return get(client, s.Server+"/readyz", keys.adminToken) == http.StatusOK
	}); err != nil {
		return started, err
	}

	kcm, exited, err := launch(dir, bin, "kube-controller-manager", []string{
		"--kubeconfig=" + s.Kubeconfig,
		"--authentication-kubeconfig=" + s.Kubeconfig,
		"--authorization-kubeconfig=" + s.Kubeconfig,
		// No namespace controller: it starts on a deleted namespace 5 s later, and the tests'
		// reset (which empties and finalizes namespaces itself) has by then made a namespace of
		// the same name, whose new objects the controller's late run deleted.
		"--controllers=serviceaccount-controller,garbage-collector-controller",
		"--leader-elect=false",
		"--bind-address=127.0.0.1",
		fmt.Sprintf("--secure-port=%d", s.Ports.ControllerManager),
		"--cert-dir=" + filepath.Join(dir, "controller-manager"),
		"--profiling=false",
	})
	if err != nil {
		return started, err
	}
	started = append(started, kcm)
	defaultSA := s.Server + "/api/v1/namespaces/default/serviceaccounts/default"
	if err := waitFor(kcm, exited, defaultSAWait, func() bool {
		return get(client, defaultSA, keys.adminToken) == http.StatusOK
	}); err != nil {
		return started, err
	}
	return started, nil
}

// launch starts one component in a session of its own (so it outlives this command and a
// terminal's Ctrl+C does not reach it), its output in DIR/<name>.log. The channel closes when
// the process exits while this command still runs.
func launch(dir, bin, name string, args []string) (process, <-chan struct{}, error) {
	exe := filepath.Join(bin, name)
	logPath := filepath.Join(dir, name+".log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return process{}, nil, err
	}
	defer logFile.Close()
	cmd := exec.Command(exe, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return process{}, nil, fmt.Errorf("starting %s: %w", name, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	return process{Name: name, Pid: cmd.Process.Pid, Exe: exe, Log: logPath}, exited, nil
}

// waitFor polls ready until it holds, the process dies, or the time is up; failures quote the
// end of the component's log, which says why.
func waitFor(p process, exited <-chan struct{}, limit time.Duration, ready func() bool) error {
	deadline := time.Now().Add(limit)
	for {
		if ready() {
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("%s exited while starting; the end of %s:\n%s", p.Name, p.Log, tail(p.Log))
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s (pid %d) was not ready after %s; the end of %s:\n%s",
				p.Name, p.Pid, limit, p.Log, tail(p.Log))
		}
	}
}

func tail(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return "  (" + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > 20 {
		lines = lines[len(lines)-20:]
	}
	return "  " + strings.Join(lines, "\n  ")
}

func get(client *http.Client, url, token string) int {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

func adminClient(keys *pki) (*http.Client, error) {
	pem, err := os.ReadFile(keys.caCert)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s holds no certificate", keys.caCert)
	}
	transport := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	return &http.Client{Timeout: 5 * time.Second, Transport: transport}, nil
}

// writeKubeconfig writes the admin kubeconfig: bearer token, CA embedded and verified.
func writeKubeconfig(path, server string, keys *pki) error {
	ca, err := os.ReadFile(keys.caCert)
	if err != nil {
		return err
	}
	config := map[string]any{
		"apiVersion": "v1",
		"kind":       "Config",
		"clusters": []any{map[string]any{"name": "control-plane", "cluster": map[string]any{
			"server":                     server,
			"certificate-authority-data": base64.StdEncoding.EncodeToString(ca),
		}}},
		"users": []any{map[string]any{"name": "admin", "user": map[string]any{
			"token": keys.adminToken,
		}}},
		"contexts": []any{map[string]any{"name": "control-plane", "context": map[string]any{
			"cluster": "control-plane", "user": "admin",
		}}},
		"current-context": "control-plane",
		"preferences":     map[string]any{},
	}
	data, err := json.MarshalIndent(config, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o600)
}

// choosePorts keeps the previous run's ports where they are still free (etcd remembers its peer
// URL in its data), and takes new free loopback ports otherwise. All four stay bound until all
// are chosen, so the kernel cannot hand out one port twice.
func choosePorts(previous *state) (ports, error) {
	var want ports
	if previous != nil {
		want = previous.Ports
	}
	var held []net.Listener
	defer func() {
		for _, l := range held {
			l.Close()
		}
	}()
	var err error
	pick := func(port int) int {
		if err != nil {
			return 0
		}
		var l net.Listener
		if port != 0 {
			l, err = net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		}
		if port == 0 || err != nil {
			l, err = net.Listen("tcp", "127.0.0.1:0")
		}
		if err != nil {
			return 0
		}
		held = append(held, l)
		return l.Addr().(*net.TCPAddr).Port
	}
	p := ports{
		Etcd:              pick(want.Etcd),
		EtcdPeer:          pick(want.EtcdPeer),
		Apiserver:         pick(want.Apiserver),
		ControllerManager: pick(want.ControllerManager),
	}
	return p, err
}
