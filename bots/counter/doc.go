// Package counter is a chat bot that remembers: it answers the n-th
// message of a conversation with "#n", and goes on counting after the
// conversation went idle, after it was evicted to make room for others, and
// (with the Redis session store) after a restart or in another process.
// "/count" tells the count without counting; "/reset" starts again from 0. It is the smallest consumer with state
// (consumer.Stateful) and works on every chat protocol.
package counter
