package memory_test

import (
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/switchboard-bots/switchboard/layer"
	"github.com/switchboard-bots/switchboard/layer/layertest"
	"github.com/switchboard-bots/switchboard/layer/memory"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestConformance(t *testing.T) {
	layertest.Run(t, func(t *testing.T, cfg layer.Config) layer.Layer {
		clock := layertest.NewClock(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
		l, err := memory.New(cfg, memory.WithClock(clock.Now))
		if err != nil {
			t.Fatal(err)
		}
		return layertest.WithClock(l, clock)
	}, layertest.Features{
		Expiry:      true,
		GroupExpiry: true,
		Advance:     layertest.AdvanceClock,
	})
}

// The real clock is what production uses, so expiry is also checked
// against it, at the cost of waiting a few ticks.
func TestRealClockExpiry(t *testing.T) {
	newLayer := func(t *testing.T, cfg layer.Config) layer.Layer {
		l, err := memory.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	features := layertest.Features{Expiry: true, GroupExpiry: true, Tick: 100 * time.Millisecond}
	t.Run("Expiry", func(t *testing.T) {
		t.Parallel()
		layertest.TestExpiry(t, newLayer, features)
	})
	t.Run("GroupExpiry", func(t *testing.T) {
		t.Parallel()
		layertest.TestGroupExpiry(t, newLayer, features)
	})
}

func TestNewRejectsInvalidConfig(t *testing.T) {
	if _, err := memory.New(layer.Config{Capacity: -1}); err == nil {
		t.Fatal("New accepted a negative capacity")
	}
}
