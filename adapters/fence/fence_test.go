package fence_test

import (
	"context"
	"errors"
	"testing"

	"github.com/switchboard-bots/switchboard/adapters/fence"
)

var errNoSuchNick = errors.New("401 no such nick")

func to(target string) func(string, string) bool {
	return func(_ string, about string) bool { return about == target }
}

func settled(f *fence.Fence[string]) bool {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return !errors.Is(f.Wait(ctx), context.Canceled)
}

func TestRefusalBeforeTheAnswer(t *testing.T) {
	var s fence.Set[string]
	alice, bob := s.Open("alice"), s.Open("bob")
	if alice.Token == bob.Token {
		t.Fatal("two fences share a token")
	}
	if n := s.Refuse(errNoSuchNick, to("bob")); n != 1 {
		t.Fatalf("Refuse filed the refusal with %d fences, want 1", n)
	}
	if settled(bob) {
		t.Fatal("a refusal settled its fence before the answer came")
	}
	s.Settle(bob.Token)
	s.Settle(alice.Token)
	if err := bob.Wait(context.Background()); !errors.Is(err, errNoSuchNick) {
		t.Fatalf("bob: %v, want the refusal", err)
	}
	if err := alice.Wait(context.Background()); err != nil {
		t.Fatalf("alice: %v, want nil: the refusal was not about her", err)
	}
	if n := s.Refuse(errNoSuchNick, to("bob")); n != 0 {
		t.Fatalf("a settled fence took a refusal (%d)", n)
	}
}

func TestFirstRefusalStands(t *testing.T) {
	var s fence.Set[string]
	f := s.Open("#chan")
	later := errors.New("404 cannot send")
	s.Refuse(errNoSuchNick, to("#chan"))
	s.Refuse(later, to("#chan"))
	s.Lose(fence.ErrLost)
	if err := f.Wait(context.Background()); !errors.Is(err, errNoSuchNick) {
		t.Fatalf("got %v, want the first refusal, kept through the loss", err)
	}
}

func TestLoseSettlesOpenAndLaterFences(t *testing.T) {
	var s fence.Set[string]
	f := s.Open("alice")
	s.Lose(fence.ErrLost)
	if err := f.Wait(context.Background()); !errors.Is(err, fence.ErrLost) {
		t.Fatalf("open fence: %v, want the loss", err)
	}
	if err := s.Open("bob").Wait(context.Background()); !errors.Is(err, fence.ErrLost) {
		t.Fatalf("fence opened after the loss: %v, want the loss", err)
	}
}

func TestWaitEndsWithItsContext(t *testing.T) {
	var s fence.Set[string]
	f := s.Open("alice")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.Wait(ctx) }()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait: %v, want context.Canceled", err)
	}
	s.Settle(f.Token) // the sender gave up: the fence is forgotten
	if n := s.Refuse(errNoSuchNick, to("alice")); n != 0 {
		t.Fatal("a forgotten fence took a refusal")
	}
}
