-- Forgets up to ARGV[2] finished jobs of the apalis queue (apalis-redis never removes them).
-- Job state and results stay in finishline's own job hashes, which expire on their own.
-- ARGV: queue, limit
local queue, limit = ARGV[1], tonumber(ARGV[2])
local ids = redis.call('SPOP', queue .. ':done', limit)
for _, id in ipairs(ids) do
  redis.call('HDEL', queue .. ':data', id)
  redis.call('DEL', queue .. ':meta:' .. id)
end
return #ids
