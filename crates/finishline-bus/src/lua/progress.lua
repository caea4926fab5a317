-- Publishes one progress message of a running job, fenced by its run number.
-- ARGV: prefix, job_id, run, name, body, ts, stage, progress, history_max, stream_max, ttl
-- Returns: the seq, -1 when the job has ended, -2 when a newer run owns the job.
local prefix, job_id, run, name, body, ts, stage, progress =
  ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8]
local cfg = { history_max = ARGV[9], stream_max = ARGV[10], ttl = ARGV[11] }
local job_key = fl_key(prefix, 'job', job_id)
local fields = redis.call('HMGET', job_key, 'state', 'run', 'eventId', 'requestId')
if not fields[1] or fl_is_terminal(fields[1]) then
  return -1
end
if tonumber(fields[2] or '0') ~= run then
  return -2
end
redis.call('HSET', job_key, 'stage', stage, 'progress', progress, 'updatedAt', ts)
return fl_publish(prefix, fields[3], fields[4], name, body, ts, cfg, job_id)
