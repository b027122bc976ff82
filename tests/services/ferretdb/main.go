// Command pipeworks-ferretdb runs an embedded FerretDB (MongoDB wire protocol)
// with the SQLite backend, for Pipeworks integration tests only.
//
// It wraps github.com/FerretDB/FerretDB/ferretdb because `go install
// .../cmd/ferretdb` builds a binary that panics at start (upstream #2982).
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen-addr", "127.0.0.1:57017", "TCP address to listen on")
	dir := flag.String("sqlite-dir", "", "existing directory for the SQLite databases")
	flag.Parse()

	if *dir == "" {
		fmt.Fprintln(os.Stderr, "-sqlite-dir is required")
		os.Exit(2)
	}
	abs, err := filepath.Abs(*dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	// The SQLite URL must name an existing directory and end with "/".
	sqliteURL := "file:" + strings.TrimSuffix(abs, "/") + "/"

	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: *listen},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: sqliteURL,
	})
	if err != nil {
		logger.Error("cannot create FerretDB", "error", err)
		os.Exit(1)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	// Do not call f.MongoDBURI() before Run: it may deadlock.
	logger.Info("starting FerretDB", "listen", *listen, "sqlite", sqliteURL)
	if err := f.Run(ctx); err != nil {
		logger.Error("FerretDB stopped with error", "error", err)
		os.Exit(1)
	}
	logger.Info("FerretDB stopped")
}
