-- The event side of enqueue: creates a batch of jobs of one event, idempotently per media id,
-- publishes job:queued for each new job, counts them and publishes event:progress. Every key
-- is of the event's group. The queue side (push.lua) runs after it and pushes the tasks: a job
-- exists, counted and announced, before any worker can take it. The event's seq and counters
-- are written once (fl_flush_event). Each new job is also noted in the group's enqueued set
-- (scored by the server's clock, Unix ms), where the repair sweep finds it if the push never
-- came.
-- KEYS: 1 the event's media index (mediaId -> jobId), 2 the event's hash, 3 its history,
--       4 its settings, 5 its group's progress stream, 6 its group's enqueued set of the kind,
--       then two per job, in ARGV order: 7 + 2j its hash, 8 + 2j its message list (j from 0)
-- ARGV: event_id, request_id, kind, ts, history_max, stream_max, ttl, owner (the user who
--       owns the new jobs; '' for none), position (the queue's length before the push: the
--       first new job's job:queued says position + 1), then triples: media_id, job_id,
--       payload
-- Returns: a flat list job_id, created (1|0) per triple, in order.
local event_id, request_id, kind, ts = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local cfg = { history_max = ARGV[5], stream_max = ARGV[6], ttl = ARGV[7] }
local owner, position = ARGV[8], tonumber(ARGV[9])
local index, enqueued = KEYS[1], KEYS[6]
local time = redis.call('TIME')
local now_ms = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local noted = {}
local ev = fl_event(event_id, KEYS[2], KEYS[3], KEYS[4], KEYS[5], nil)
local out = {}
local created = 0
local id_field = '","photoId":"'
if kind == 'video' then id_field = '","videoId":"' end
local j = 0
for i = 10, #ARGV, 3 do
  local media_id, job_id, payload = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local kjob = 7 + 2 * j
  j = j + 1
  if redis.call('HSETNX', index, media_id, job_id) == 0 then
    out[#out + 1] = redis.call('HGET', index, media_id)
    out[#out + 1] = 0
  else
    -- stage, progress, run and attempts start absent (readers take '' and 0).
    local job = fl_job(job_id, KEYS[kjob], KEYS[kjob + 1])
    redis.call('HSET', job.key, 'kind', kind, 'eventId', event_id, 'mediaId', media_id,
      'requestId', request_id, 'state', 'queued', 'createdAt', ts, 'updatedAt', ts,
      'payload', payload)
    if owner ~= '' then
      redis.call('HSET', job.key, 'owner', owner)
    end
    redis.call('EXPIRE', job.key, cfg.ttl)
    created = created + 1
    local body = '{"jobId":"' .. job_id .. id_field .. media_id .. '","kind":"' .. kind ..
      '","position":' .. (position + created) .. '}'
    fl_publish(ev, request_id, 'job:queued', body, ts, cfg, job, false, owner)
    noted[#noted + 1] = now_ms
    noted[#noted + 1] = job_id
    out[#out + 1] = job_id
    out[#out + 1] = 1
  end
end
redis.call('EXPIRE', index, cfg.ttl)
if created > 0 then
  redis.call('ZADD', enqueued, unpack(noted))
  local total_field = 'totalPhotos'
  if kind == 'video' then total_field = 'totalVideos' end
  fl_count(ev, total_field, created)
  fl_publish_event_progress(ev, request_id, ts, cfg)
end
fl_flush_event(ev, cfg.ttl)
return out
