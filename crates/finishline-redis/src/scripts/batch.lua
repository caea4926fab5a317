-- Runs a batch of bus operations of one event group in order, in one round trip: run starts,
-- progress messages and job ends of many jobs (the worker's writer), or one job end (the
-- gateway's cancel). Every key is of the group's tag: the writer sends one call per group.
-- event:progress (and event:completed) is published once per event at the end of the batch
-- rather than after every job, and the TTLs of each event's keys are set once. The settling
-- of deliveries is the queue side (settle.lua), sent after this call has answered.
-- Every operation names its keys by position in KEYS (built by scripts/batch.rs):
-- ARGV: history_max, stream_max, ttl, then operations:
--   'E', event_id, kev, kstream, kfailed                      declares an event: KEYS[kev] its
--                                                             hash, kev+1 its history, kev+2 its
--                                                             settings; its progress stream and
--                                                             failed set (kfailed 0: none)
--   'S', job_id, kjob, event_id, ts                           start a run
--   'P', job_id, kjob, event_id, run, name, body, ts,         progress message
--        stage, progress
--   'F', job_id, kjob, event_id, run, state, name, body, ts,  end the job and index its bibs
--        result, error, kbib, n, n × (number, kind, json)     (bib_index.lua; kbib 0: none)
-- KEYS[kjob] is a job's hash, kjob+1 its message list. Every event an S, P or F names is
-- declared by an E before it.
-- Returns a flat list: run and attempt for each S, the result of fl_progress for each P and
-- of fl_finish (the prelude) for each F; nothing for E.

-- Marks a job running, opens a new run (fencing token) for it and publishes job:started
-- with the attempt. Every run counts as an attempt (a re-run after a worker died too).
-- Returns run, attempt; 0, 0 when the job has ended (nothing to do) or is unknown; -3, 0
-- when it is not of event ev.
local function fl_start_run(ev, job, ts, cfg)
  local fields = redis.call('HMGET', job.key, 'state', 'run', 'attempts', 'eventId',
    'requestId', 'kind', 'mediaId', 'owner')
  if not fields[1] or fl_is_terminal(fields[1]) then
    return 0, 0
  end
  if fields[4] ~= ev.id then
    return -3, 0
  end
  local run = (tonumber(fields[2]) or 0) + 1
  local attempt = (tonumber(fields[3]) or 0) + 1
  redis.call('HSET', job.key, 'state', 'running', 'run', run, 'attempts', attempt,
    'startedAt', ts, 'updatedAt', ts)
  local kind = fields[6] or 'photo'
  local id_field = '","photoId":"'
  if kind == 'video' then id_field = '","videoId":"' end
  local body = '{"jobId":"' .. job.id .. id_field .. (fields[7] or '') .. '","kind":"' .. kind ..
    '","attempt":' .. attempt .. '}'
  fl_publish(ev, fields[5], 'job:started', body, ts, cfg, job, false, fields[8])
  return run, attempt
end

-- Publishes one progress message of a running job, fenced by its run number.
-- Returns the seq; -1 when the job has ended (or is unknown), -2 when a newer run owns it,
-- -3 when it is not of event ev.
local function fl_progress(ev, job, run, name, body, ts, stage, progress, cfg)
  local fields = redis.call('HMGET', job.key, 'state', 'run', 'eventId', 'requestId', 'owner')
  if not fields[1] or fl_is_terminal(fields[1]) then
    return -1
  end
  if fields[3] ~= ev.id then
    return -3
  end
  if tonumber(fields[2] or '0') ~= run then
    return -2
  end
  redis.call('HSET', job.key, 'stage', stage, 'progress', progress, 'updatedAt', ts)
  return fl_publish(ev, fields[4], name, body, ts, cfg, job, false, fields[5])
end

local cfg = { history_max = ARGV[1], stream_max = ARGV[2], ttl = ARGV[3] }
local events, event_order = {}, {}
local out = {}
local ended, ended_order = {}, {}
local indexes = {}
local function event_of(event_id)
  local ev = events[event_id]
  if not ev then
    error('batch: event ' .. tostring(event_id) .. ' is not declared')
  end
  return ev
end
local function job_at(job_id, kjob)
  return fl_job(job_id, KEYS[kjob], KEYS[kjob + 1])
end
local i, n = 4, #ARGV
while i <= n do
  local op = ARGV[i]
  if op == 'E' then
    local kev, kfailed = tonumber(ARGV[i + 2]), tonumber(ARGV[i + 4])
    local failed = nil
    if kfailed > 0 then failed = KEYS[kfailed] end
    events[ARGV[i + 1]] = fl_event(ARGV[i + 1], KEYS[kev], KEYS[kev + 1], KEYS[kev + 2],
      KEYS[tonumber(ARGV[i + 3])], failed)
    event_order[#event_order + 1] = ARGV[i + 1]
    i = i + 5
  elseif op == 'S' then
    local run, attempt = fl_start_run(event_of(ARGV[i + 3]), job_at(ARGV[i + 1],
      tonumber(ARGV[i + 2])), ARGV[i + 4], cfg)
    out[#out + 1] = run
    out[#out + 1] = attempt
    i = i + 5
  elseif op == 'P' then
    out[#out + 1] = fl_progress(event_of(ARGV[i + 3]), job_at(ARGV[i + 1], tonumber(ARGV[i + 2])),
      tonumber(ARGV[i + 4]), ARGV[i + 5], ARGV[i + 6], ARGV[i + 7], ARGV[i + 8], ARGV[i + 9], cfg)
    i = i + 10
  elseif op == 'F' then
    local event_id = ARGV[i + 3]
    local ev = event_of(event_id)
    local code, request_id = fl_finish(ev, job_at(ARGV[i + 1], tonumber(ARGV[i + 2])),
      tonumber(ARGV[i + 4]), ARGV[i + 5], ARGV[i + 6], ARGV[i + 7], ARGV[i + 8], ARGV[i + 9],
      ARGV[i + 10], cfg)
    if code == 1 then
      if not ended[event_id] then
        ended_order[#ended_order + 1] = event_id
      end
      -- The last ended job of the event names the request and time of event:progress.
      ended[event_id] = { request_id, ARGV[i + 8] }
    end
    local kbib, sightings = tonumber(ARGV[i + 11]), tonumber(ARGV[i + 12])
    if code == 1 and kbib > 0 then
      if ARGV[i + 5] == 'succeeded' then
        -- The terminal message was the last this batch stamped for the event: its seq.
        fl_index_bibs(kbib, ev.seq, i + 13, sightings)
      end
      indexes[kbib] = true
    end
    out[#out + 1] = code
    i = i + 13 + 3 * sightings
  else
    -- Built by finishline-redis only; nothing is written after an unknown operation.
    return redis.error_reply('batch: unknown operation ' .. tostring(op) .. ' at ' .. i)
  end
end
for _, event_id in ipairs(ended_order) do
  local last = ended[event_id]
  fl_event_changed(events[event_id], last[1], last[2], cfg)
end
-- Every event this batch wrote to: its seq and counters, then its TTLs, once.
for _, event_id in ipairs(event_order) do
  fl_flush_event(events[event_id], cfg.ttl)
end
for kbib in pairs(indexes) do
  fl_expire_bib_index(kbib, cfg.ttl)
end
return out
