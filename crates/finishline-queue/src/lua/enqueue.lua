-- Enqueues a batch of jobs of one event, idempotently per media id.
-- Writes each job's payload to the queue's data hash and its id onto the active list (the
-- task id of a job's first delivery is its job id), publishes job:queued for each new job
-- (its position in the queue: 1 is next), then counts the new jobs and publishes
-- event:progress. The event's seq is kept in the script and written once (cfg.events).
-- ARGV: prefix, queue, event_id, request_id, kind, ts, history_max, stream_max, ttl,
--       owner (the user who owns the new jobs; '' for none), then triples: media_id, job_id,
--       payload
-- Returns: a flat list job_id, created (1|0) per triple, in order.
local prefix, queue, event_id, request_id, kind, ts =
  ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local cfg = { history_max = ARGV[7], stream_max = ARGV[8], ttl = ARGV[9], defer_expire = true,
  events = {} }
local owner = ARGV[10]
local index = fl_key(prefix, 'index', event_id, kind)
local out = {}
local created = 0
local data, active, media = {}, {}, {}
for i = 11, #ARGV, 3 do
  local media_id, job_id, payload = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  if redis.call('HSETNX', index, media_id, job_id) == 0 then
    table.insert(out, redis.call('HGET', index, media_id))
    table.insert(out, 0)
  else
    -- stage, progress, run and attempts start absent (readers take '' and 0).
    local job_key = fl_key(prefix, 'job', job_id)
    redis.call('HSET', job_key, 'kind', kind, 'eventId', event_id, 'mediaId', media_id,
      'requestId', request_id, 'state', 'queued', 'createdAt', ts, 'updatedAt', ts,
      'payload', payload)
    if owner ~= '' then
      redis.call('HSET', job_key, 'owner', owner)
    end
    redis.call('EXPIRE', job_key, cfg.ttl)
    data[#data + 1] = job_id
    data[#data + 1] = payload
    active[#active + 1] = job_id
    media[#media + 1] = media_id
    created = created + 1
    table.insert(out, job_id)
    table.insert(out, 1)
  end
end
-- One call each for the whole chunk (the producer sends at most 500 jobs per call).
if created > 0 then
  redis.call('HSET', queue .. ':data', unpack(data))
  local length = redis.call('RPUSH', queue .. ':active', unpack(active))
  local id_field = '","photoId":"'
  if kind == 'video' then id_field = '","videoId":"' end
  for k, job_id in ipairs(active) do
    local body = '{"jobId":"' .. job_id .. id_field .. media[k] .. '","kind":"' .. kind ..
      '","position":' .. (length - created + k) .. '}'
    fl_publish(prefix, event_id, request_id, 'job:queued', body, ts, cfg, job_id, false, owner)
  end
end
redis.call('EXPIRE', index, cfg.ttl)
if created > 0 then
  local total_field = 'totalPhotos'
  if kind == 'video' then total_field = 'totalVideos' end
  redis.call('HINCRBY', fl_key(prefix, 'event', event_id), total_field, created)
  fl_publish_event_progress(prefix, event_id, request_id, ts, cfg)
end
for id, e in pairs(cfg.events) do
  fl_flush_seq(e)
  fl_expire_event(prefix, id, cfg.ttl)
end
return out
