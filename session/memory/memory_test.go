package memory_test

import (
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/switchboard-bots/switchboard/internal/clocktest"
	"github.com/switchboard-bots/switchboard/session"
	"github.com/switchboard-bots/switchboard/session/memory"
	"github.com/switchboard-bots/switchboard/session/sessiontest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestConformance(t *testing.T) {
	var mu sync.Mutex
	clocks := map[session.Store]*clocktest.Clock{}
	sessiontest.Run(t, func(t *testing.T) session.Store {
		c := clocktest.New(time.Unix(1_700_000_000, 0))
		st := memory.New(memory.WithClock(c.Now))
		mu.Lock()
		clocks[st] = c
		mu.Unlock()
		return st
	}, sessiontest.Features{Advance: func(st session.Store, d time.Duration) {
		mu.Lock()
		c := clocks[st]
		mu.Unlock()
		c.Advance(d)
	}})
}
