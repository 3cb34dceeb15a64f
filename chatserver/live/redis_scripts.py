"""The Lua scripts of `RedisLiveState` (chatserver/live/redis.py): each change to the live
state is one of them, atomic with respect to every worker. ARGV[1] is the key prefix.

A script that changes a conversation raises the hash's `ver` and
publishes `{"k": "conv", "d": {"id": …, "v": …}}` on the events channel in the same step, so
every worker's cache of conversations (`RedisLiveState.cached_conversation`) drops it."""

CHANGED = """
local function changed(p, cid)
  local v = redis.call('HINCRBY', p .. 'conv:' .. cid, 'ver', 1)
  redis.call('PUBLISH', p .. 'events', cjson.encode({w = '', k = 'conv', d = {id = cid, v = v}}))
end
local function gone(p, cid)
  redis.call('PUBLISH', p .. 'events', cjson.encode({w = '', k = 'conv', d = {id = cid, v = -1}}))
end
"""

FRONT_SCORE = """
local function front_score(p, cid)
  local head = redis.call('ZRANGE', p .. 'queue', 0, 0, 'WITHSCORES')
  if #head > 0 then
    if head[1] == cid then return tonumber(head[2]) end
    return tonumber(head[2]) - 1
  end
  return redis.call('INCR', p .. 'queue:seq')
end
"""

ADD = FRONT_SCORE + """
local p, cid, queue, front, vid = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local ck = p .. 'conv:' .. cid
if redis.call('EXISTS', ck) == 0 then
  local fields = {}
  for i = 6, #ARGV do fields[#fields + 1] = ARGV[i] end
  redis.call('HSET', ck, unpack(fields))
  -- versions start at the clock (microseconds): a conversation written again after Redis
  -- lost its data never repeats a version a worker may still hold
  local t = redis.call('TIME')
  redis.call('HSET', ck, 'ver', t[1] .. string.format('%06d', tonumber(t[2])))
  redis.call('SADD', p .. 'convs', cid)
  if vid ~= '' then
    local ak = p .. 'active:' .. vid
    if not redis.call('LPOS', ak, cid) then redis.call('RPUSH', ak, cid) end
  end
  if queue == '1' then
    local score
    if front == '1' then score = front_score(p, cid)
    else score = redis.call('INCR', p .. 'queue:seq') end
    redis.call('ZADD', p .. 'queue', score, cid)
  end
end
local rank = redis.call('ZRANK', p .. 'queue', cid)
if rank then return rank + 1 end
return 0
"""

UPDATE = CHANGED + """
local ck = ARGV[1] .. 'conv:' .. ARGV[2]
if redis.call('EXISTS', ck) == 0 then return 0 end
local n = tonumber(ARGV[3])
if n > 0 then
  local f = {}
  for j = 1, 2 * n do f[j] = ARGV[3 + j] end
  redis.call('HSET', ck, unpack(f))
end
for j = 4 + 2 * n, #ARGV do redis.call('HDEL', ck, ARGV[j]) end
changed(ARGV[1], ARGV[2])
return 1
"""

# The chatter's socket is let go only if it is still the one given: a resume elsewhere that
# set a newer one between a worker's read and this step keeps it.
RELEASE_CHATTER = CHANGED + """
local ck = ARGV[1] .. 'conv:' .. ARGV[2]
if redis.call('HGET', ck, 'chatter_sid') ~= ARGV[3] then return 0 end
redis.call('HDEL', ck, 'chatter_sid', 'chatter_worker')
changed(ARGV[1], ARGV[2])
return 1
"""

REQUEUE = FRONT_SCORE + CHANGED + """
local p, cid = ARGV[1], ARGV[2]
local ck = p .. 'conv:' .. cid
if redis.call('EXISTS', ck) == 0 then return 0 end
local vid = redis.call('HGET', ck, 'volunteer_id')
if vid then
  redis.call('LREM', p .. 'active:' .. vid, 0, cid)
  redis.call('HDEL', ck, 'volunteer_id')
end
redis.call('ZADD', p .. 'queue', front_score(p, cid), cid)
changed(p, cid)
return 1
"""

REMOVE = CHANGED + """
local p, cid, now = ARGV[1], ARGV[2], ARGV[3]
local ck = p .. 'conv:' .. cid
local h = redis.call('HGETALL', ck)
redis.call('ZREM', p .. 'queue', cid)
if #h == 0 then return h end
redis.call('DEL', ck)
redis.call('SREM', p .. 'convs', cid)
gone(p, cid)
for i = 1, #h, 2 do
  if h[i] == 'volunteer_id' then
    if redis.call('LREM', p .. 'active:' .. h[i + 1], 0, cid) > 0 then
      redis.call('HSET', p .. 'vol:' .. h[i + 1], 'idle_since', now)
    end
  end
end
return h
"""

SET_AVAILABLE = """
local p, vid, capacity, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local vk = p .. 'vol:' .. vid
if redis.call('HGET', vk, 'available') ~= '1' then redis.call('HSET', vk, 'idle_since', now) end
redis.call('HSET', vk, 'available', '1', 'capacity', capacity)
redis.call('SADD', p .. 'available', vid)
return 1
"""

SET_UNAVAILABLE = """
local p, vid = ARGV[1], ARGV[2]
redis.call('HSET', p .. 'vol:' .. vid, 'available', '0')
redis.call('SREM', p .. 'available', vid)
return 1
"""

COUNT_ALIVE = """
local function count_alive(p, pk)
  local h = redis.call('HGETALL', pk)
  local n = 0
  for i = 1, #h, 2 do
    if redis.call('EXISTS', p .. 'alive:' .. h[i + 1]) == 1 then n = n + 1 end
  end
  return n
end
"""

# Mirrors pairing.choose_volunteer (fewest active, then idle longest, then id) inside Redis;
# the contract suite checks that both backends choose alike. A volunteer with no socket on a
# live worker (in their grace period) gets nobody new.
PAIR = COUNT_ALIVE + CHANGED + """
local p, now = ARGV[1], ARGV[2]
local qk = p .. 'queue'
local out = {}
while true do
  local head = redis.call('ZRANGE', qk, 0, 0)
  if #head == 0 then break end
  local cid = head[1]
  if redis.call('EXISTS', p .. 'conv:' .. cid) == 0 then
    redis.call('ZREM', qk, cid)
  else
    local best, bact, bidle = nil, 0, 0
    for _, vid in ipairs(redis.call('SMEMBERS', p .. 'available')) do
      local v = redis.call('HMGET', p .. 'vol:' .. vid, 'capacity', 'idle_since')
      local cap = tonumber(v[1]) or 1
      local idle = tonumber(v[2]) or 0
      local act = redis.call('LLEN', p .. 'active:' .. vid)
      if act < cap and count_alive(p, p .. 'presence:' .. vid) > 0 and (best == nil or act < bact or (act == bact and
          (idle < bidle or (idle == bidle and vid < best)))) then
        best, bact, bidle = vid, act, idle
      end
    end
    if best == nil then break end
    redis.call('ZREM', qk, cid)
    redis.call('RPUSH', p .. 'active:' .. best, cid)
    redis.call('HSET', p .. 'vol:' .. best, 'idle_since', now)
    redis.call('HSET', p .. 'conv:' .. cid, 'volunteer_id', best)
    changed(p, cid)
    out[#out + 1] = cid
    out[#out + 1] = best
  end
end
return out
"""

STAFF_LEFT = COUNT_ALIVE + """
local pk = ARGV[1] .. 'presence:' .. ARGV[2]
redis.call('HDEL', pk, ARGV[3])
return count_alive(ARGV[1], pk)
"""

STAFF_PRESENT = COUNT_ALIVE + """
return count_alive(ARGV[1], ARGV[1] .. 'presence:' .. ARGV[2])
"""

HEARTBEAT = """
local p, wid, ttl, candidate = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
redis.call('SET', p .. 'alive:' .. wid, '1', 'PX', ttl)
redis.call('SADD', p .. 'workers', wid)
local epoch = redis.call('GET', p .. 'epoch')
if not epoch then
  redis.call('SET', p .. 'epoch', candidate)
  epoch = candidate
end
local dead = {}
for _, w in ipairs(redis.call('SMEMBERS', p .. 'workers')) do
  if redis.call('EXISTS', p .. 'alive:' .. w) == 0 then
    redis.call('SREM', p .. 'workers', w)
    dead[#dead + 1] = w
  end
end
return {epoch, dead}
"""

RELEASE_WORKER = CHANGED + """
local p, wid = ARGV[1], ARGV[2]
local convs = {}
for _, cid in ipairs(redis.call('SMEMBERS', p .. 'convs')) do
  local ck = p .. 'conv:' .. cid
  if redis.call('HGET', ck, 'chatter_worker') == wid then
    redis.call('HDEL', ck, 'chatter_sid', 'chatter_worker')
    changed(p, cid)
    convs[#convs + 1] = cid
  end
end
local vols = {}
local sk = p .. 'worker:' .. wid .. ':staff'
for _, uid in ipairs(redis.call('SMEMBERS', sk)) do
  local pk = p .. 'presence:' .. uid
  local h = redis.call('HGETALL', pk)
  local alive = 0
  for i = 1, #h, 2 do
    if h[i + 1] == wid then redis.call('HDEL', pk, h[i])
    elseif redis.call('EXISTS', p .. 'alive:' .. h[i + 1]) == 1 then alive = alive + 1 end
  end
  if alive == 0 then vols[#vols + 1] = uid end
end
redis.call('DEL', sk)
return {convs, vols}
"""
