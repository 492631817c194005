package cluster

import goredis "github.com/redis/go-redis/v9"

// fetchScript takes a batch of the partition's entries for the lease's
// token holder only: new ones (XREADGROUP, never blocking) or, from a
// cursor, those pending (XAUTOCLAIM). Taking entries under the token's
// check is what keeps an owner that paused past its lease from taking
// entries once the next owner claimed what was pending: those entries
// would wait, unclaimed, in its list of pending entries, and the next
// owner's reads and trims would pass them by.
//
// It also marks the platform ids of the batch as seen (SET NX GET), and
// tells which entries are duplicates: an id already marked by another
// entry. The mark names the entry that set it, so that an entry read again
// (claimed after its owner died) is not taken for a duplicate of itself.
// The marks' keys share the partition's hash tag: on Redis Cluster they
// live on the stream's slot.
//
// It also acknowledges the entries handled since the last script did
// (XACK), so that a busy partition's reads carry its acknowledgements.
//
// It returns -1 when the token is not the lease's, else {next, entries,
// flags, deleted, acknowledged}: XAUTOCLAIM's next cursor (when claiming) or, when no new
// entry came, the id after which to wait for one ("0-0" for an empty
// stream); the entries as Redis gives them; a 0 (first) or 1 (duplicate)
// per entry; the ids of pending entries that were no longer in the stream
// (claiming); and how many entries XACK acknowledged.
//
// KEYS[1] the lease, KEYS[2] the stream. ARGV[1] the token, ARGV[2] the
// group, ARGV[3] the consumer, ARGV[4] the batch's size, ARGV[5] the
// marks' time to live in ms, ARGV[6] "" to read new entries or the cursor
// to claim from, ARGV[7] the marks' key prefix, ARGV[8] the entries' field
// of the platform id, ARGV[9] their field of the adapter's name,
// ARGV[10...] the ids to acknowledge.
var fetchScript = goredis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return -1
end
local acked = 0
if #ARGV > 9 then
  acked = redis.call('XACK', KEYS[2], ARGV[2], unpack(ARGV, 10))
end
local next, entries, deleted = '', {}, {}
if ARGV[6] == '' then
  local r = redis.call('XREADGROUP', 'GROUP', ARGV[2], ARGV[3], 'COUNT', ARGV[4], 'STREAMS', KEYS[2], '>')
  if r then
    entries = r[1][2]
  else
    local last = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
    next = '0-0'
    if last[1] then
      next = last[1][1]
    end
  end
else
  -- Redis 7 lists the deleted entries apart; Redis 6.2 gives them in
  -- place, without fields.
  local r = redis.call('XAUTOCLAIM', KEYS[2], ARGV[2], ARGV[3], 0, ARGV[6], 'COUNT', ARGV[4])
  next = r[1]
  for _, e in ipairs(r[2]) do
    if type(e) == 'table' and type(e[2]) == 'table' then
      entries[#entries + 1] = e
    elseif type(e) == 'table' then
      deleted[#deleted + 1] = e[1]
    end
  end
  if type(r[3]) == 'table' then
    for _, id in ipairs(r[3]) do
      deleted[#deleted + 1] = id
    end
  end
end
local flags = {}
for i, e in ipairs(entries) do
  flags[i] = 0
  local id, adapter = nil, ''
  local f = e[2]
  if f then
    for j = 1, #f, 2 do
      if f[j] == ARGV[8] then
        id = f[j + 1]
      elseif f[j] == ARGV[9] then
        adapter = f[j + 1]
      end
    end
  end
  if id and id ~= '' then
    local was = redis.call('SET', ARGV[7] .. adapter .. ':' .. id, e[1], 'NX', 'PX', ARGV[5], 'GET')
    if was and was ~= e[1] then
      flags[i] = 1
    end
  end
end
return {next, entries, flags, deleted, acked}
`)

// ackScript acknowledges entries and trims the stream for the lease's
// token holder only: a process that lost its lease cannot act on the
// partition. A trim never passes an entry still pending, whoever it was
// read by. It returns -1 when the token is not the lease's.
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
  local keep = ARGV[3]
  local pending = redis.call('XPENDING', KEYS[2], ARGV[2])
  if pending[1] > 0 then
    local pm, ps = string.match(pending[2], '^(%d+)-(%d+)$')
    local km, ks = string.match(keep, '^(%d+)-(%d+)$')
    pm, ps, km, ks = tonumber(pm), tonumber(ps), tonumber(km), tonumber(ks)
    if pm < km or (pm == km and ps < ks) then
      keep = pending[2]
    end
  end
  redis.call('XTRIM', KEYS[2], 'MINID', keep)
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
