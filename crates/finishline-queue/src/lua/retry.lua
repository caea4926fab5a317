-- Schedules another attempt of a job after a transient failure, as a fresh task (new id, same
-- payload) in :scheduled at the given time (the housekeeper promotes it when due). The
-- current delivery is then settled by the worker.
-- ARGV: prefix, queue, job_id, task_id (new ULID), due (unix seconds), error, ts
-- Returns: 1 when scheduled, 0 when the job has ended meanwhile (e.g. cancelled).
local prefix, queue, job_id, task_id, due, err, ts =
  ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local job_key = fl_key(prefix, 'job', job_id)
local fields = redis.call('HMGET', job_key, 'state', 'payload')
if not fields[1] or fl_is_terminal(fields[1]) or not fields[2] then
  return 0
end
redis.call('HSET', job_key, 'state', 'queued', 'error', err, 'retryAt', due, 'updatedAt', ts)
redis.call('HSET', queue .. ':data', task_id, fields[2])
redis.call('ZADD', queue .. ':scheduled', due, task_id)
return 1
