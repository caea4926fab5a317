-- The queue side of a retry: a fresh task (new id, the job's payload) in the queue's
-- scheduled set at its due time; the housekeeper promotes it when due. Every key is of the
-- queue's tag.
-- KEYS: 1 the queue's payloads (:data), 2 its scheduled set (:scheduled)
-- ARGV: task_id, payload, due (Unix seconds)
-- Returns: 1.
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
return 1
