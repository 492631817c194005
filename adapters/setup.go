package adapters

import (
	"io"
	"log/slog"

	"github.com/switchboard-bots/switchboard/layer"
)

// Setup is what a Factory gets from the server to build an adapter from
// its section of the config file.
type Setup struct {
	// Name is the adapter's name: its section's key in the config file.
	Name string
	// Decode decodes the adapter's section into v strictly: an unknown
	// key, a value of the wrong type or an unset environment variable is
	// an error naming the file, line and key. The keys every section has
	// (enabled, scopes) are the server's and are not passed on.
	Decode func(v any) error
	// Logger is the server's logger.
	Logger *slog.Logger
	// Layer is the server's channel layer.
	Layer layer.Layer
	// Stdin and Stdout are the process's, for adapters that use them.
	Stdin  io.Reader
	Stdout io.Writer
}

// Factory builds an adapter from its config section. A server knows
// adapters by kind through a registry of factories; the Host that runs the
// adapter is the server's.
type Factory func(Setup) (Adapter, error)
