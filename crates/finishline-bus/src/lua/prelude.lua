-- Shared functions of every finishline script. Prepended to each script by the bus crate.
--
-- fl_publish stamps a message with the event's next seq, splices the common fields
-- (eventId, requestId, seq, ts) in front of the body built by Rust, and appends it to the
-- event's history (stream id "<seq>-0", so replay is an XRANGE by seq) and to the global
-- progress stream that every gateway tails. Doing all of it in one script is what makes seq
-- order, history order and relay order the same order.

local function fl_key(prefix, ...)
  return prefix .. ':' .. table.concat({...}, ':')
end

local function fl_publish(prefix, event_id, request_id, name, body, ts, cfg, job_id)
  local event_key = fl_key(prefix, 'event', event_id)
  local history_key = fl_key(prefix, 'history', event_id)
  local seq = redis.call('HINCRBY', event_key, 'seq', 1)
  local head = '{"eventId":"' .. event_id .. '","requestId":"' .. request_id ..
    '","seq":' .. seq .. ',"ts":"' .. ts .. '"'
  local data
  if body == '{}' or body == '' then
    data = head .. '}'
  else
    data = head .. ',' .. string.sub(body, 2)
  end
  redis.call('XADD', history_key, 'MAXLEN', '~', cfg.history_max, seq .. '-0', 'n', name, 'd', data)
  redis.call('XADD', fl_key(prefix, 'progress'), 'MAXLEN', '~', cfg.stream_max, '*',
    'e', event_id, 's', seq, 'n', name, 'd', data, 'j', job_id or '')
  if job_id then
    local job_history = fl_key(prefix, 'job', job_id, 'history')
    redis.call('RPUSH', job_history, '{"type":"' .. name .. '","data":' .. data .. '}')
    redis.call('LTRIM', job_history, -100, -1)
    redis.call('EXPIRE', job_history, cfg.ttl)
  end
  redis.call('EXPIRE', event_key, cfg.ttl)
  redis.call('EXPIRE', history_key, cfg.ttl)
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
