-- Depth of one queue in one round trip, and its registered workers (the caller counts their
-- in-flight sets, whose names it builds).
-- KEYS: 1 the queue's waiting list, 2 its scheduled set, 3 its workers
-- Returns: {waiting, scheduled, oldest waiting task id or '', worker...}
local out = { redis.call('LLEN', KEYS[1]), redis.call('ZCARD', KEYS[2]),
  redis.call('LINDEX', KEYS[1], 0) or '' }
for _, worker in ipairs(redis.call('ZRANGE', KEYS[3], 0, -1)) do
  out[#out + 1] = worker
end
return out
