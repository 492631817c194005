package main

import (
	"testing"
	"time"
)

// A short soak: idle room members on two processes while rooms of 10
// receive steady group sends on the Redis layer; not one delivery is lost.
// `loadgen soak` is the same at full scale.
func TestSoakLosesNothing(t *testing.T) {
	d := 10 * time.Second
	if testing.Short() {
		d = 2 * time.Second
	}
	addrs := startRooms(t, serversPerKind)
	r, err := fanoutRun(roomProto{}, addrs, fanoutSpec{members: 100, roomSize: 10, senders: 1, idle: 500,
		sends: 200, duration: d, size: 32, drain: drainTime})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("sent %d, deliveries expected %d, received %d; p50 %v, p99 %v", r.sent, r.expected, r.received, r.p50, r.p99)
	if r.sent < 10 {
		t.Fatalf("only %d sends in %v", r.sent, d)
	}
	if r.expected != r.sent*9 {
		t.Errorf("expected %d deliveries of %d sends to rooms of 10, want 9 each", r.expected, r.sent)
	}
	if r.received != r.expected || r.broken != 0 {
		t.Errorf("received %d of %d deliveries: %d lost; %d connections closed (%s)", r.received, r.expected, r.lost(), r.broken, r.reason)
	}
}
