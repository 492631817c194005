package middleware

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/scope"
)

func TestRecoverNewInstance(t *testing.T) {
	ctx := context.Background()
	_, err := Recover(&app{newPanic: "bad wiring"}).NewInstance(ctx, &scope.Scope{}, &conn{})
	var pe *scope.PanicError
	if !errors.As(err, &pe) || pe.Value != "bad wiring" {
		t.Fatalf("err = %v, want a *scope.PanicError with the value", err)
	}
	if !strings.Contains(string(pe.Stack), "(*app).NewInstance") {
		t.Errorf("stack does not show where the panic happened:\n%s", pe.Stack)
	}

	boom := errors.New("boom")
	if _, err := Recover(&app{newErr: boom}).NewInstance(ctx, &scope.Scope{}, &conn{}); err != boom {
		t.Fatalf("err = %v, want the application's own", err)
	}
	nilApp := scope.ApplicationFunc(func(context.Context, *scope.Scope, scope.Conn) (scope.Instance, error) { return nil, nil })
	if inst, err := Recover(nilApp).NewInstance(ctx, &scope.Scope{}, &conn{}); inst != nil || err == nil {
		t.Fatalf("got %v, %v; want no instance refused, as the scope manager refuses it", inst, err)
	}
}

func TestRecoverHandle(t *testing.T) {
	ctx := context.Background()
	a := &app{handle: func(_ context.Context, ev event.Event) error {
		switch ev.(type) {
		case ping:
			panic(io.ErrUnexpectedEOF)
		case disconnect:
			return io.EOF
		}
		return nil
	}}
	inst, err := Recover(a).NewInstance(ctx, &scope.Scope{}, &conn{})
	if err != nil {
		t.Fatal(err)
	}
	err = inst.Handle(ctx, ping{})
	var pe *scope.PanicError
	if !errors.As(err, &pe) || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("err = %v, want a *scope.PanicError wrapping the panic's error", err)
	}
	if !strings.Contains(string(pe.Stack), "TestRecoverHandle") {
		t.Errorf("stack does not show where the panic happened:\n%s", pe.Stack)
	}
	if err := inst.Handle(ctx, disconnect{}); err != io.EOF {
		t.Fatalf("err = %v, want the instance's own", err)
	}
	if got := a.inst.types(); len(got) != 2 {
		t.Fatalf("instance saw %v, want both events", got)
	}
}

func TestRecoverAllocs(t *testing.T) {
	ctx := context.Background()
	inst, err := Recover(quiet).NewInstance(ctx, &scope.Scope{}, &conn{})
	if err != nil {
		t.Fatal(err)
	}
	var ev event.Event = ping{}
	if n := testing.AllocsPerRun(100, func() { _ = inst.Handle(ctx, ev) }); n != 0 {
		t.Fatalf("%v allocations per event, want 0", n)
	}
}
