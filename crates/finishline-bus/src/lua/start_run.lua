-- Marks a job running and opens a new run (fencing token) for it.
-- Every run counts as an attempt (a re-run after a worker died too).
-- ARGV: prefix, job_id, ts
-- Returns: {run, attempt}, or {0, 0} when the job has already ended (nothing to do).
local prefix, job_id, ts = ARGV[1], ARGV[2], ARGV[3]
local job_key = fl_key(prefix, 'job', job_id)
local state = redis.call('HGET', job_key, 'state')
if not state or fl_is_terminal(state) then
  return {0, 0}
end
local run = redis.call('HINCRBY', job_key, 'run', 1)
local attempt = redis.call('HINCRBY', job_key, 'attempts', 1)
redis.call('HSET', job_key, 'state', 'running', 'startedAt', ts, 'updatedAt', ts)
return {run, attempt}
