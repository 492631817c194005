package router

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/switchboard-bots/switchboard/event"
	"github.com/switchboard-bots/switchboard/scope"
)

// commandInstance serves one chat scope for a CommandRouter. Handle calls
// are serial, so its fields need no lock; only its subs' Conn methods run
// on other goroutines, and they read nothing that changes.
type commandInstance struct {
	t    *commandTable
	s    *scope.Scope
	conn scope.Conn
	made []*sub // sub-instances, in the order they were made
	fb   *sub   // the fallback's, once made
}

// sub is one sub-instance and the Conn it was given: its own, so that what
// it posts can be told apart and brought back to it.
type sub struct {
	owner *commandInstance
	name  string // "" for the fallback
	inst  scope.Instance
}

func (sb *sub) Send(ctx context.Context, ev event.Event) error {
	return sb.owner.conn.Send(ctx, ev)
}

func (sb *sub) Post(ctx context.Context, ev event.Event) error {
	return sb.owner.conn.Post(ctx, &posted{to: sb, ev: ev})
}

func (sb *sub) String() string {
	if sb.name == "" {
		return "command fallback"
	}
	return fmt.Sprintf("command %q", "/"+sb.name)
}

// posted is an event a sub-instance posted, addressed back to it. Its type
// is the event's own, so logging and tracing outside the router see what
// was posted.
type posted struct {
	to *sub
	ev event.Event
}

func (p *posted) Type() string { return p.ev.Type() }

func (ci *commandInstance) Handle(ctx context.Context, ev event.Event) error {
	if p, ok := ev.(*posted); ok {
		if p.to.owner == ci && p.to.inst != nil {
			return p.to.inst.Handle(ctx, p.ev)
		}
		// Posted to an earlier instance of this conversation, which failed
		// and left its queue to this one: route it like any other event.
		ev = p.ev
	}
	if f, ok := ev.(scope.Final); ok {
		return ci.final(ctx, f)
	}
	cmd, isCmd := ci.command(ev)
	if isCmd {
		if app, ok := ci.t.apps[cmd.Name]; ok {
			sb, err := ci.sub(ctx, cmd.Name, app)
			if err != nil {
				return err
			}
			return sb.inst.Handle(withCommand(ctx, cmd), ev)
		}
	}
	if ci.t.fallback == nil {
		switch _, text := event.AsChatMessage(ev); {
		case isCmd:
			return fmt.Errorf("%w for command %q", ErrNoRoute, "/"+cmd.Name)
		case text:
			return fmt.Errorf("%w for event %q (not a command)", ErrNoRoute, ev.Type())
		default:
			return fmt.Errorf("%w for event %q", ErrNoRoute, ev.Type())
		}
	}
	sb, err := ci.sub(ctx, "", ci.t.fallback)
	if err != nil {
		return err
	}
	if isCmd {
		ctx = withCommand(ctx, cmd)
	}
	return sb.inst.Handle(ctx, ev)
}

// command parses ev as a command addressed to this bot, its name in lower
// case.
func (ci *commandInstance) command(ev event.Event) (Command, bool) {
	m, ok := event.AsChatMessage(ev)
	if !ok {
		return Command{}, false
	}
	cmd, ok := ParseCommand(m.ChatText())
	if !ok {
		return Command{}, false
	}
	if bot := ci.s.Bot.Username; cmd.Mention != "" && bot != "" && !strings.EqualFold(cmd.Mention, bot) {
		return Command{}, false
	}
	cmd.Name = strings.ToLower(cmd.Name)
	return cmd, true
}

func withCommand(ctx context.Context, cmd Command) context.Context {
	return context.WithValue(ctx, commandKey{}, &cmd)
}

// sub returns the sub-instance for name ("" for the fallback), making it
// the first time.
func (ci *commandInstance) sub(ctx context.Context, name string, app scope.Application) (*sub, error) {
	if name == "" {
		if ci.fb != nil {
			return ci.fb, nil
		}
	} else {
		for _, sb := range ci.made {
			if sb.name == name {
				return sb, nil
			}
		}
	}
	sb := &sub{owner: ci, name: name}
	s := ci.s
	if name != "" {
		s = s.WithParam("command", name)
	}
	inst, err := app.NewInstance(ctx, s, sb)
	if err == nil && inst == nil {
		err = errors.New("application returned no instance")
	}
	if err != nil {
		return nil, fmt.Errorf("router: %s: %w", sb, err)
	}
	sb.inst = inst
	ci.made = append(ci.made, sb)
	if name == "" {
		ci.fb = sb
	}
	return sb, nil
}

// final hands the disconnect event to every sub-instance, even when one of
// them fails or panics, since each may hold something to release.
func (ci *commandInstance) final(ctx context.Context, ev scope.Final) error {
	var errs []error
	for _, sb := range ci.made {
		if err := handleFinal(ctx, sb.inst, ev); err != nil {
			errs = append(errs, fmt.Errorf("router: %s: %w", sb, err))
		}
	}
	ci.made, ci.fb = nil, nil
	return errors.Join(errs...)
}

func handleFinal(ctx context.Context, inst scope.Instance, ev scope.Final) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &scope.PanicError{Value: v, Stack: debug.Stack()}
		}
	}()
	return inst.Handle(ctx, ev)
}
