package redis_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/switchboard-bots/switchboard/layer/layertest"
	"github.com/switchboard-bots/switchboard/layer/redis"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var features = layertest.Features{
	MultiProcess:         true,
	ProcessLocalChannels: true,
	Expiry:               true,
	GroupExpiry:          true,
}

func TestConformance(t *testing.T) {
	url := sharedURL(t)
	layertest.Run(t, factory(redis.Config{URL: url, Prefix: testPrefix(t, url)}), features)
}
