-- Re-drives a failed job: it is counted out of the event's failures, queued again with its
-- attempts reset, and published as job:queued and event:progress. When it ends again it is
-- counted again, and event:completed fires again when the event has drained again.
-- KEYS: 1 the job's hash, 2 its message list, 3 the event's hash, 4 its history, 5 its
--       settings, 6 the progress stream, 7 the failed set, 8 the queue's payloads, 9 its
--       waiting list
-- ARGV: job_id, event_id, task_id (new ULID), ts, history_max, stream_max, ttl
-- Returns: 1 when re-driven, 0 when the job is not in the failed state (or not of the event).
local job_id, event_id, task_id, ts = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local cfg = { history_max = ARGV[5], stream_max = ARGV[6], ttl = ARGV[7] }
local job = fl_job(job_id, KEYS[1], KEYS[2])
local fields = redis.call('HMGET', job.key, 'state', 'payload', 'eventId', 'requestId', 'kind',
  'mediaId', 'owner')
if fields[1] ~= 'failed' or not fields[2] or fields[3] ~= event_id then
  return 0
end
local ev = fl_event(event_id, KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7])
local request_id, kind = fields[4], fields[5]
if kind == 'video' then
  fl_count(ev, 'processedVideos', -1)
else
  fl_count(ev, 'processedPhotos', -1)
end
fl_count(ev, 'failed', -1)
redis.call('HSET', job.key, 'state', 'queued', 'attempts', 0, 'stage', '', 'progress', 0,
  'updatedAt', ts)
redis.call('HDEL', job.key, 'error', 'finishedAt', 'retryAt')
redis.call('EXPIRE', job.key, cfg.ttl)
redis.call('ZREM', ev.failed, job_id)
redis.call('HSET', KEYS[8], task_id, fields[2])
local position = redis.call('RPUSH', KEYS[9], task_id)
local id_field = '","photoId":"'
if kind == 'video' then id_field = '","videoId":"' end
fl_publish(ev, request_id, 'job:queued', '{"jobId":"' .. job_id .. id_field ..
  (fields[6] or '') .. '","kind":"' .. (kind or 'photo') .. '","position":' .. position .. '}',
  ts, cfg, job, false, fields[7])
fl_publish_event_progress(ev, request_id, ts, cfg)
fl_flush_event(ev, cfg.ttl)
return 1
