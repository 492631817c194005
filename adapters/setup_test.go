package adapters_test

import (
	"context"
	"errors"
	"testing"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/scope"
)

type namedConfig struct{ Greeting string }

type named struct{ name, greeting string }

func (n *named) Name() string                                          { return n.name }
func (n *named) Serve(context.Context, *adapters.Intake) error         { return nil }
func (n *named) Send(context.Context, *scope.Scope, event.Event) error { return nil }

func newNamed(name string, cfg namedConfig) (*named, error) {
	if cfg.Greeting == "" {
		return nil, errors.New("greeting is required")
	}
	return &named{name: name, greeting: cfg.Greeting}, nil
}

func TestFactoryFor(t *testing.T) {
	factory := adapters.FactoryFor(newNamed)
	decode := func(greeting string) func(any) error {
		return func(v any) error { v.(*namedConfig).Greeting = greeting; return nil }
	}

	a, err := factory(adapters.Setup{Name: "hello", Decode: decode("hi")})
	if n, ok := a.(*named); err != nil || !ok || n.name != "hello" || n.greeting != "hi" {
		t.Fatalf("got %#v, %v; want the adapter built from the section's name and config", a, err)
	}

	a, err = factory(adapters.Setup{Name: "hello", Decode: decode("")})
	if err == nil || a != nil {
		t.Fatalf("a failed build: %#v, %v; want a nil Adapter and the error", a, err)
	}

	bad := errors.New("file.yaml:3: unknown key")
	a, err = factory(adapters.Setup{Name: "hello", Decode: func(any) error { return bad }})
	if !errors.Is(err, bad) || a != nil {
		t.Fatalf("a failed decode: %#v, %v; want the decode error", a, err)
	}
}
