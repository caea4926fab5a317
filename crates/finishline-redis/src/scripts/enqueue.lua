-- Enqueues a batch of jobs of one event, idempotently per media id.
-- Writes each job's payload to the queue's data hash and its id onto the waiting list (the
-- task id of a job's first delivery is its job id), publishes job:queued for each new job
-- (its position in the queue: 1 is next), then counts the new jobs and publishes
-- event:progress. The event's seq and counters are written once (fl_flush_event).
-- KEYS: 1 the event's media index (mediaId -> jobId), 2 the event's hash, 3 its history,
--       4 its settings, 5 the progress stream, 6 the queue's payloads (:data), 7 its waiting
--       list (:active), then two per job, in ARGV order: 8 + 2j its hash, 9 + 2j its message
--       list (j from 0)
-- ARGV: event_id, request_id, kind, ts, history_max, stream_max, ttl, owner (the user who
--       owns the new jobs; '' for none), then triples: media_id, job_id, payload
-- Returns: a flat list job_id, created (1|0) per triple, in order.
local event_id, request_id, kind, ts = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local cfg = { history_max = ARGV[5], stream_max = ARGV[6], ttl = ARGV[7] }
local owner = ARGV[8]
local index, data_key, active_key = KEYS[1], KEYS[6], KEYS[7]
local ev = fl_event(event_id, KEYS[2], KEYS[3], KEYS[4], KEYS[5], nil)
local out = {}
local created = 0
local data, active, media, jobs = {}, {}, {}, {}
local j = 0
for i = 9, #ARGV, 3 do
  local media_id, job_id, payload = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local kjob = 8 + 2 * j
  j = j + 1
  if redis.call('HSETNX', index, media_id, job_id) == 0 then
    table.insert(out, redis.call('HGET', index, media_id))
    table.insert(out, 0)
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
    data[#data + 1] = job_id
    data[#data + 1] = payload
    active[#active + 1] = job_id
    media[#media + 1] = media_id
    jobs[#jobs + 1] = job
    created = created + 1
    table.insert(out, job_id)
    table.insert(out, 1)
  end
end
-- One call each for the whole chunk (the producer sends at most 500 jobs per call).
if created > 0 then
  redis.call('HSET', data_key, unpack(data))
  local length = redis.call('RPUSH', active_key, unpack(active))
  local id_field = '","photoId":"'
  if kind == 'video' then id_field = '","videoId":"' end
  for k, job in ipairs(jobs) do
    local body = '{"jobId":"' .. job.id .. id_field .. media[k] .. '","kind":"' .. kind ..
      '","position":' .. (length - created + k) .. '}'
    fl_publish(ev, request_id, 'job:queued', body, ts, cfg, job, false, owner)
  end
end
redis.call('EXPIRE', index, cfg.ttl)
if created > 0 then
  local total_field = 'totalPhotos'
  if kind == 'video' then total_field = 'totalVideos' end
  fl_count(ev, total_field, created)
  fl_publish_event_progress(ev, request_id, ts, cfg)
end
fl_flush_event(ev, cfg.ttl)
return out
