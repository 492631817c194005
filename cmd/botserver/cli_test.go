package main_test

import (
	"os/exec"
	"strings"
	"testing"
)

// run runs the binary with args and returns its stdout, stderr and exit
// code.
func run(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	var o, e strings.Builder
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	return o.String(), e.String(), exitCode(err)
}

func TestHelpPrintsUsageToStdoutAndExitsZero(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"-help"}, {"--help"}, {"help"}} {
		out, errOut, code := run(t, args...)
		if code != 0 || !strings.HasPrefix(out, "usage:\n  botserver [-config FILE]") || errOut != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out, errOut)
		}
	}
}

func TestCheckHelpPrintsItsUsageOnce(t *testing.T) {
	out, errOut, code := run(t, "check", "-h")
	if code != 0 || errOut != "" || strings.Count(out, "usage:") != 1 || !strings.Contains(out, "botserver check -config FILE") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

func TestBadFlagExitsTwoWithUsageOnStderr(t *testing.T) {
	for _, args := range [][]string{{"-bogus"}, {"check", "-bogus"}} {
		out, errOut, code := run(t, args...)
		if code != 2 || out != "" || !strings.Contains(errOut, "flag provided but not defined: -bogus") ||
			strings.Count(errOut, "usage:") != 1 {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out, errOut)
		}
	}
}

func TestCheckRejectsStrayArgument(t *testing.T) {
	_, errOut, code := run(t, "check", "-config", "x.yaml", "extra")
	if code != 2 || !strings.HasPrefix(errOut, `botserver check: unexpected argument "extra"`) {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
}

func TestCheckReportsEveryErrorOnceWithFileLineAndKey(t *testing.T) {
	path := writeConfig(t, `scopes:
  max_scopes: -3
  inbox_size: -1
  idle_timeout: 5m
websocket:
  addr: 127.0.0.1:0
  scopes:
    shutdown_parallelism: -2
telegram:
  mode: bogus
  token: x
routes:
  websocket: {bot: wschat}
  telegram: {bot: echo}
`)
	out, errOut, code := run(t, "check", "-config", path)
	want := []string{
		path + ":3: scopes.inbox_size: must not be negative, got -1",
		path + ":7: websocket.scopes.shutdown_parallelism: must not be negative, got -2",
		path + `:9: telegram: mode must be "polling" or "webhook", got "bogus"`,
	}
	if code != 2 || out != "" || errOut != strings.Join(want, "\n")+"\n" {
		t.Fatalf("exit %d, stdout %q, stderr:\n%s\nwant:\n%s", code, out, errOut, strings.Join(want, "\n"))
	}
}
