-- The bib index of an event, written by the step that ends a job (batch.lua), so a job is
-- indexed exactly when it succeeds, once. Three keys per event, passed in KEYS (built by
-- Keys::bib_index): KEYS[base] the sightings, a sorted set whose members all score 0 and read
-- "<number>:<seq, 12 digits>:<p|v>:<json>" (a number's sightings are one ZRANGEBYLEX, in the
-- order their jobs ended, seq being the terminal message's); KEYS[base + 1] the numbers seen,
-- score 0 (prefix search by ZRANGEBYLEX); KEYS[base + 2] a hash "<p|v>:<number>" -> count.

-- Indexes the n sightings found at ARGV[at], three arguments each: number, kind ('p' or 'v'),
-- the sighting's JSON.
local function fl_index_bibs(base, seq, at, n)
  local sightings, numbers, counts = KEYS[base], KEYS[base + 1], KEYS[base + 2]
  local padded = string.format('%012d', seq)
  for j = 0, n - 1 do
    local number, kind = ARGV[at + 3 * j], ARGV[at + 3 * j + 1]
    redis.call('ZADD', sightings, 0, number .. ':' .. padded .. ':' .. kind .. ':' .. ARGV[at + 3 * j + 2])
    redis.call('ZADD', numbers, 0, number)
    redis.call('HINCRBY', counts, kind .. ':' .. number, 1)
  end
end

-- The index lives as long as the event's other keys: every job end of the event renews it.
local function fl_expire_bib_index(base, ttl)
  for k = base, base + 2 do
    redis.call('EXPIRE', KEYS[k], ttl)
  end
end
