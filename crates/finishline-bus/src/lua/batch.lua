-- Runs a batch of a worker's bus operations in order, in one round trip: run starts,
-- progress messages and job ends of many jobs. event:progress (and event:completed) is
-- published once per event at the end of the batch rather than after every job, and the
-- TTLs of each event's keys are set once.
-- ARGV: prefix, history_max, stream_max, ttl, then operations:
--   'S', job_id, ts                                              start a run
--   'P', job_id, run, name, body, ts, stage, progress            progress message
--   'F', job_id, run, state, name, body, ts, result, error,      end the job and settle its
--        queue, worker, task_id,                                 delivery (empty: none), and
--        index, n, n × (number, kind, json)                      index its bibs (bib_index.lua;
--                                                                index: KEYS position, 0: none)
--   'A', queue, worker, task_id                                  settle a delivery
-- Returns a flat list: run and attempt for each S, the result of fl_progress for each P and
-- of fl_finish for each F (the prelude); nothing for A.

-- Marks a job running, opens a new run (fencing token) for it and publishes job:started
-- with the attempt. Every run counts as an attempt (a re-run after a worker died too).
-- Returns run, attempt; or 0, 0 when the job has already ended (nothing to do).
local function fl_start_run(prefix, job_id, ts, cfg)
  local job_key = fl_key(prefix, 'job', job_id)
  local fields = redis.call('HMGET', job_key, 'state', 'run', 'attempts', 'eventId',
    'requestId', 'kind', 'mediaId', 'owner')
  if not fields[1] or fl_is_terminal(fields[1]) then
    return 0, 0
  end
  local run = (tonumber(fields[2]) or 0) + 1
  local attempt = (tonumber(fields[3]) or 0) + 1
  redis.call('HSET', job_key, 'state', 'running', 'run', run, 'attempts', attempt,
    'startedAt', ts, 'updatedAt', ts)
  local kind = fields[6] or 'photo'
  local id_field = '","photoId":"'
  if kind == 'video' then id_field = '","videoId":"' end
  local body = '{"jobId":"' .. job_id .. id_field .. (fields[7] or '') .. '","kind":"' .. kind ..
    '","attempt":' .. attempt .. '}'
  fl_publish(prefix, fields[4], fields[5], 'job:started', body, ts, cfg, job_id, false, fields[8])
  return run, attempt
end

-- Publishes one progress message of a running job, fenced by its run number.
-- Returns the seq; -1 when the job has ended, -2 when a newer run owns it.
local function fl_progress(prefix, job_id, run, name, body, ts, stage, progress, cfg)
  local job_key = fl_key(prefix, 'job', job_id)
  local fields = redis.call('HMGET', job_key, 'state', 'run', 'eventId', 'requestId', 'owner')
  if not fields[1] or fl_is_terminal(fields[1]) then
    return -1
  end
  if tonumber(fields[2] or '0') ~= run then
    return -2
  end
  redis.call('HSET', job_key, 'stage', stage, 'progress', progress, 'updatedAt', ts)
  return fl_publish(prefix, fields[3], fields[4], name, body, ts, cfg, job_id, false, fields[5])
end

local prefix = ARGV[1]
local cfg = { history_max = ARGV[2], stream_max = ARGV[3], ttl = ARGV[4], defer_expire = true,
  events = {} }
local out = {}
local ended, ended_order = {}, {}
local indexes = {}
-- A delivery is settled by the worker that holds it: once another worker took the task
-- over (this one was presumed dead), its payload is theirs and stays.
local function settle(queue, worker, task_id)
  if queue ~= '' and redis.call('SREM', queue .. ':inflight:' .. worker, task_id) == 1 then
    redis.call('HDEL', queue .. ':data', task_id)
  end
end
local i, n = 5, #ARGV
while i <= n do
  local op = ARGV[i]
  if op == 'S' then
    local run, attempt = fl_start_run(prefix, ARGV[i + 1], ARGV[i + 2], cfg)
    out[#out + 1] = run
    out[#out + 1] = attempt
    i = i + 3
  elseif op == 'P' then
    out[#out + 1] = fl_progress(prefix, ARGV[i + 1], tonumber(ARGV[i + 2]), ARGV[i + 3],
      ARGV[i + 4], ARGV[i + 5], ARGV[i + 6], ARGV[i + 7], cfg)
    i = i + 8
  elseif op == 'F' then
    local code, event_id, request_id = fl_finish(prefix, ARGV[i + 1], tonumber(ARGV[i + 2]),
      ARGV[i + 3], ARGV[i + 4], ARGV[i + 5], ARGV[i + 6], ARGV[i + 7], ARGV[i + 8], cfg)
    if code == 1 then
      if not ended[event_id] then
        ended_order[#ended_order + 1] = event_id
      end
      -- The last ended job of the event names the request and time of event:progress.
      ended[event_id] = { request_id, ARGV[i + 6] }
    end
    settle(ARGV[i + 9], ARGV[i + 10], ARGV[i + 11])
    local index, sightings = tonumber(ARGV[i + 12]), tonumber(ARGV[i + 13])
    if code == 1 and index > 0 then
      if ARGV[i + 3] == 'succeeded' then
        -- The terminal message was the last this batch stamped for the event: its seq.
        fl_index_bibs(index, cfg.events[event_id].seq, i + 14, sightings)
      end
      indexes[index] = true
    end
    out[#out + 1] = code
    i = i + 14 + 3 * sightings
  elseif op == 'A' then
    settle(ARGV[i + 1], ARGV[i + 2], ARGV[i + 3])
    i = i + 4
  else
    -- Built by finishline-bus only; nothing is written after an unknown operation.
    return redis.error_reply('batch: unknown operation ' .. tostring(op) .. ' at ' .. i)
  end
end
for _, event_id in ipairs(ended_order) do
  local last = ended[event_id]
  -- event:progress reads the counters from Redis: write this batch's counts first.
  fl_flush_counts(cfg.events[event_id])
  fl_event_changed(prefix, event_id, last[1], last[2], cfg)
end
-- Every event this batch published to is in cfg.events: its seq, then its TTLs, once.
for event_id, e in pairs(cfg.events) do
  fl_flush_seq(e)
  fl_expire_event(prefix, event_id, cfg.ttl)
end
for index in pairs(indexes) do
  fl_expire_bib_index(index, cfg.ttl)
end
return out
