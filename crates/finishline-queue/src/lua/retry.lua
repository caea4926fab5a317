-- Schedules another attempt of a job after a transient failure, as a fresh apalis task (new
-- id, same payload) in :scheduled at the given time. The current apalis task is then acked as
-- done by the worker: apalis-redis' own retries ignore max_attempts and back off linearly.
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
redis.call('HSET', queue .. ':meta:' .. task_id, 'attempts', 0, 'max_attempts', 1,
  'status', 'Pending', 'idempotency_key', '')
redis.call('ZADD', queue .. ':scheduled', due, task_id)
return 1
