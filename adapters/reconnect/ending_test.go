package reconnect_test

import (
	"errors"
	"sync"
	"testing"

	"github.com/switchboard-bots/switchboard/adapters/reconnect"
)

// endingConn is how an adapter uses Ending: embedded in its connection.
type endingConn struct{ reconnect.Ending }

func (*endingConn) Close() error { return nil }

var _ reconnect.Conn = (*endingConn)(nil)

func TestEndingFirstReasonStands(t *testing.T) {
	var c endingConn
	if c.Err() != nil || c.Ended() {
		t.Fatalf("a new Ending: Err %v, Ended %v", c.Err(), c.Ended())
	}
	refused, dropped := errors.New("login refused"), errors.New("the link dropped")
	c.Fail(refused)
	c.Fail(errors.New("a later reason"))
	select {
	case <-c.Done():
		t.Fatal("Done closed by Fail")
	default:
	}
	if !errors.Is(c.Err(), refused) {
		t.Fatalf("Err before End: %v, want the first reason", c.Err())
	}
	c.End(dropped)
	<-c.Done()
	if !c.Ended() || !errors.Is(c.Err(), refused) {
		t.Fatalf("after End: Ended %v, Err %v; want the first reason", c.Ended(), c.Err())
	}
}

func TestEndingEndGivesTheReasonAndIsIdempotent(t *testing.T) {
	var c endingConn
	dropped := errors.New("the link dropped")
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.End(dropped)
		}()
	}
	<-c.Done()
	wg.Wait()
	if !errors.Is(c.Err(), dropped) || !c.Ended() {
		t.Fatalf("Err %v, Ended %v; want End's reason", c.Err(), c.Ended())
	}
}
