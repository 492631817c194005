package redis_test

import (
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/switchboard-bots/switchboard/internal/redistest"
	"github.com/switchboard-bots/switchboard/layer/layertest"
	"github.com/switchboard-bots/switchboard/layer/redis"
)

func TestMain(m *testing.M) {
	// The runnable Examples have no testing.T to find a Redis with: point
	// them at the one the tests share.
	if url, err := redistest.Shared(); err == nil {
		os.Setenv(redistest.URLEnv, url)
	}
	goleak.VerifyTestMain(m)
}

var features = layertest.Features{
	MultiProcess:         true,
	ProcessLocalChannels: true,
	Expiry:               true,
	GroupExpiry:          true,
	// Expiry cases run on the real clock: a tick long enough that a
	// message meant to be received in time still is when the whole test
	// suite loads the machine.
	Tick: 2 * time.Second,
}

func TestConformance(t *testing.T) {
	url := sharedURL(t)
	layertest.Run(t, factory(redis.Config{URL: url, Prefix: testPrefix(t, url)}), features)
}

// TestConformanceRestart runs the suite against a server of the test's
// own, which its Restart case kills and starts again.
func TestConformanceRestart(t *testing.T) {
	srv := startServer(t)
	f := features
	f.Restart = func(t *testing.T) { srv.restart() }
	layertest.Run(t, factory(redis.Config{URL: srv.URL}), f)
}

// TestConformanceShards runs the suite with channels and groups spread
// over two servers.
func TestConformanceShards(t *testing.T) {
	a, b := startServer(t), startServer(t)
	layertest.Run(t, factory(redis.Config{Mode: redis.ModeShards, Shards: []string{a.URL, b.URL}}), features)
}
