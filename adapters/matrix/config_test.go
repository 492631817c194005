package matrix_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/switchboard-bots/switchboard/adapters"
	"github.com/switchboard-bots/switchboard/adapters/matrix"
)

func TestValidate(t *testing.T) {
	for _, c := range []struct {
		cfg  matrix.Config
		want string
	}{
		{matrix.Config{AccessToken: "x"}, "homeserver must be an http(s) URL"},
		{matrix.Config{Homeserver: "matrix.example.org", AccessToken: "x"}, "homeserver must be an http(s) URL"},
		{matrix.Config{Homeserver: "https://matrix.example.org"}, "access_token is required"},
		{matrix.Config{Homeserver: "https://m.org", AccessToken: "x", UserID: "bot"}, "user_id must look like @name:server"},
		{matrix.Config{Homeserver: "https://m.org", AccessToken: "x", MaxInflight: -1}, "must not be negative"},
	} {
		err := c.cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.cfg, err, c.want)
		}
	}
	if err := (matrix.Config{Homeserver: "https://m.org", AccessToken: "x", UserID: "@bot:m.org"}).Validate(); err != nil {
		t.Errorf("a good config: %v", err)
	}
}

func setup(t *testing.T, src string) adapters.Setup {
	return adapters.Setup{Name: "support", Logger: slog.New(slog.DiscardHandler), Decode: func(v any) error {
		d := yaml.NewDecoder(strings.NewReader(src))
		d.KnownFields(true)
		return d.Decode(v)
	}}
}

func TestFactory(t *testing.T) {
	a, err := matrix.Factory(setup(t, `
homeserver: https://matrix.example.org
access_token: syt_secret
store: /tmp/x.json
threads: true
sync: {timeout: 10s, max_pending: 5, lease_ttl: 3s}
retry: {max_attempts: 2, min_backoff: 100ms, max_backoff: 1s}
max_inflight: 2
`))
	if err != nil {
		t.Fatal(err)
	}
	if a.Name() != "support" {
		t.Errorf("name %q, want the section's", a.Name())
	}
	if _, err := matrix.Factory(setup(t, "homeserver: https://m.org\naccess_token: x\nencryption: true\n")); err == nil {
		t.Error("an unknown key was accepted")
	}
	_, err = matrix.Factory(setup(t, "homeserver: https://m.org\n"))
	if err == nil || err.Error() != "matrix support: access_token is required" {
		t.Errorf("a section without a token: %v", err)
	}
}

func TestSecretRedacted(t *testing.T) {
	cfg := matrix.Config{Homeserver: "https://m.org", AccessToken: "syt_secret"}
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("config", "cfg", cfg, "token", cfg.AccessToken)
	out := buf.String() + fmt.Sprintf("%v %+v %#v %s", cfg, cfg, cfg, cfg.AccessToken)
	if strings.Contains(out, "syt_secret") {
		t.Fatalf("the token shows: %s", out)
	}
}

func TestFileStore(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "matrix.json")
	fs := matrix.FileStore{Path: path}
	if st, err := fs.Load(ctx); err != nil || st.NextBatch != "" {
		t.Fatalf("a missing file: %+v %v, want the zero State", st, err)
	}
	want := matrix.State{NextBatch: "s42", Handled: []string{"$a", "$b"}}
	if err := fs.Save(ctx, want); err != nil {
		t.Fatal(err)
	}
	got, err := fs.Load(ctx)
	if err != nil || got.NextBatch != want.NextBatch || strings.Join(got.Handled, ",") != "$a,$b" {
		t.Fatalf("loaded %+v %v, want %+v", got, err, want)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("%d files beside the store, want none left over", len(entries)-1)
	}
	if err := os.WriteFile(path, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := fs.Load(ctx); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("a corrupt store: %v, want an error naming the file", err)
	}
	bad := matrix.FileStore{Path: filepath.Join(t.TempDir(), "missing", "dir", "x.json")}
	if err := bad.Save(ctx, want); err == nil || errors.Is(err, context.Canceled) {
		t.Errorf("saving into a missing directory: %v, want an error", err)
	}
}
