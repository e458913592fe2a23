/**
 * The Lua scripts. Each runs atomically on the Redis server, so deadlines, touch-if-exists,
 * tombstones and the per-user index can never be seen half-updated by another app instance.
 *
 * Layout under the prefix P (ids are SHA-256 of tokens, hex; the raw token never reaches Redis):
 *   P s:<id>   HASH  u userId, r role ('-' = none, '+name'), c createdAt, a authAt,
 *                    l lastActivityAt, i idleTimeoutMs, x absoluteExpiresAt, k index key
 *   P t:<id>   STRING tombstone of a revoked session, until its absolute deadline (+ grace)
 *   P u:<h>    ZSET  the user's session ids scored by createdAt (h = SHA-256 of the user id)
 *
 * Records are returned as 8 strings: id, u, r, c, a, l, i, x.
 *
 * @module
 */

// Shared Lua: read a record, classify it, delete it, bury it (delete + tombstone), bump index TTL.
const LIB = `
local function rec(key)
  local v = redis.call('HMGET', key, 'u', 'r', 'c', 'a', 'l', 'i', 'x', 'k')
  if not v[1] then return nil end
  return v
end
local function expired(v, now)
  if now >= tonumber(v[7]) then return 'absolute' end
  if now >= tonumber(v[5]) + tonumber(v[6]) then return 'idle' end
  return nil
end
local function out(t, id, v)
  t[#t + 1] = id
  for j = 1, 7 do t[#t + 1] = v[j] end
end
local function bury(prefix, id, v, now, grace)
  redis.call('DEL', prefix .. 's:' .. id)
  redis.call('ZREM', v[8], id)
  local ttl = tonumber(v[7]) - now + grace
  if ttl > 0 then redis.call('SET', prefix .. 't:' .. id, '1', 'PX', ttl) end
end
local function bumpIndex(idx, abs, now, grace)
  local want = abs - now + grace
  if redis.call('PTTL', idx) < want then redis.call('PEXPIRE', idx, want) end
end
`

/** KEYS: s:id, t:id. ARGV: now, activity (1/0), grace, id. */
export const TOUCH: string = `${LIB}
local now = tonumber(ARGV[1])
local v = rec(KEYS[1])
if not v then
  if redis.call('EXISTS', KEYS[2]) == 1 then return {'revoked'} end
  return {'unknown'}
end
local why = expired(v, now)
if why then
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', v[8], ARGV[4])
  local t = {'expired', why}
  out(t, ARGV[4], v)
  return t
end
if ARGV[2] == '1' and now > tonumber(v[5]) then
  v[5] = ARGV[1]
  redis.call('HSET', KEYS[1], 'l', ARGV[1])
  local dl = math.min(now + tonumber(v[6]), tonumber(v[7]))
  redis.call('PEXPIRE', KEYS[1], dl - now + tonumber(ARGV[3]))
end
local t = {'active'}
out(t, ARGV[4], v)
return t
`

/**
 * KEYS: s:id (new), index. ARGV: now, max, onLimit ('e'|'r'), grace, prefix, id, u, r, c, a, l, i, x.
 * Returns {0} when refused, else {1, evicted records...}.
 */
export const CREATE: string = `${LIB}
local now = tonumber(ARGV[1])
local max = tonumber(ARGV[2])
local grace = tonumber(ARGV[4])
local prefix = ARGV[5]
local live = {}
for _, m in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  local v = rec(prefix .. 's:' .. m)
  if not v then
    redis.call('ZREM', KEYS[2], m)
  elseif expired(v, now) then
    redis.call('DEL', prefix .. 's:' .. m)
    redis.call('ZREM', KEYS[2], m)
  else
    live[#live + 1] = {m, v}
  end
end
local t = {1}
if #live >= max then
  if ARGV[3] == 'r' then return {0} end
  for j = 1, #live - max + 1 do
    local m, v = live[j][1], live[j][2]
    bury(prefix, m, v, now, grace)
    out(t, m, v)
  end
end
local abs = tonumber(ARGV[13])
redis.call('HSET', KEYS[1], 'u', ARGV[7], 'r', ARGV[8], 'c', ARGV[9], 'a', ARGV[10], 'l', ARGV[11], 'i', ARGV[12], 'x', ARGV[13], 'k', KEYS[2])
redis.call('PEXPIRE', KEYS[1], math.min(tonumber(ARGV[11]) + tonumber(ARGV[12]), abs) - now + grace)
redis.call('ZADD', KEYS[2], ARGV[9], ARGV[6])
bumpIndex(KEYS[2], abs, now, grace)
return t
`

/**
 * KEYS: s:old, t:old, s:new. ARGV: now, grace, prefix, oldId, newId, u, r, c, a, l, i, x.
 * Returns the old session's status like TOUCH (the old record when it was active).
 */
export const REPLACE: string = `${LIB}
local now = tonumber(ARGV[1])
local grace = tonumber(ARGV[2])
local v = rec(KEYS[1])
if not v then
  if redis.call('EXISTS', KEYS[2]) == 1 then return {'revoked'} end
  return {'unknown'}
end
local why = expired(v, now)
if why then
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', v[8], ARGV[4])
  local t = {'expired', why}
  out(t, ARGV[4], v)
  return t
end
bury(ARGV[3], ARGV[4], v, now, grace)
local abs = tonumber(ARGV[12])
redis.call('HSET', KEYS[3], 'u', ARGV[6], 'r', ARGV[7], 'c', ARGV[8], 'a', ARGV[9], 'l', ARGV[10], 'i', ARGV[11], 'x', ARGV[12], 'k', v[8])
redis.call('PEXPIRE', KEYS[3], math.min(tonumber(ARGV[10]) + tonumber(ARGV[11]), abs) - now + grace)
redis.call('ZADD', v[8], ARGV[8], ARGV[5])
bumpIndex(v[8], abs, now, grace)
local t = {'active'}
out(t, ARGV[4], v)
return t
`

/** KEYS: s:id. ARGV: now, grace, prefix, id. Returns {} or the revoked record. */
export const REVOKE: string = `${LIB}
local now = tonumber(ARGV[1])
local v = rec(KEYS[1])
if not v then return {} end
local t = {}
if expired(v, now) then
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', v[8], ARGV[4])
  return t
end
bury(ARGV[3], ARGV[4], v, now, tonumber(ARGV[2]))
out(t, ARGV[4], v)
return t
`

/** KEYS: index. ARGV: now, grace, prefix, exceptId ('' for none). Returns the revoked live records. */
export const REVOKE_USER: string = `${LIB}
local now = tonumber(ARGV[1])
local grace = tonumber(ARGV[2])
local prefix = ARGV[3]
local t = {}
for _, m in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if m ~= ARGV[4] then
    local v = rec(prefix .. 's:' .. m)
    if not v then
      redis.call('ZREM', KEYS[1], m)
    elseif expired(v, now) then
      redis.call('DEL', prefix .. 's:' .. m)
      redis.call('ZREM', KEYS[1], m)
    else
      bury(prefix, m, v, now, grace)
      out(t, m, v)
    end
  end
end
return t
`

/** KEYS: index. ARGV: now, prefix. Returns the live records, oldest first (drops dangling ids). */
export const LIST: string = `${LIB}
local now = tonumber(ARGV[1])
local t = {}
for _, m in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local v = rec(ARGV[2] .. 's:' .. m)
  if not v then
    redis.call('ZREM', KEYS[1], m)
  elseif not expired(v, now) then
    out(t, m, v)
  end
end
return t
`
