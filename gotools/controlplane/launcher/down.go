package main

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const stopWait = 20 * time.Second

func down(dir string) error {
	s, err := readState(dir)
	if err != nil {
		return err
	}
	if s == nil {
		return fmt.Errorf("no control plane was started in %s (no %s)", dir, statePath(dir))
	}
	alive := running(s.Processes)
	if len(alive) == 0 {
		fmt.Fprintf(os.Stderr, "control-plane: nothing running in %s\n", dir)
	}
	stop(s.Processes)
	s.Processes = []process{}
	return s.write(dir)
}

// stop ends the processes newest first (controller-manager, apiserver, etcd): SIGTERM, then
// SIGKILL after stopWait, and waits until each has exited. Only a pid that still runs the
// recorded binary is signalled, so a pid the kernel gave to another program since is left alone.
func stop(procs []process) {
	for i := len(procs) - 1; i >= 0; i-- {
		p := procs[i]
		if !isRunning(p) {
			continue
		}
		_ = syscall.Kill(p.Pid, syscall.SIGTERM)
		deadline := time.Now().Add(stopWait)
		for exists(p.Pid) && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if exists(p.Pid) {
			_ = syscall.Kill(p.Pid, syscall.SIGKILL)
			for exists(p.Pid) {
				time.Sleep(50 * time.Millisecond)
			}
		}
	}
}

func running(procs []process) []process {
	var alive []process
	for _, p := range procs {
		if isRunning(p) {
			alive = append(alive, p)
		}
	}
	return alive
}

func describe(procs []process) string {
	parts := make([]string, len(procs))
	for i, p := range procs {
		parts[i] = fmt.Sprintf("%s (pid %d)", p.Name, p.Pid)
	}
	return strings.Join(parts, ", ")
}

// isRunning: the pid exists and runs the binary we started.
func isRunning(p process) bool {
	if !exists(p.Pid) {
		return false
	}
	exe, err := os.Readlink("/proc/" + strconv.Itoa(p.Pid) + "/exe")
	if err != nil {
		return false
	}
	return strings.TrimSuffix(exe, " (deleted)") == p.Exe
}

// exists: the process has not finished exiting. A zombie has (it only waits for a parent that
// may never reap it: a container's pid 1 may not); one still tearing down has not, though its
// exe link is already gone.
func exists(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// "pid (comm) S ...": the state follows the last ')'.
	i := bytes.LastIndexByte(stat, ')')
	return i < 0 || i+2 >= len(stat) || (stat[i+2] != 'Z' && stat[i+2] != 'X')
}
