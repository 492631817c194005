package redis

import (
	"context"
	"crypto/sha1"
	"encoding/hex"

	goredis "github.com/redis/go-redis/v9"
)

// Scripts make each operation that must count one round trip: a counted
// send (see tally.go) and a group send. They keep channels_redis' rules
// (expire old messages before counting, refuse a full channel, set the
// key's time to live with the add) but count first and expire only when
// the channel looks full, since expired messages matter only when they
// would make a channel refuse a send, and receivers drop them anyway.

// deliverScript adds one message to each of KEYS, skipping full ones, and
// returns how many messages the last of KEYS holds after the add, or -1
// if it was full. Send is the case of one key, and counts with it.
//
// ARGV[1] score, ARGV[2] expiry cutoff score, ARGV[3] key time to live in
// ms, then per key i: ARGV[2i+2] member, ARGV[2i+3] capacity.
var deliverScript = newScript(`
local n = 0
for i, key in ipairs(KEYS) do
  local cap = tonumber(ARGV[2*i+3])
  n = redis.call('ZCARD', key)
  if n >= cap then
    n = n - redis.call('ZREMRANGEBYSCORE', key, '-inf', ARGV[2])
  end
  if n < cap then
    redis.call('ZADD', key, ARGV[1], ARGV[2*i+2])
    redis.call('PEXPIRE', key, ARGV[3])
    n = n + 1
  else
    n = -1
  end
end
return n
`)

// groupSendScript is a batch of whole group sends on a single server:
// the group sends that callers in one process make at the same moment go
// to Redis together, as one call (see groupBatch). For each send in turn
// it drops the group's lapsed members, puts one copy of the message in
// each member's key (one per key, naming every member it serves, as
// channels_redis does), finds each key's capacity from the rules passed
// in, and answers, per send, the member count, how many keys were full,
// how many members those keys serve (the skipped deliveries), and 1 if it
// sent. A send with the all flag set sends nothing when a key is full. The
// keys it writes are computed here, not declared, which a single server
// allows and Cluster does not; cluster mode uses groupDeliverScript.
//
// What a batch repeats is done once: a group named by several sends is
// read once and its copies' routing fields encoded once; a key is counted
// once and then tracked as the batch adds to it, and written with one
// ZADD of all its messages and one PEXPIRE. Each send keeps its own score,
// taken when it was made, so the messages of one channel are received in
// the order they were sent whichever batch carried them.
//
// A process-local key serves every channel of its process, so its
// capacity is the channel capacity times ARGV[6] (see localKeyScale).
//
// KEYS[i] the group key of send i. ARGV[1] expiry cutoff, ARGV[2]
// membership cutoff, ARGV[3] key time to live in ms, ARGV[4] key prefix,
// ARGV[5] default capacity, ARGV[6] the process-local key scale, ARGV[7]
// the number R of capacity rules, then R pairs of Lua pattern and
// capacity, then three arguments per send: its score; the random bytes,
// the map header, the map's pairs and the routing field's name; "1" to
// send all or nothing.
var groupSendScript = newScript(`
local cutoff, gcut, ttl, prefix = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local defcap, scale = tonumber(ARGV[5]), tonumber(ARGV[6])
local first = 8 + 2 * tonumber(ARGV[7])
local function str(s)
  local n = #s
  if n < 32 then return string.char(0xa0 + n) .. s end
  if n < 256 then return string.char(0xd9, n) .. s end
  return string.char(0xda, math.floor(n / 256), n % 256) .. s
end
local function read(g)
  redis.call('ZREMRANGEBYSCORE', g, '-inf', gcut)
  local members = redis.call('ZRANGE', g, 0, -1)
  local bykey, list = {}, {}
  for _, m in ipairs(members) do
    local bang = string.find(m, '!', 1, true)
    local key = prefix .. (bang and string.sub(m, 1, bang) or m)
    local e = bykey[key]
    if not e then
      local cap = defcap
      for i = 8, first - 1, 2 do
        if string.find(m, ARGV[i]) then
          cap = tonumber(ARGV[i+1])
          break
        end
      end
      if bang then
        cap = cap * scale
      end
      e = {key = key, cap = cap, names = {}}
      bykey[key] = e
      list[#list+1] = e
    end
    e.names[#e.names+1] = m
  end
  for _, e in ipairs(list) do
    local k = #e.names
    local parts = {}
    if k < 16 then
      parts[1] = string.char(0x90 + k)
    else
      parts[1] = string.char(0xdc, math.floor(k / 256), k % 256)
    end
    for i, name in ipairs(e.names) do
      parts[i+1] = str(name)
    end
    e.tail = table.concat(parts)
    e.k = k
  end
  return {n = #members, list = list}
end
local groups, count, adds, order, out = {}, {}, {}, {}, {}
for s, g in ipairs(KEYS) do
  local grp = groups[g]
  if not grp then
    grp = read(g)
    groups[g] = grp
  end
  local at = first + 3 * (s - 1)
  local full, skipped, isfull = 0, 0, {}
  for i, e in ipairs(grp.list) do
    local n = count[e.key] or redis.call('ZCARD', e.key)
    if n >= e.cap then
      n = n - redis.call('ZREMRANGEBYSCORE', e.key, '-inf', cutoff)
    end
    count[e.key] = n
    if n >= e.cap then
      isfull[i] = true
      full = full + 1
      skipped = skipped + e.k
    end
  end
  local sent = 0
  if full == 0 or ARGV[at+2] ~= '1' then
    sent = 1
    for i, e in ipairs(grp.list) do
      if not isfull[i] then
        local a = adds[e.key]
        if not a then
          a = {}
          adds[e.key] = a
          order[#order+1] = e.key
        end
        a[#a+1] = ARGV[at]
        a[#a+1] = ARGV[at+1] .. e.tail
        count[e.key] = count[e.key] + 1
      end
    end
  end
  out[#out+1] = grp.n
  out[#out+1] = full
  out[#out+1] = skipped
  out[#out+1] = sent
end
for _, key in ipairs(order) do
  local a = adds[key]
  for i = 1, #a, 512 do
    redis.call('ZADD', key, unpack(a, i, math.min(i + 511, #a)))
  end
  redis.call('PEXPIRE', key, ttl)
end
return out
`)

// groupDeliverScript adds one message to each of KEYS, skipping full ones
// (or, with the all flag, adding nothing if one is full), and returns the
// 1-based indexes of the full keys. A group send across shards runs it
// once per shard.
//
// ARGV[1] score, ARGV[2] expiry cutoff score, ARGV[3] key time to live in
// ms, ARGV[4] "1" to add all or nothing, then per key i: ARGV[2i+3]
// member, ARGV[2i+4] capacity.
var groupDeliverScript = newScript(`
local full = {}
for i, key in ipairs(KEYS) do
  local cap = tonumber(ARGV[2*i+4])
  local n = redis.call('ZCARD', key)
  if n >= cap then
    n = n - redis.call('ZREMRANGEBYSCORE', key, '-inf', ARGV[2])
  end
  if n >= cap then
    full[#full+1] = i
  end
end
if #full > 0 and ARGV[4] == '1' then
  return full
end
local f = 1
for i, key in ipairs(KEYS) do
  if full[f] == i then
    f = f + 1
  else
    redis.call('ZADD', key, ARGV[1], ARGV[2*i+3])
    redis.call('PEXPIRE', key, ARGV[3])
  end
end
return full
`)

// popLiveScript drops the expired messages of KEYS[1] (scores up to
// ARGV[1]) and pops the oldest remaining one, returning member and score,
// or nothing. Receivers run it when a blocking pop returned an expired
// message.
var popLiveScript = goredis.NewScript(`
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
return redis.call('ZPOPMIN', KEYS[1])
`)

// script is a Lua script that must run at most once per call: the
// scripts that deliver messages.
type script struct {
	src string
	sha any // hex SHA-1 of src, boxed once for the commands built here
}

func newScript(src string) *script {
	sum := sha1.Sum([]byte(src))
	return &script{src: src, sha: hex.EncodeToString(sum[:])}
}

// byHash returns a call of s on keys by its hash, not yet sent.
func (s *script) byHash(ctx context.Context, keys []string, args ...any) *goredis.Cmd {
	all := make([]any, 0, 3+len(keys)+len(args))
	all = append(all, "evalsha", s.sha, len(keys))
	for _, k := range keys {
		all = append(all, k)
	}
	cmd := goredis.NewCmd(ctx, append(all, args...)...)
	cmd.SetFirstKeyPos(3)
	return cmd
}

// inFull returns call, a call by hash that the server refused for not
// knowing the script, as a call with the script's source, which also
// loads it.
func (s *script) inFull(ctx context.Context, call *goredis.Cmd) *goredis.Cmd {
	all := append([]any{"eval", s.src}, call.Args()[2:]...)
	cmd := goredis.NewCmd(ctx, all...)
	cmd.SetFirstKeyPos(3)
	return cmd
}

// run calls s on keys through c, by hash, and in full if the server
// lacks it.
func (s *script) run(ctx context.Context, c goredis.UniversalClient, keys []string, args ...any) *goredis.Cmd {
	cmd := s.byHash(ctx, keys, args...)
	if err := c.Process(ctx, once{cmd}); noScript(err) {
		cmd = s.inFull(ctx, cmd)
		_ = c.Process(ctx, once{cmd})
	}
	return cmd
}

func noScript(err error) bool { return goredis.HasErrorPrefix(err, "NOSCRIPT") }

// once marks a command that go-redis must not send again when its
// connection fails before the reply: the server may have run it, and a
// delivery run twice adds its message again after a receiver may already
// have popped it, which breaks at most once. The layer's own clients do
// not retry, but a cluster client resends such commands up to
// MaxRedirects times whatever MaxRetries says, and a client given by
// WithClient may retry. Redirections and READONLY replies, after which
// the command has not run, are still followed.
type once struct{ goredis.Cmder }

func (once) NoRetry() bool { return true }
