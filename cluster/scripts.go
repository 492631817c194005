package cluster

import goredis "github.com/redis/go-redis/v9"

// appendScript appends an entry unless its platform id was seen: SET NX
// and XADD in one step, so that a retry racing its original on another
// process is appended once.
//
// KEYS[1] the stream, KEYS[2] the id's key. ARGV[1] the id's time to live
// in ms, ARGV[2...] the entry's fields and values.
var appendScript = goredis.NewScript(`
if not redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[1]) then
  return false
end
return redis.call('XADD', KEYS[1], '*', unpack(ARGV, 2))
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
