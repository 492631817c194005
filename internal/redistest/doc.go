// Package redistest finds the Redis a test uses, or starts one: the
// shared Redis named by SWITCHBOARD_REDIS_URL, else the one on
// 127.0.0.1:6379, else a redis-server of the test's own on a free
// loopback port, so that the tests pass on a machine where nothing runs
// Redis. Tests that stop, fill or reconfigure Redis always start their own
// (Start), never touching the shared one.
package redistest
