-- Marks a job running and opens a new run (fencing token) for it.
-- ARGV: prefix, job_id, attempt, ts
-- Returns: the new run number, or 0 when the job has already ended (nothing to do).
local prefix, job_id, attempt, ts = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local job_key = fl_key(prefix, 'job', job_id)
local state = redis.call('HGET', job_key, 'state')
if not state or fl_is_terminal(state) then
  return 0
end
local run = redis.call('HINCRBY', job_key, 'run', 1)
redis.call('HSET', job_key, 'state', 'running', 'attempts', attempt, 'startedAt', ts, 'updatedAt', ts)
return run
