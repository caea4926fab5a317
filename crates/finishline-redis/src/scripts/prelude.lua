-- Shared functions of the scripts that publish (batch, enqueue, redrive), prepended to each by
-- finishline-redis (scripts/mod.rs). No key name is built here: every key arrives in KEYS,
-- and these functions take the keys they use from the event and job records given to them.
--
-- fl_publish stamps a message with the event's next seq, splices the common fields
-- (eventId, requestId, seq, ts) in front of the body built by Rust, and appends it to the
-- event's history (stream id "<seq>-0", so replay is an XRANGE by seq) and to the progress
-- stream that every gateway tails. Doing all of it in one script is what makes seq order,
-- history order and relay order the same order.

-- An event's record: its keys (the event's hash of counters and seq, its history, its
-- settings, the progress stream its messages go to, the set of failed jobs: nil where a
-- script ends no job) and, while the script runs, its seq and counter increments. They are
-- written once, by fl_flush_event at the end of the script: one HGET and a few writes per
-- event, however many of its jobs the call touches.
local function fl_event(id, key, history, settings, stream, failed)
  return { id = id, key = key, history = history, settings = settings, stream = stream,
    failed = failed, incr = {} }
end

-- Loads the event's seq on first use; an event the script never writes is never flushed.
local function fl_touch(ev)
  if not ev.seq then
    ev.seq = tonumber(redis.call('HGET', ev.key, 'seq') or '0') or 0
    ev.stored_seq = ev.seq
  end
end

-- A job's record: its id, its hash and the list of its last messages.
local function fl_job(id, key, history)
  return { id = id, key = key, history = history }
end

local function fl_count(ev, field, n)
  fl_touch(ev)
  ev.incr[field] = (ev.incr[field] or 0) + (n or 1)
end

local function fl_flush_counts(ev)
  for field, n in pairs(ev.incr) do
    redis.call('HINCRBY', ev.key, field, n)
  end
  ev.incr = {}
end

-- Writes what the script changed of an event (counters, seq), then renews the TTLs of its
-- keys: counters, history and the organiser's settings live for the retention period after
-- the event's last message.
local function fl_flush_event(ev, ttl)
  if not ev.seq then
    return
  end
  fl_flush_counts(ev)
  if ev.seq ~= ev.stored_seq then
    redis.call('HSET', ev.key, 'seq', ev.seq)
    ev.stored_seq = ev.seq
  end
  redis.call('EXPIRE', ev.key, ttl)
  redis.call('EXPIRE', ev.history, ttl)
  redis.call('EXPIRE', ev.settings, ttl)
end

-- job: the job the message is about (a record, or nil for event messages); owner: the user
-- who owns the job (or nil/''), whose room the relay also emits to.
local function fl_publish(ev, request_id, name, body, ts, cfg, job, terminal, owner)
  fl_touch(ev)
  ev.seq = ev.seq + 1
  local seq = ev.seq
  local head = '{"eventId":"' .. ev.id .. '","requestId":"' .. request_id ..
    '","seq":' .. seq .. ',"ts":"' .. ts .. '"'
  local data
  if body == '{}' or body == '' then
    data = head .. '}'
  else
    data = head .. ',' .. string.sub(body, 2)
  end
  redis.call('XADD', ev.history, 'MAXLEN', '~', cfg.history_max, seq .. '-0', 'n', name, 'd', data)
  local job_id = ''
  if job then job_id = job.id end
  if owner and owner ~= '' then
    redis.call('XADD', ev.stream, 'MAXLEN', '~', cfg.stream_max, '*',
      'e', ev.id, 's', seq, 'n', name, 'd', data, 'j', job_id, 'o', owner)
  else
    redis.call('XADD', ev.stream, 'MAXLEN', '~', cfg.stream_max, '*',
      'e', ev.id, 's', seq, 'n', name, 'd', data, 'j', job_id)
  end
  if job then
    -- The job's last 100 messages; trimmed only once longer (videos), its TTL set with the
    -- first message and refreshed by the terminal one.
    local length = redis.call('RPUSH', job.history, '{"type":"' .. name .. '","data":' .. data .. '}')
    if length > 100 then
      redis.call('LTRIM', job.history, -100, -1)
    end
    if length == 1 or terminal then
      redis.call('EXPIRE', job.history, cfg.ttl)
    end
  end
  return seq
end

-- The event's counters, with this script's increments.
local function fl_counts(ev)
  fl_touch(ev)
  fl_flush_counts(ev)
  local v = redis.call('HMGET', ev.key,
    'totalPhotos', 'processedPhotos', 'succeeded', 'failed', 'cancelled',
    'totalVideos', 'processedVideos')
  local c = {}
  for i = 1, 7 do c[i] = tonumber(v[i] or '0') or 0 end
  return c
end

local function fl_publish_event_progress(ev, request_id, ts, cfg)
  local c = fl_counts(ev)
  local body = '{"processedPhotos":' .. c[2] .. ',"totalPhotos":' .. c[1] ..
    ',"succeeded":' .. c[3] .. ',"failed":' .. c[4] .. ',"cancelled":' .. c[5] ..
    ',"processedVideos":' .. c[7] .. ',"totalVideos":' .. c[6] .. '}'
  fl_publish(ev, request_id, 'event:progress', body, ts, cfg)
  return c
end

local function fl_is_terminal(state)
  return state == 'succeeded' or state == 'failed' or state == 'cancelled'
end

-- Ends a job exactly once: terminal state, counters and the terminal message. The caller
-- then publishes event:progress (fl_event_changed), once per event when it ends several.
-- run 0 ends it whatever runs (cancellation).
-- Returns 1 and the request id when this call ended the job, 0 when it had already ended (or
-- is unknown), -2 when a newer run owns it, -3 when the job is not of event ev (a caller's
-- mistake: nothing is written).
local function fl_finish(ev, job, run, state, name, body, ts, result, err, cfg)
  local fields = redis.call('HMGET', job.key, 'state', 'run', 'eventId', 'requestId', 'kind',
    'owner')
  if not fields[1] or fl_is_terminal(fields[1]) then
    return 0
  end
  if fields[3] ~= ev.id then
    return -3
  end
  if run > 0 and tonumber(fields[2] or '0') ~= run then
    return -2
  end
  local request_id, kind = fields[4], fields[5]
  if state == 'succeeded' then
    redis.call('HSET', job.key, 'state', state, 'finishedAt', ts, 'updatedAt', ts,
      'progress', 100, 'result', result)
  elseif err ~= '' then
    redis.call('HSET', job.key, 'state', state, 'finishedAt', ts, 'updatedAt', ts, 'error', err)
  else
    redis.call('HSET', job.key, 'state', state, 'finishedAt', ts, 'updatedAt', ts)
  end
  if state == 'failed' then
    local now = redis.call('TIME')
    local now_ms = now[1] * 1000 + math.floor(now[2] / 1000)
    redis.call('ZADD', ev.failed, now_ms, job.id)
    -- Entries older than the retention period point at expired jobs: forget them.
    redis.call('ZREMRANGEBYSCORE', ev.failed, 0, now_ms - tonumber(cfg.ttl) * 1000)
  end
  redis.call('EXPIRE', job.key, cfg.ttl)
  if kind == 'video' then
    fl_count(ev, 'processedVideos')
  else
    fl_count(ev, 'processedPhotos')
  end
  fl_count(ev, state)
  fl_publish(ev, request_id, name, body, ts, cfg, job, true, fields[6])
  return 1, request_id
end

-- After jobs of an event ended: event:progress, then event:completed when every known job of
-- the event has ended. Called once per ended job, or once per event for a batch: counters
-- only grow, so "drained" is reached by exactly one call.
local function fl_event_changed(ev, request_id, ts, cfg)
  local c = fl_publish_event_progress(ev, request_id, ts, cfg)
  if c[2] + c[7] >= c[1] + c[6] then
    local summary = '{"summary":{"total":' .. (c[1] + c[6]) .. ',"succeeded":' .. c[3] ..
      ',"failed":' .. c[4] .. ',"cancelled":' .. c[5] .. '}}'
    fl_publish(ev, request_id, 'event:completed', summary, ts, cfg)
  end
end
