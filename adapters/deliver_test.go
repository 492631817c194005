package adapters_test

import (
	"context"
	"errors"
	"testing"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/scope"
)

// connFake is fake whose scopes last a connection.
type connFake struct{ *fake }

func (connFake) ScopeConfig(c scope.Config) scope.Config { c.NoEvict = true; return c }

// TestHostDeliver: Host.Deliver refuses before Run, starts a scope from
// newScope while serving and acknowledges once handled, and refuses once
// stopped.
func TestHostDeliver(t *testing.T) {
	f := newFake()
	h := adapters.NewHost(f, quiet())
	if err := h.Deliver(context.Background(), "a", note{"early"}, newScope, nil); !errors.Is(err, adapters.ErrNotServing) {
		t.Fatalf("Deliver before Run = %v, want ErrNotServing", err)
	}
	ap := newApp(nil)
	r := run(t, context.Background(), h, ap)
	recv(t, f.intake)
	acked := make(chan error, 1)
	if err := h.Deliver(context.Background(), "a", note{"due"}, newScope, func(err error) { acked <- err }); err != nil {
		t.Fatal(err)
	}
	if got := ap.next(t); got.key != "a" || got.text != "due" {
		t.Fatalf("handled %+v", got)
	}
	if err := recv(t, acked); err != nil {
		t.Fatalf("ack %v", err)
	}
	if err := h.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	r.wait(t)
	if err := h.Deliver(context.Background(), "a", note{"late"}, newScope, nil); !errors.Is(err, adapters.ErrNotServing) {
		t.Fatalf("Deliver after Shutdown = %v, want ErrNotServing", err)
	}
}

// TestHostDeliverWithAJournal: with a journal, Host.Deliver appends like
// the adapter's own intake, and acknowledges once appended.
func TestHostDeliverWithAJournal(t *testing.T) {
	j := newJournal()
	f := newFake()
	h := adapters.NewHost(portable{f}, quiet(), adapters.WithJournal(j))
	ap := newApp(nil)
	run(t, context.Background(), h, ap)
	recv(t, f.intake)
	recv(t, j.sink)
	acked := make(chan error, 1)
	if err := h.Deliver(context.Background(), "k", note{"due"}, newScope, func(err error) { acked <- err }); err != nil {
		t.Fatal(err)
	}
	if err := recv(t, acked); err != nil {
		t.Fatalf("ack %v, want nil once appended", err)
	}
	if rec := recv(t, j.appended); rec.Key != "k" || rec.Scope.Key != "k" {
		t.Fatalf("appended %+v", rec)
	}
	select {
	case got := <-ap.seen:
		t.Fatalf("handled %+v here; the journal's owner serves it", got)
	default:
	}
}

// TestHostDeliverToAConnection: a scope that lasts a connection is never
// started by Deliver: the event reaches a live one, and without one
// Deliver fails with scope.ErrEnded.
func TestHostDeliverToAConnection(t *testing.T) {
	f := newFake()
	h := adapters.NewHost(connFake{f}, quiet())
	ap := newApp(nil)
	run(t, context.Background(), h, ap)
	in := recv(t, f.intake)
	if err := h.Deliver(context.Background(), "gone", note{"due"}, newScope, nil); !errors.Is(err, scope.ErrEnded) {
		t.Fatalf("Deliver without a connection = %v, want scope.ErrEnded", err)
	}
	if err := in.Deliver(context.Background(), "c", note{"hello"}, newScope, nil); err != nil {
		t.Fatal(err)
	}
	ap.next(t)
	acked := make(chan error, 1)
	if err := h.Deliver(context.Background(), "c", note{"due"}, newScope, func(err error) { acked <- err }); err != nil {
		t.Fatal(err)
	}
	if got := ap.next(t); got.key != "c" || got.text != "due" {
		t.Fatalf("handled %+v", got)
	}
	if err := recv(t, acked); err != nil {
		t.Fatal(err)
	}
}
