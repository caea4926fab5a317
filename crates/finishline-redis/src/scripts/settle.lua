-- The queue side of job ends: settles deliveries of one queue, each only by the worker that
-- holds it: once another worker took the task over (this one was presumed dead), its payload
-- is theirs and stays. Sent by the writer after the event side of its batch answered, so a
-- delivery is never settled before its job's end is stored. Every key is of the queue's tag.
-- KEYS: 1 the queue's payloads (:data), then workers' in-flight sets
-- ARGV: pairs kinflight (a position in KEYS), task_id
-- Returns: how many deliveries were settled.
local settled = 0
for i = 1, #ARGV, 2 do
  if redis.call('SREM', KEYS[tonumber(ARGV[i])], ARGV[i + 1]) == 1 then
    redis.call('HDEL', KEYS[1], ARGV[i + 1])
    settled = settled + 1
  end
end
return settled
