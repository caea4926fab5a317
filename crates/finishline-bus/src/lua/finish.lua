-- Ends a job exactly once: terminal state, counters, the terminal message, event:progress,
-- and event:completed when every known job of the event has ended.
-- ARGV: prefix, job_id, run (0 = any run, e.g. cancellation), state, name, body, ts,
--       result_json, error, history_max, stream_max, ttl
-- Returns: 1 when this call ended the job, 0 when it had already ended, -2 when a newer run owns it.
local prefix, ts = ARGV[1], ARGV[7]
local cfg = { history_max = ARGV[10], stream_max = ARGV[11], ttl = ARGV[12] }
local ended, event_id, request_id = fl_finish(prefix, ARGV[2], tonumber(ARGV[3]), ARGV[4],
  ARGV[5], ARGV[6], ts, ARGV[8], ARGV[9], cfg)
if ended == 1 then
  fl_event_changed(prefix, event_id, request_id, ts, cfg)
end
return ended
