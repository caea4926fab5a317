-- Marks a job running and opens a new run (fencing token) for it.
-- ARGV: prefix, job_id, ts
-- Returns: {run, attempt}, or {0, 0} when the job has already ended (nothing to do).
local run, attempt = fl_start_run(ARGV[1], ARGV[2], ARGV[3])
return {run, attempt}
