-- The queue side of enqueue and re-drive: pushes tasks onto a queue's waiting list, each
-- once: a task whose payload is in the queue's payload hash already (waiting, or held by a
-- worker) is not pushed again, so pushing after a crash between the event side and this
-- script, or twice, is safe. Every key is of the queue's tag.
-- KEYS: 1 the queue's payloads (:data), 2 its waiting list (:active)
-- ARGV: pairs task_id, payload
-- Returns: the waiting list's length after the push, and how many tasks were pushed.
local ids = {}
for i = 1, #ARGV, 2 do
  if redis.call('HSETNX', KEYS[1], ARGV[i], ARGV[i + 1]) == 1 then
    ids[#ids + 1] = ARGV[i]
  end
end
if #ids == 0 then
  return { redis.call('LLEN', KEYS[2]), 0 }
end
-- One RPUSH for the whole chunk (the producer sends at most 500 jobs per call).
return { redis.call('RPUSH', KEYS[2], unpack(ids)), #ids }
