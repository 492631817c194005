package server_test

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/switchboard-bots/switchboard/server"
)

// layer.rate_limits is checked with the rest of the file: shared limits
// need the Redis layer.
func TestRateLimitsConfig(t *testing.T) {
	for _, c := range []struct{ layer, want string }{
		{`{backend: redis}`, ""},
		{`{backend: redis, rate_limits: shared}`, ""},
		{`{backend: redis, rate_limits: process}`, ""},
		{`{backend: memory, rate_limits: process}`, ""},
		{`{backend: memory, rate_limits: shared}`, "layer.rate_limits: shared needs layer.backend: redis"},
		{`{backend: redis, rate_limits: cluster}`, `layer.rate_limits must be shared or process, got "cluster"`},
	} {
		cfg, err := server.Parse("bot.yaml", []byte("layer: "+c.layer+"\nfake: {}\nroutes:\n  fake: {bot: replier}\n"), env())
		if err == nil {
			err = server.Check(cfg, fakeRegistry(new(fakes)))
		}
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.layer, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: error %v, want one saying %q", c.layer, err, c.want)
		}
	}
}

// Adapters get a Limiter shared through Redis on the Redis layer, unless
// the file keeps limits per process, and none on the memory layer.
func TestRateLimitsGivenToAdapters(t *testing.T) {
	for _, c := range []struct {
		layer  string
		shared bool
	}{
		{`{backend: redis, redis: {url: "redis://127.0.0.1:1/0"}}`, true},
		{`{backend: redis, redis: {url: "redis://127.0.0.1:1/0"}, rate_limits: process}`, false},
		{`{backend: memory}`, false},
	} {
		cfg, err := server.Parse("bot.yaml", []byte("layer: "+c.layer+"\nfake: {}\nroutes:\n  fake: {bot: replier}\n"), env())
		if err != nil {
			t.Fatal(err)
		}
		f := new(fakes)
		s, err := server.New(cfg, fakeRegistry(f), server.WithLogger(slog.New(slog.DiscardHandler)))
		if err != nil {
			t.Fatal(err)
		}
		if got := f.get("fake").limiter != nil; got != c.shared {
			t.Errorf("%s: adapter given a shared Limiter: %v, want %v", c.layer, got, c.shared)
		}
		if err := s.Layer().Close(); err != nil {
			t.Errorf("%s: closing the layer: %v", c.layer, err)
		}
	}
}
