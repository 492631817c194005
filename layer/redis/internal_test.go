package redis

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/layer"
)

func TestCrypterRotation(t *testing.T) {
	oldOnly, _ := newCrypter([]string{"old"})
	rotated, _ := newCrypter([]string{"new", "old"})
	other, _ := newCrypter([]string{"other"})
	sealedOld := oldOnly.seal(nil, []byte("payload"))
	if got, err := rotated.open(sealedOld); err != nil || string(got) != "payload" {
		t.Fatalf("rotated keys open an old message: %q, %v", got, err)
	}
	sealedNew := rotated.seal(nil, []byte("payload"))
	if _, err := oldOnly.open(sealedNew); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("old key opened a message sealed under the new one: %v", err)
	}
	if _, err := other.open(sealedOld); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("unrelated key: %v, want ErrDecrypt", err)
	}
}

// TestJumpShard pins the jump hash, which every process must compute
// alike, and checks that it spreads names and moves few of them when a
// shard is added.
func TestJumpShard(t *testing.T) {
	counts := make([]int, 4)
	moved := 0
	const n = 10000
	for i := range n {
		name := fmt.Sprintf("chat.%d", i)
		counts[jumpShard(name, 4)]++
		if jumpShard(name, 4) != jumpShard(name, 5) {
			moved++
		}
	}
	for i, c := range counts {
		if c < n/4*9/10 || c > n/4*11/10 {
			t.Errorf("shard %d got %d of %d names", i, c, n)
		}
	}
	if moved > n/5*12/10 {
		t.Errorf("adding a fifth shard moved %d of %d names, want about a fifth", moved, n)
	}
	// Fixed values: a change here would split a running deployment.
	for _, c := range []struct {
		name      string
		n, wantOf int
	}{{"chat.0", 8, 2}, {"room", 8, 5}, {"room", 3, 0}, {"specific.abc!", 8, 0}, {"chat.0", 3, 2}} {
		if got := jumpShard(c.name, c.n); got != c.wantOf {
			t.Errorf("jumpShard(%q, %d) = %d, was %d", c.name, c.n, got, c.wantOf)
		}
	}
}

// TestCRC32Shard pins the CRC32 placement to what channels_redis 4.0's
// _consistent_hash returns for the same names, and checks that it
// spreads names evenly.
func TestCRC32Shard(t *testing.T) {
	for _, c := range []struct {
		name      string
		n, wantOf int
	}{
		{"chat.0", 2, 1}, {"room", 2, 0}, {"room", 3, 0}, {"specific.abc!", 8, 7},
		{"chat_lobby", 5, 2}, {"gogroup", 2, 0}, {"go.plain", 2, 1}, {"anything", 1, 0},
	} {
		if got := crc32Shard(c.name, c.n); got != c.wantOf {
			t.Errorf("crc32Shard(%q, %d) = %d, channels_redis says %d", c.name, c.n, got, c.wantOf)
		}
	}
	counts := make([]int, 3)
	const n = 9000
	for i := range n {
		counts[crc32Shard(fmt.Sprintf("chat.%d", i), 3)]++
	}
	for i, c := range counts {
		if c < n/3*9/10 || c > n/3*11/10 {
			t.Errorf("shard %d got %d of %d names", i, c, n)
		}
	}
}

func TestGlobToLua(t *testing.T) {
	for glob, want := range map[string]string{
		"http.request": "^http%.request$",
		"ws.send*":     "^ws%.send.*$",
		"a?[x-z]":      "^a.[x-z]$",
		"a[^0-9]":      "^a[^0-9]$",
		`q\.*`:         "^q%..*$",
		"a%b":          "^a%%b$",
	} {
		if got := globToLua(glob); got != want {
			t.Errorf("globToLua(%q) = %q, want %q", glob, got, want)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	if err := (Config{}).Validate(); err != nil {
		t.Fatalf("zero config: %v", err)
	}
	for _, h := range []Hash{"", HashCRC32, HashJump} {
		if err := (Config{Mode: ModeShards, Shards: []string{"redis://a"}, Hash: h}).Validate(); err != nil {
			t.Errorf("shards with hash %q: %v", h, err)
		}
	}
	for _, c := range []Config{
		{Mode: "sentinels"},
		{Mode: ModeShards},
		{Mode: ModeSentinel, Sentinel: SentinelConfig{Addrs: []string{"a:1"}}},
		{Mode: ModeCluster},
		{URL: "http://x"},
		{Shards: []string{"redis://a"}},
		{Prefix: "a*"},
		{BlockTime: 1500 * time.Millisecond},
		{EncryptionKeys: []string{""}},
		{Config: layer.Config{Capacity: -1}},
		{Mode: ModeShards, Shards: []string{"redis://a"}, Hash: "md5"},
		{Hash: HashJump},
	} {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v: Validate accepted it", c)
		} else if !errors.Is(err, ErrConfig) && c.Capacity >= 0 {
			t.Errorf("%+v: %v does not wrap ErrConfig", c, err)
		}
	}
	d := Config{}.withDefaults()
	if d.Mode != ModeSingle || d.URL != DefaultURL || d.Prefix != "asgi" || d.BlockTime != time.Second || d.Capacity != 100 {
		t.Errorf("defaults: %+v", d)
	}
}
