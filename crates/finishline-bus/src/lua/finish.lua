-- Ends a job exactly once: terminal state, counters, the terminal message, event:progress,
-- and event:completed when every known job of the event has ended.
-- ARGV: prefix, job_id, run (0 = any run, e.g. cancellation), state, name, body, ts,
--       result_json, error, history_max, stream_max, ttl
-- Returns: 1 when this call ended the job, 0 when it had already ended, -2 when a newer run owns it.
local prefix, job_id, run, state, name, body, ts, result, err =
  ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9]
local cfg = { history_max = ARGV[10], stream_max = ARGV[11], ttl = ARGV[12] }
local job_key = fl_key(prefix, 'job', job_id)
local fields = redis.call('HMGET', job_key, 'state', 'run', 'eventId', 'requestId', 'kind')
if not fields[1] or fl_is_terminal(fields[1]) then
  return 0
end
if run > 0 and tonumber(fields[2] or '0') ~= run then
  return -2
end
local event_id, request_id, kind = fields[3], fields[4], fields[5]
redis.call('HSET', job_key, 'state', state, 'finishedAt', ts, 'updatedAt', ts)
if state == 'succeeded' then
  redis.call('HSET', job_key, 'progress', 100, 'result', result)
elseif err ~= '' then
  redis.call('HSET', job_key, 'error', err)
end
if state == 'failed' then
  local now = redis.call('TIME')
  local now_ms = now[1] * 1000 + math.floor(now[2] / 1000)
  local failed_key = fl_key(prefix, 'failed')
  redis.call('ZADD', failed_key, now_ms, job_id)
  -- Entries older than the retention period point at expired jobs: forget them.
  redis.call('ZREMRANGEBYSCORE', failed_key, 0, now_ms - tonumber(cfg.ttl) * 1000)
end
redis.call('EXPIRE', job_key, cfg.ttl)
local event_key = fl_key(prefix, 'event', event_id)
if kind == 'video' then
  redis.call('HINCRBY', event_key, 'processedVideos', 1)
else
  redis.call('HINCRBY', event_key, 'processedPhotos', 1)
end
redis.call('HINCRBY', event_key, state, 1)
fl_publish(prefix, event_id, request_id, name, body, ts, cfg, job_id)
local c = fl_publish_event_progress(prefix, event_id, request_id, ts, cfg)
if c[2] + c[7] >= c[1] + c[6] then
  local summary = '{"summary":{"total":' .. (c[1] + c[6]) .. ',"succeeded":' .. c[3] ..
    ',"failed":' .. c[4] .. ',"cancelled":' .. c[5] .. '}}'
  fl_publish(prefix, event_id, request_id, 'event:completed', summary, ts, cfg)
end
return 1
