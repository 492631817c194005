package redis

import goredis "github.com/redis/go-redis/v9"

// Scripts make each operation one round trip; they keep channels_redis'
// rules (expire old messages before counting, refuse a full channel,
// refresh the key's time to live on every add) but count first and expire
// only when the channel looks full, since expired messages matter only
// when they would make a channel refuse a send, and receivers drop them
// anyway.

// deliverScript adds one message to each of KEYS, skipping full ones, and
// returns how many were full. Send is the case of one key.
//
// ARGV[1] score, ARGV[2] expiry cutoff score, ARGV[3] key time to live in
// ms, then per key i: ARGV[2i+2] member, ARGV[2i+3] capacity.
var deliverScript = goredis.NewScript(`
local full = 0
for i, key in ipairs(KEYS) do
  local cap = tonumber(ARGV[2*i+3])
  local n = redis.call('ZCARD', key)
  if n >= cap then
    n = n - redis.call('ZREMRANGEBYSCORE', key, '-inf', ARGV[2])
  end
  if n < cap then
    redis.call('ZADD', key, ARGV[1], ARGV[2*i+2])
    redis.call('PEXPIRE', key, ARGV[3])
  else
    full = full + 1
  end
end
return full
`)

// deliverSHA is deliverScript's hash, boxed once for the commands Send
// builds itself.
var deliverSHA any = deliverScript.Hash()

// groupSendScript is a whole group send on a single server: it drops
// lapsed members, puts one copy of the message in each member's key (one
// per key, naming every member it serves, as channels_redis does), finds
// each key's capacity from the rules passed in, and returns the member
// count and how many keys were full. The keys it writes are computed
// here, not declared, which a single server allows and Cluster does not;
// cluster mode uses deliverScript instead.
//
// KEYS[1] group key. ARGV[1] score, ARGV[2] expiry cutoff, ARGV[3]
// membership cutoff, ARGV[4] key time to live in ms, ARGV[5] key prefix,
// ARGV[6] default capacity, ARGV[7] random bytes and map header,
// ARGV[8] the map's pairs followed by the routing field's name, then
// pairs of Lua pattern and capacity.
var groupSendScript = goredis.NewScript(`
local g = KEYS[1]
redis.call('ZREMRANGEBYSCORE', g, '-inf', ARGV[3])
local members = redis.call('ZRANGE', g, 0, -1)
local prefix = ARGV[5]
local bykey, order = {}, {}
for _, m in ipairs(members) do
  local bang = string.find(m, '!', 1, true)
  local key = prefix .. (bang and string.sub(m, 1, bang) or m)
  local e = bykey[key]
  if not e then
    local cap = tonumber(ARGV[6])
    for i = 9, #ARGV, 2 do
      if string.find(m, ARGV[i]) then
        cap = tonumber(ARGV[i+1])
        break
      end
    end
    e = {cap = cap, names = {}}
    bykey[key] = e
    order[#order+1] = key
  end
  e.names[#e.names+1] = m
end
local function str(s)
  local n = #s
  if n < 32 then return string.char(0xa0 + n) .. s end
  if n < 256 then return string.char(0xd9, n) .. s end
  return string.char(0xda, math.floor(n / 256), n % 256) .. s
end
local full = 0
for _, key in ipairs(order) do
  local e = bykey[key]
  local n = redis.call('ZCARD', key)
  if n >= e.cap then
    n = n - redis.call('ZREMRANGEBYSCORE', key, '-inf', ARGV[2])
  end
  if n < e.cap then
    local k = #e.names
    local parts = {ARGV[7], ARGV[8]}
    if k < 16 then
      parts[3] = string.char(0x90 + k)
    else
      parts[3] = string.char(0xdc, math.floor(k / 256), k % 256)
    end
    for i, name in ipairs(e.names) do
      parts[i+3] = str(name)
    end
    redis.call('ZADD', key, ARGV[1], table.concat(parts))
    redis.call('PEXPIRE', key, ARGV[4])
  else
    full = full + 1
  end
end
return {#members, full}
`)

// popLiveScript drops the expired messages of KEYS[1] (scores up to
// ARGV[1]) and pops the oldest remaining one, returning member and score,
// or nothing. Receivers run it when a blocking pop returned an expired
// message.
var popLiveScript = goredis.NewScript(`
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
return redis.call('ZPOPMIN', KEYS[1])
`)
