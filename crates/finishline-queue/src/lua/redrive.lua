-- Re-drives a failed job: it is counted out of the event's failures, queued again with its
-- attempts reset, and published as job:queued and event:progress. When it ends again it is
-- counted again, and event:completed fires again when the event has drained again.
-- ARGV: prefix, queue, job_id, task_id (new ULID), ts, history_max, stream_max, ttl
-- Returns: 1 when re-driven, 0 when the job is not in the failed state.
local prefix, queue, job_id, task_id, ts = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local cfg = { history_max = ARGV[6], stream_max = ARGV[7], ttl = ARGV[8] }
local job_key = fl_key(prefix, 'job', job_id)
local fields = redis.call('HMGET', job_key, 'state', 'payload', 'eventId', 'requestId', 'kind',
  'mediaId', 'owner')
if fields[1] ~= 'failed' or not fields[2] then
  return 0
end
local event_id, request_id, kind = fields[3], fields[4], fields[5]
local event_key = fl_key(prefix, 'event', event_id)
if kind == 'video' then
  redis.call('HINCRBY', event_key, 'processedVideos', -1)
else
  redis.call('HINCRBY', event_key, 'processedPhotos', -1)
end
redis.call('HINCRBY', event_key, 'failed', -1)
redis.call('HSET', job_key, 'state', 'queued', 'attempts', 0, 'stage', '', 'progress', 0,
  'updatedAt', ts)
redis.call('HDEL', job_key, 'error', 'finishedAt', 'retryAt')
redis.call('EXPIRE', job_key, cfg.ttl)
redis.call('ZREM', fl_key(prefix, 'failed'), job_id)
redis.call('HSET', queue .. ':data', task_id, fields[2])
local position = redis.call('RPUSH', queue .. ':active', task_id)
local id_field = '","photoId":"'
if kind == 'video' then id_field = '","videoId":"' end
fl_publish(prefix, event_id, request_id, 'job:queued', '{"jobId":"' .. job_id .. id_field ..
  (fields[6] or '') .. '","kind":"' .. (kind or 'photo') .. '","position":' .. position .. '}',
  ts, cfg, job_id, false, fields[7])
fl_publish_event_progress(prefix, event_id, request_id, ts, cfg)
return 1
