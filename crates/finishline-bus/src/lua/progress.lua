-- Publishes one progress message of a running job, fenced by its run number.
-- ARGV: prefix, job_id, run, name, body, ts, stage, progress, history_max, stream_max, ttl
-- Returns: the seq, -1 when the job has ended, -2 when a newer run owns the job.
local cfg = { history_max = ARGV[9], stream_max = ARGV[10], ttl = ARGV[11] }
return fl_progress(ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4], ARGV[5], ARGV[6],
  ARGV[7], ARGV[8], cfg)
