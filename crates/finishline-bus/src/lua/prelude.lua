-- Shared functions of every finishline script. Prepended to each script by the bus crate.
--
-- fl_publish stamps a message with the event's next seq, splices the common fields
-- (eventId, requestId, seq, ts) in front of the body built by Rust, and appends it to the
-- event's history (stream id "<seq>-0", so replay is an XRANGE by seq) and to the global
-- progress stream that every gateway tails. Doing all of it in one script is what makes seq
-- order, history order and relay order the same order.

-- Keys have two to four parts (no vararg table: this runs several times per job).
local function fl_key(prefix, a, b, c)
  if c then return prefix .. ':' .. a .. ':' .. b .. ':' .. c end
  if b then return prefix .. ':' .. a .. ':' .. b end
  return prefix .. ':' .. a
end

-- In a batch (cfg.events set) an event's seq and counters live in the script and are written
-- once per event (fl_flush_counts before its event:progress, fl_flush_seq at the end): one
-- HGET and a few writes per event instead of three HINCRBYs per job. Elsewhere they are
-- incremented in Redis directly.
local function fl_event_cache(prefix, event_id, cfg)
  local e = cfg.events[event_id]
  if not e then
    local key = fl_key(prefix, 'event', event_id)
    local seq = tonumber(redis.call('HGET', key, 'seq') or '0') or 0
    e = { key = key, seq = seq, stored_seq = seq, incr = {} }
    cfg.events[event_id] = e
  end
  return e
end

local function fl_next_seq(prefix, event_id, cfg)
  if cfg.events then
    local e = fl_event_cache(prefix, event_id, cfg)
    e.seq = e.seq + 1
    return e.seq
  end
  return redis.call('HINCRBY', fl_key(prefix, 'event', event_id), 'seq', 1)
end

local function fl_count(prefix, event_id, field, cfg)
  if cfg.events then
    local e = fl_event_cache(prefix, event_id, cfg)
    e.incr[field] = (e.incr[field] or 0) + 1
  else
    redis.call('HINCRBY', fl_key(prefix, 'event', event_id), field, 1)
  end
end

local function fl_flush_counts(e)
  for field, n in pairs(e.incr) do
    redis.call('HINCRBY', e.key, field, n)
  end
  e.incr = {}
end

local function fl_flush_seq(e)
  if e.seq ~= e.stored_seq then
    redis.call('HSET', e.key, 'seq', e.seq)
  end
end

-- An event's keys live for the retention period after its last message: counters, history
-- and the organiser's settings.
local function fl_expire_event(prefix, event_id, ttl)
  redis.call('EXPIRE', fl_key(prefix, 'event', event_id), ttl)
  redis.call('EXPIRE', fl_key(prefix, 'history', event_id), ttl)
  redis.call('EXPIRE', fl_key(prefix, 'event', event_id, 'settings'), ttl)
end

-- owner: the user who owns the job (or nil/''); the relay also emits to that user's room.
local function fl_publish(prefix, event_id, request_id, name, body, ts, cfg, job_id, terminal, owner)
  local history_key = fl_key(prefix, 'history', event_id)
  local seq = fl_next_seq(prefix, event_id, cfg)
  local head = '{"eventId":"' .. event_id .. '","requestId":"' .. request_id ..
    '","seq":' .. seq .. ',"ts":"' .. ts .. '"'
  local data
  if body == '{}' or body == '' then
    data = head .. '}'
  else
    data = head .. ',' .. string.sub(body, 2)
  end
  redis.call('XADD', history_key, 'MAXLEN', '~', cfg.history_max, seq .. '-0', 'n', name, 'd', data)
  if owner and owner ~= '' then
    redis.call('XADD', fl_key(prefix, 'progress'), 'MAXLEN', '~', cfg.stream_max, '*',
      'e', event_id, 's', seq, 'n', name, 'd', data, 'j', job_id or '', 'o', owner)
  else
    redis.call('XADD', fl_key(prefix, 'progress'), 'MAXLEN', '~', cfg.stream_max, '*',
      'e', event_id, 's', seq, 'n', name, 'd', data, 'j', job_id or '')
  end
  if job_id then
    -- The job's last 100 messages; trimmed only once longer (videos), its TTL set with the
    -- first message and refreshed by the terminal one.
    local job_history = fl_key(prefix, 'job', job_id, 'history')
    local length = redis.call('RPUSH', job_history, '{"type":"' .. name .. '","data":' .. data .. '}')
    if length > 100 then
      redis.call('LTRIM', job_history, -100, -1)
    end
    if length == 1 or terminal then
      redis.call('EXPIRE', job_history, cfg.ttl)
    end
  end
  -- A batch sets the TTLs once per event at its end (cfg.defer_expire).
  if not cfg.defer_expire then
    fl_expire_event(prefix, event_id, cfg.ttl)
  end
  return seq
end

local function fl_counts(prefix, event_id)
  local v = redis.call('HMGET', fl_key(prefix, 'event', event_id),
    'totalPhotos', 'processedPhotos', 'succeeded', 'failed', 'cancelled',
    'totalVideos', 'processedVideos')
  local c = {}
  for i = 1, 7 do c[i] = tonumber(v[i] or '0') or 0 end
  return c
end

local function fl_publish_event_progress(prefix, event_id, request_id, ts, cfg)
  local c = fl_counts(prefix, event_id)
  local body = '{"processedPhotos":' .. c[2] .. ',"totalPhotos":' .. c[1] ..
    ',"succeeded":' .. c[3] .. ',"failed":' .. c[4] .. ',"cancelled":' .. c[5] ..
    ',"processedVideos":' .. c[7] .. ',"totalVideos":' .. c[6] .. '}'
  fl_publish(prefix, event_id, request_id, 'event:progress', body, ts, cfg)
  return c
end

local function fl_is_terminal(state)
  return state == 'succeeded' or state == 'failed' or state == 'cancelled'
end

-- Ends a job exactly once: terminal state, counters and the terminal message. The caller
-- then publishes event:progress (fl_event_changed), once per event when it ends several.
-- run 0 ends it whatever runs (cancellation).
-- Returns 1 and the event and request ids when this call ended the job, 0 when it had
-- already ended, -2 when a newer run owns it.
local function fl_finish(prefix, job_id, run, state, name, body, ts, result, err, cfg)
  local job_key = fl_key(prefix, 'job', job_id)
  local fields = redis.call('HMGET', job_key, 'state', 'run', 'eventId', 'requestId', 'kind',
    'owner')
  if not fields[1] or fl_is_terminal(fields[1]) then
    return 0
  end
  if run > 0 and tonumber(fields[2] or '0') ~= run then
    return -2
  end
  local event_id, request_id, kind = fields[3], fields[4], fields[5]
  if state == 'succeeded' then
    redis.call('HSET', job_key, 'state', state, 'finishedAt', ts, 'updatedAt', ts,
      'progress', 100, 'result', result)
  elseif err ~= '' then
    redis.call('HSET', job_key, 'state', state, 'finishedAt', ts, 'updatedAt', ts, 'error', err)
  else
    redis.call('HSET', job_key, 'state', state, 'finishedAt', ts, 'updatedAt', ts)
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
  if kind == 'video' then
    fl_count(prefix, event_id, 'processedVideos', cfg)
  else
    fl_count(prefix, event_id, 'processedPhotos', cfg)
  end
  fl_count(prefix, event_id, state, cfg)
  fl_publish(prefix, event_id, request_id, name, body, ts, cfg, job_id, true, fields[6])
  return 1, event_id, request_id
end

-- After jobs of an event ended: event:progress, then event:completed when every known job of
-- the event has ended. Called once per ended job, or once per event for a batch: counters
-- only grow, so "drained" is reached by exactly one call.
local function fl_event_changed(prefix, event_id, request_id, ts, cfg)
  local c = fl_publish_event_progress(prefix, event_id, request_id, ts, cfg)
  if c[2] + c[7] >= c[1] + c[6] then
    local summary = '{"summary":{"total":' .. (c[1] + c[6]) .. ',"succeeded":' .. c[3] ..
      ',"failed":' .. c[4] .. ',"cancelled":' .. c[5] .. '}}'
    fl_publish(prefix, event_id, request_id, 'event:completed', summary, ts, cfg)
  end
end
