package cluster

import goredis "github.com/redis/go-redis/v9"

// claimScript takes, for the lease's token holder only, a batch of the
// entries a previous owner of the partition left pending (XAUTOCLAIM from a
// cursor): what a new owner does first. Taking entries under the token's
// check is what keeps an owner that paused past its lease from taking
// entries once the next owner claimed what was pending: those entries
// would wait, unclaimed, in its list of pending entries, and the next
// owner's reads and trims would pass them by.
//
// Like stepScript it marks the platform ids of the batch as seen, and
// acknowledges the entries handled since the last script did.
//
// It returns -1 when the token is not the lease's, else {next, entries,
// flags, deleted, acknowledged}: XAUTOCLAIM's next cursor ("0-0" once
// every pending entry was claimed); the entries as Redis gives them; a 0
// (first) or 1 (duplicate) per entry; the ids of pending entries that were
// no longer in the stream; and how many entries XACK acknowledged.
//
// KEYS[1] the lease, KEYS[2] the stream. ARGV[1] the token, ARGV[2] the
// group, ARGV[3] the consumer, ARGV[4] the batch's size, ARGV[5] the
// marks' time to live in ms, ARGV[6] the cursor to claim from, ARGV[7] the
// marks' key prefix, ARGV[8] the entries' field of the platform id,
// ARGV[9] their field of the adapter's name, ARGV[10...] the ids to
// acknowledge.
var claimScript = goredis.NewScript(marks + `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return -1
end
local acked = 0
if #ARGV > 9 then
  acked = redis.call('XACK', KEYS[2], ARGV[2], unpack(ARGV, 10))
end
local entries, deleted = {}, {}
-- Redis 7 lists the deleted entries apart; Redis 6.2 gives them in
-- place, without fields.
local r = redis.call('XAUTOCLAIM', KEYS[2], ARGV[2], ARGV[3], 0, ARGV[6], 'COUNT', ARGV[4])
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
return {r[1], entries, mark(entries, ARGV[7], ARGV[5], ARGV[8], ARGV[9]), deleted, acked}
`)

// marks is the Lua function the reading scripts share: mark(entries,
// prefix, ttl, idField, adapterField) marks the platform id of each entry
// as seen (SET NX GET), and returns a 0 (first) or 1 (duplicate) per
// entry: 1 when another entry marked its id already. The mark names the
// entry that set it, so that an entry read again (claimed after its owner
// died) is not taken for a duplicate of itself. The marks' keys share the
// partition's hash tag: on Redis Cluster they live on the stream's slot.
const marks = `
local function mark(entries, prefix, ttl, idField, adapterField)
  local flags = {}
  for i, e in ipairs(entries) do
    flags[i] = 0
    local id, adapter = nil, ''
    local f = e[2]
    if f then
      for j = 1, #f, 2 do
        if f[j] == idField then
          id = f[j + 1]
        elseif f[j] == adapterField then
          adapter = f[j + 1]
        end
      end
    end
    if id and id ~= '' then
      local was = redis.call('SET', prefix .. adapter .. ':' .. id, e[1], 'NX', 'PX', ttl, 'GET')
      if was and was ~= e[1] then
        flags[i] = 1
      end
    end
  end
  return flags
end
`

// stepScript acknowledges, trims and reads new entries of several
// partitions at once, each only for its lease's token holder: a process
// that lost a lease can neither take that partition's entries nor act on
// it. One call serves every partition a Node owns on one Redis (on Redis
// Cluster, where a script's keys must share a slot, one partition), so
// that a Node's quiet partitions share the fixed costs of a call: one
// MGET of the leases and one XREADGROUP over the streams it reads.
//
// Per partition, in order: the ids handled since the last script to
// acknowledge (XACK); a trim (XTRIM MINID) to the lowest id to keep, which
// never passes an entry still pending, whoever it was read by; and, when
// asked, a read of new entries (XREADGROUP, never blocking), whose
// platform ids are marked as seen (see marks). A read that found no new
// entry returns the stream's last id instead ("0-0" when it is empty):
// the id after which to wait for one.
//
// It returns, per partition, -1 when the token is not the lease's, else
// {acknowledged, entries, flags, tail}.
//
// KEYS: per partition, its lease and its stream. ARGV[1] the group,
// ARGV[2] the consumer, ARGV[3] the batch's size, ARGV[4] the marks' time
// to live in ms, ARGV[5] the entries' field of the platform id, ARGV[6]
// their field of the adapter's name; then per partition: its token, its
// marks' key prefix, "1" to read new entries or "" not to, the lowest id
// to keep ("" to trim nothing), how many ids to acknowledge, and those
// ids.
var stepScript = goredis.NewScript(marks + `
local group, consumer, count, ttl = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local n = #KEYS / 2
local leases = {}
for i = 1, n do
  leases[i] = KEYS[2 * i - 1]
end
local held = redis.call('MGET', unpack(leases))
local out, reads, a = {}, {}, 7
for i = 1, n do
  local stream, nacks = KEYS[2 * i], tonumber(ARGV[a + 4])
  if held[i] ~= ARGV[a] then
    out[i] = -1
  else
    local acked = 0
    if nacks > 0 then
      acked = redis.call('XACK', stream, group, unpack(ARGV, a + 5, a + 4 + nacks))
    end
    local keep = ARGV[a + 3]
    if keep ~= '' then
      local pending = redis.call('XPENDING', stream, group)
      if pending[1] > 0 then
        local pm, ps = string.match(pending[2], '^(%d+)-(%d+)$')
        local km, ks = string.match(keep, '^(%d+)-(%d+)$')
        pm, ps, km, ks = tonumber(pm), tonumber(ps), tonumber(km), tonumber(ks)
        if pm < km or (pm == km and ps < ks) then
          keep = pending[2]
        end
      end
      redis.call('XTRIM', stream, 'MINID', keep)
    end
    out[i] = {acked, {}, {}, ''}
    if ARGV[a + 2] ~= '' then
      reads[#reads + 1] = {i, stream, ARGV[a + 1]}
    end
  end
  a = a + 5 + nacks
end
if #reads > 0 then
  local args = {'GROUP', group, consumer, 'COUNT', count, 'STREAMS'}
  for _, r in ipairs(reads) do
    args[#args + 1] = r[2]
  end
  for _ in ipairs(reads) do
    args[#args + 1] = '>'
  end
  local got = {}
  local r = redis.call('XREADGROUP', unpack(args))
  if r then
    for _, s in ipairs(r) do
      got[s[1]] = s[2]
    end
  end
  for _, r in ipairs(reads) do
    local i, entries = r[1], got[r[2]]
    if entries and #entries > 0 then
      out[i][2] = entries
      out[i][3] = mark(entries, r[3], ttl, ARGV[5], ARGV[6])
    else
      local last = redis.call('XREVRANGE', r[2], '+', '-', 'COUNT', 1)
      out[i][4] = '0-0'
      if last[1] then
        out[i][4] = last[1][1]
      end
    end
  end
end
return out
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
