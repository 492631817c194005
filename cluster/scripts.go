package cluster

import goredis "github.com/redis/go-redis/v9"

// seenScript marks the platform ids of a batch of entries as seen, for the
// lease's token holder only, and tells which entries are duplicates: an id
// already marked by another entry. The mark names the entry that set it,
// so that an entry read again (claimed after its owner died) is not taken
// for a duplicate of itself. It returns -1 when the token is not the
// lease's, else a 0 (first) or 1 (duplicate) per entry.
//
// KEYS[1] the lease, KEYS[2...] the ids' keys. ARGV[1] the token, ARGV[2]
// the marks' time to live in ms, ARGV[3...] the entries' ids.
var seenScript = goredis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return -1
end
local out = {}
for i = 2, #KEYS do
  local id = ARGV[i + 1]
  local was = redis.call('SET', KEYS[i], id, 'NX', 'PX', ARGV[2], 'GET')
  if was and was ~= id then
    out[i - 1] = 1
  else
    out[i - 1] = 0
  end
end
return out
`)

// ackScript acknowledges entries and trims the stream for the lease's
// token holder only: a process that lost its lease cannot act on the
// partition. It returns -1 when the token is not the lease's.
//
// KEYS[1] the lease, KEYS[2] the stream. ARGV[1] the token, ARGV[2] the
// group, ARGV[3] the lowest id to keep ("" to keep all), ARGV[4...] the
// ids to acknowledge.
var ackScript = goredis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return -1
end
local n = 0
if #ARGV > 3 then
  n = redis.call('XACK', KEYS[2], ARGV[2], unpack(ARGV, 4))
end
if ARGV[3] ~= '' then
  redis.call('XTRIM', KEYS[2], 'MINID', ARGV[3])
end
return n
`)

// renewScript extends the lease if token holds it.
//
// KEYS[1] the lease. ARGV[1] the token, ARGV[2] the time to live in ms.
var renewScript = goredis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
`)

// releaseScript frees the lease if token holds it.
//
// KEYS[1] the lease. ARGV[1] the token.
var releaseScript = goredis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`)
