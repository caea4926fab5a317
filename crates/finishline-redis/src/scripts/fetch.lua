-- Takes up to `count` tasks of a queue for a worker: pops their ids from the waiting list,
-- marks them in flight for the worker and returns their payloads. Registers the worker's
-- heartbeat too, so an idle worker polling the queue stays alive.
-- KEYS: 1 the queue's workers (:workers), 2 its waiting list (:active), 3 the worker's
--       in-flight set (:inflight:<worker>), 4 the queue's payloads (:data)
-- ARGV: worker, count, now (Unix milliseconds, the heartbeat's score)
-- Returns: a flat list task_id, payload (nil when the payload is missing) per task.
local worker, count, now = ARGV[1], tonumber(ARGV[2]), ARGV[3]
redis.call('ZADD', KEYS[1], now, worker)
local ids = redis.call('LPOP', KEYS[2], count)
if not ids then
  return {}
end
redis.call('SADD', KEYS[3], unpack(ids))
local payloads = redis.call('HMGET', KEYS[4], unpack(ids))
local out = {}
for i, id in ipairs(ids) do
  out[#out + 1] = id
  out[#out + 1] = payloads[i]
end
return out
