//go:build !js

// Command datacollect-server serves the DataCollect web app and its API.
//
//	datacollect-server serve [-addr 127.0.0.1:8080] [-db DSN] [-web DIR] [-demo]
//	datacollect-server user add -app APP -email E -password P [-role sync|admin] [-db DSN]
//	datacollect-server inspect -app APP [-db DSN] [-device ID] [-log N] [-json]
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
		fmt.Fprintln(os.Stderr, "datacollect-server:", err)
		os.Exit(1)
	}
}
