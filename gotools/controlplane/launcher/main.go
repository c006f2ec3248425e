// Command launcher starts and stops a real Kubernetes control plane (etcd, kube-apiserver,
// kube-controller-manager) on loopback for dispatchctl's tests and benchmarks.
//
//	launcher up   -bin BINDIR [-fsync] DIR   start, wait until usable, write DIR/kubeconfig
//	launcher down DIR                        stop what "up" started in DIR, newest first
//
// gotools/controlplane/control-plane builds the binaries and calls this; it is test tooling, not
// part of dispatchctl. Everything it needs comes from the standard library, so it builds in seconds.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "up":
		err = upCommand(os.Args[2:])
	case "down":
		err = downCommand(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "control-plane: %v\n", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: launcher up -bin BINDIR [-fsync] DIR | launcher down DIR")
	os.Exit(1)
}

func upCommand(args []string) error {
	fs := flag.NewFlagSet("up", flag.ContinueOnError)
	bin := fs.String("bin", "", "folder holding etcd, kube-apiserver and kube-controller-manager")
	fsync := fs.Bool("fsync", false, "let etcd fsync its log (a real cluster does; slower)")
	version := fs.String("version", "", "the Kubernetes version the binaries were built at")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 || *bin == "" {
		return errors.New("usage: launcher up -bin BINDIR [-fsync] DIR")
	}
	return up(fs.Arg(0), *bin, *version, *fsync)
}

func downCommand(args []string) error {
	if len(args) != 1 {
		return errors.New("usage: launcher down DIR")
	}
	return down(args[0])
}
