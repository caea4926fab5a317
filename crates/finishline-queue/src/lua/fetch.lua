-- Takes up to `count` tasks of a queue for a worker: pops their ids from :active, marks them
-- in flight for the worker and returns their payloads. Registers the worker's heartbeat too,
-- so an idle worker polling the queue stays alive.
-- ARGV: queue, worker, count, now (Unix milliseconds, the heartbeat's score)
-- Returns: a flat list task_id, payload (nil when the payload is missing) per task.
local queue, worker, count, now = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
redis.call('ZADD', queue .. ':workers', now, worker)
local ids = redis.call('LPOP', queue .. ':active', count)
if not ids then
  return {}
end
redis.call('SADD', queue .. ':inflight:' .. worker, unpack(ids))
local payloads = redis.call('HMGET', queue .. ':data', unpack(ids))
local out = {}
for i, id in ipairs(ids) do
  out[#out + 1] = id
  out[#out + 1] = payloads[i]
end
return out
