// Command syncer keeps a Postgres copy of a RingCentral Engage Voice contact center's admin
// data. It is main only: the stop signals, internal/cli (given the arguments, the whole
// environment and the standard streams), and the exit code.
package main

import (
	"context"
	"os"
	"os/signal"

	"github.com/evsync/evsync/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), cli.StopSignals()...)
	code := cli.Main(ctx, os.Args[1:], os.Environ(), os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
