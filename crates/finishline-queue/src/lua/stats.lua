-- Depth of one queue in one round trip.
-- ARGV: queue
-- Returns: {waiting, scheduled, inflight, oldest waiting task id or ''}
local queue = ARGV[1]
local waiting = redis.call('LLEN', queue .. ':active')
local scheduled = redis.call('ZCARD', queue .. ':scheduled')
local inflight = 0
for _, worker in ipairs(redis.call('ZRANGE', queue .. ':workers', 0, -1)) do
  inflight = inflight + redis.call('SCARD', queue .. ':inflight:' .. worker)
end
local oldest = redis.call('LINDEX', queue .. ':active', 0) or ''
return {waiting, scheduled, inflight, oldest}
