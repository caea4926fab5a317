-- Schedules another attempt of a job after a transient failure, as a fresh task (new id, same
-- payload) in the queue's scheduled set at the given time (the housekeeper promotes it when
-- due). The current delivery is then settled by the worker.
-- KEYS: 1 the job's hash, 2 the queue's payloads, 3 its scheduled set
-- ARGV: task_id (new ULID), due (Unix seconds), error, ts
-- Returns: 1 when scheduled, 0 when the job has ended meanwhile (e.g. cancelled) or is unknown.
local task_id, due, err, ts = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local fields = redis.call('HMGET', KEYS[1], 'state', 'payload')
if not fields[1] or fl_is_terminal(fields[1]) or not fields[2] then
  return 0
end
redis.call('HSET', KEYS[1], 'state', 'queued', 'error', err, 'retryAt', due, 'updatedAt', ts)
redis.call('HSET', KEYS[2], task_id, fields[2])
redis.call('ZADD', KEYS[3], due, task_id)
return 1
