-- The event side of re-driving a failed job: it is counted out of the event's failures,
-- queued again with its attempts reset under a new task id, and published as job:queued and
-- event:progress. Every key is of the event's group (the job's, by its id). The queue side
-- (push.lua) then pushes the task. When the job ends again it is counted again, and
-- event:completed fires again when the event has drained again.
-- A re-drive that stopped before its push (the job queued, attempts 0, its re-drive task
-- noted, no run since) is completed by re-driving again: the script answers the noted task
-- and the payload, and the push is idempotent per task.
-- KEYS: 1 the job's hash, 2 its message list, 3 the event's hash, 4 its history, 5 its
--       settings, 6 its group's progress stream, 7 its group's failed set
-- ARGV: job_id, event_id, task_id (new ULID), ts, history_max, stream_max, ttl, position
--       (the queue's length before the push)
-- Returns: {1, task_id, payload} when re-driven now, {2, task_id, payload} when an earlier
--   re-drive is to be pushed again, {0, '', ''} when the job is not failed (or not of the event).
local job_id, event_id, task_id, ts = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local cfg = { history_max = ARGV[5], stream_max = ARGV[6], ttl = ARGV[7] }
local position = tonumber(ARGV[8])
local job = fl_job(job_id, KEYS[1], KEYS[2])
local fields = redis.call('HMGET', job.key, 'state', 'payload', 'eventId', 'requestId', 'kind',
  'mediaId', 'owner', 'attempts', 'redrive')
if fields[3] ~= event_id or not fields[2] then
  return { 0, '', '' }
end
if fields[1] == 'queued' and fields[9] and tonumber(fields[8] or '0') == 0 then
  return { 2, fields[9], fields[2] }
end
if fields[1] ~= 'failed' then
  return { 0, '', '' }
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
  'updatedAt', ts, 'redrive', task_id)
redis.call('HDEL', job.key, 'error', 'finishedAt', 'retryAt')
redis.call('EXPIRE', job.key, cfg.ttl)
redis.call('ZREM', ev.failed, job_id)
local id_field = '","photoId":"'
if kind == 'video' then id_field = '","videoId":"' end
fl_publish(ev, request_id, 'job:queued', '{"jobId":"' .. job_id .. id_field ..
  (fields[6] or '') .. '","kind":"' .. (kind or 'photo') .. '","position":' .. (position + 1) ..
  '}', ts, cfg, job, false, fields[7])
fl_publish_event_progress(ev, request_id, ts, cfg)
fl_flush_event(ev, cfg.ttl)
return { 1, task_id, fields[2] }
