-- The event side of a retry after a transient failure: the job goes back to queued with the
-- error and the due time, unless it has ended meanwhile (e.g. cancelled). Its key is of the
-- job's group. The queue side (schedule.lua) then schedules a fresh task with the payload
-- this returns; the worker settles the failed attempt's delivery only after both.
-- KEYS: 1 the job's hash
-- ARGV: due (Unix seconds), error, ts
-- Returns: the job's payload when it goes back to queued; nil when it has ended or is
--   unknown.
local due, err, ts = ARGV[1], ARGV[2], ARGV[3]
local fields = redis.call('HMGET', KEYS[1], 'state', 'payload')
if not fields[1] or fl_is_terminal(fields[1]) or not fields[2] then
  return nil
end
redis.call('HSET', KEYS[1], 'state', 'queued', 'error', err, 'retryAt', due, 'updatedAt', ts)
return fields[2]
