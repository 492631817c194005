package main

import (
	"context"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestDefaultsChatOnTheTerminal(t *testing.T) {
	var out, errs strings.Builder
	err := run(context.Background(), nil, strings.NewReader("hello\n"), &out, &errs)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, errs.String())
	}
	if got := out.String(); got != "[console] You said: hello\n" {
		t.Fatalf("stdout %q", got)
	}
	if !strings.Contains(errs.String(), "echo bot is listening") {
		t.Fatalf("no greeting on stderr: %q", errs.String())
	}
}

func TestVersion(t *testing.T) {
	var out strings.Builder
	if err := run(context.Background(), []string{"-version"}, strings.NewReader(""), &out, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "botserver ") {
		t.Fatalf("got %q", out.String())
	}
}
