package redistest

import (
	"context"
	"crypto/rand"
	"strings"
	"testing"

	goredis "github.com/redis/go-redis/v9"
)

// Client returns a client of the Redis at url, closed when the test ends.
func Client(t testing.TB, url string) *goredis.Client {
	t.Helper()
	opt, err := goredis.ParseURL(url)
	if err != nil {
		t.Fatalf("redis url %q: %v", url, err)
	}
	c := goredis.NewClient(opt)
	t.Cleanup(func() { c.Close() })
	return c
}

// Prefix returns a key prefix that no other test or test run uses, and
// deletes its keys on every server of urls when the test ends, leaving a
// shared Redis as it was.
func Prefix(t testing.TB, urls ...string) string {
	t.Helper()
	prefix := "sbtest." + strings.ToLower(rand.Text()[:10]) + "."
	t.Cleanup(func() {
		for _, url := range urls {
			DeleteKeys(t, url, prefix)
		}
	})
	return prefix
}

// DeleteKeys deletes the keys under prefix on the Redis at url.
func DeleteKeys(t testing.TB, url, prefix string) {
	t.Helper()
	opt, err := goredis.ParseURL(url)
	if err != nil {
		t.Error(err)
		return
	}
	c := goredis.NewClient(opt)
	defer c.Close()
	ctx := context.Background()
	iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	for iter.Next(ctx) {
		c.Unlink(ctx, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Errorf("deleting the test's keys on %s: %v", url, err)
	}
}
