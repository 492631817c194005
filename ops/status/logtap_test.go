package status_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/switchboard-bots/switchboard/ops/status"
)

// TestLogTapRemembersEachAdaptersLastLineAndProblem: an adapter named by
// a record's attribute or by Logger.With gets its last line and problem,
// masked; warnings without an adapter go to the recent list only; lines
// under the logger's level are not seen; every record reaches the log.
func TestLogTapRemembersEachAdaptersLastLineAndProblem(t *testing.T) {
	var out bytes.Buffer
	tap := status.NewLogTap(status.LogTapOptions{Recent: 3, Redact: func(s string) string {
		return strings.ReplaceAll(s, "s3cret", "*****")
	}})
	log := slog.New(tap.Handler(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelInfo})))

	log.Info("telegram: this process polls", "adapter", "tg")
	log.Warn("telegram: getUpdates failed; retrying", "adapter", "tg", "err", errors.New("dial https://api/bots3cret: refused"))
	log.Debug("telegram: update handled", "adapter", "tg") // under the level
	irc := log.With("adapter", "irc", "server", "irc.example:6697")
	irc.Warn("irc: connection lost; reconnecting", "err", "EOF")
	irc.Info("irc: joined")
	log.Error("scope failed", "scope", "x", "err", "boom") // no adapter
	log.WithGroup("g").Warn("grouped", "adapter", "not-an-adapter")

	tg := tap.Adapter("tg")
	if tg.Said == nil || tg.Said.Message != "telegram: getUpdates failed; retrying" || tg.Problems != 1 {
		t.Fatalf("tg: %+v, want its last line the warning, one problem", tg)
	}
	if p := tg.Problem; p.Level != slog.LevelWarn || p.Err != "dial https://api/bot*****: refused" || p.Time.IsZero() {
		t.Fatalf("tg's problem: %+v, want the warning with its error masked", p)
	}
	ircLog := tap.Adapter("irc")
	if ircLog.Said.Message != "irc: joined" || ircLog.Problem.Message != "irc: connection lost; reconnecting" || ircLog.Problem.Err != "EOF" {
		t.Fatalf("irc: said %+v, problem %+v", ircLog.Said, ircLog.Problem)
	}
	if a := tap.Adapter("not-an-adapter"); a.Said != nil {
		t.Fatalf("an attribute in a group was taken for the adapter: %+v", a)
	}
	var got []string
	for _, l := range tap.Recent() {
		got = append(got, l.Adapter+"|"+l.Message)
	}
	// Recent keeps 3: the oldest warning (tg's) is gone.
	want := []string{"|grouped", "|scope failed", "irc|irc: connection lost; reconnecting"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("recent: %q, want %q (newest first)", got, want)
	}
	if n := strings.Count(out.String(), "\n"); n != 6 {
		t.Fatalf("the log got %d lines, want every record at or over its level (6):\n%s", n, out.String())
	}
	if !strings.Contains(out.String(), "bots3cret") {
		t.Fatal("the tap changed the record it passed on") // masking the log is the logger's own job
	}
	if !tap.Handler(slog.NewTextHandler(&out, nil)).Enabled(context.Background(), slog.LevelInfo) ||
		tap.Handler(slog.NewTextHandler(&out, nil)).Enabled(context.Background(), slog.LevelDebug) {
		t.Fatal("Enabled is not the wrapped handler's")
	}
}
