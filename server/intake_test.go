package server_test

import (
	"strings"
	"testing"

	"github.com/switchboard-bots/switchboard/server"
)

// layer.intake is checked with the rest of the file: it needs the Redis
// layer on one deployment, and sane sizes.
func TestIntakeConfig(t *testing.T) {
	for _, c := range []struct{ layer, want string }{
		{`{backend: redis, intake: {enabled: true, partitions: 8, lease: 2s}}`, ""},
		{`{backend: redis, intake: {enabled: false, partitions: 8}}`, ""},
		{`{backend: memory, intake: {enabled: true}}`, "layer.intake.enabled needs layer.backend: redis"},
		{`{backend: redis, redis: {mode: shards, shards: ["redis://127.0.0.1:1/0"]}, intake: {enabled: true}}`, "mode single, sentinel or cluster"},
		{`{backend: redis, intake: {enabled: true, partitions: -1}}`, "partitions must be between 1 and 16384"},
		{`{backend: redis, intake: {enabled: true, lease: 1ms}}`, "lease must be at least 30ms"},
	} {
		cfg, err := server.Parse("bot.yaml", []byte("layer: "+c.layer+"\nfake: {}\nroutes:\n  fake: {bot: replier}\n"), env())
		if err == nil {
			err = server.Check(cfg, fakeRegistry(new(fakes)))
		}
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.layer, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: error %v, want one saying %q", c.layer, err, c.want)
		}
	}
}
