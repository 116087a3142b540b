//go:build !js

// Command openspp-standin serves a stand-in OpenSPP 17 (Odoo JSON-RPC at
// POST /jsonrpc) for demos and manual tests of the OpenSPP adapter; see
// package external/openspp/standin for what it implements.
//
//	openspp-standin [-addr 127.0.0.1:8069] [-db openspp] [-login admin] [-password admin]
//	                [-readonly-login L -readonly-password P] [-data FILE] [-seed=true]
//	                [-custom-fields x_datacollect_guid] [-national-id-pattern RE]
//	                [-fail-rate 0.1] [-fail-error NAME] [-latency 200ms] [-rand-seed 1]
//
// It prints the URL it listens on and serves until interrupted. With -data
// the records survive restarts (JSON, saved atomically after each change).
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := (&Main{Stdout: os.Stdout, Stderr: os.Stderr}).Run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "openspp-standin:", err)
		os.Exit(1)
	}
}
