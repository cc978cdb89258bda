-- KEYS: tat, penalty, slots, breaker. ARGV: interval ms, tolerance ms, max concurrency,
-- lease ms, lease id, probe lease ms. Returns {wait ms, reason, probe flag}.
-- One clock for all workers: Redis's TIME, in milliseconds.
local t = redis.call('TIME'); local now = t[1] * 1000 + math.floor(t[2] / 1000)
local open_until = tonumber(redis.call('HGET', KEYS[4], 'open_until') or '0')
if open_until > now then return {open_until - now, 'circuit_open', 0} end
local penalty = tonumber(redis.call('GET', KEYS[2]) or '0')
if penalty > now then return {penalty - now, 'rate_limited', 0} end
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
if redis.call('ZCARD', KEYS[3]) >= tonumber(ARGV[3]) then return {25, 'concurrency', 0} end
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local wait = tat - now - tonumber(ARGV[2])
if wait > 0 then return {wait, 'rate', 0} end
local probe = 0
if open_until > 0 then
  local probe_until = tonumber(redis.call('HGET', KEYS[4], 'probe_until') or '0')
  if probe_until > now then return {math.min(probe_until - now, 500), 'circuit_half_open', 0} end
  redis.call('HSET', KEYS[4], 'probe_until', now + tonumber(ARGV[6]))
  probe = 1
end
redis.call('SET', KEYS[1], tat + tonumber(ARGV[1]), 'PX', 60000)
redis.call('ZADD', KEYS[3], now + tonumber(ARGV[4]), ARGV[5])
redis.call('PEXPIRE', KEYS[3], tonumber(ARGV[4]) * 2)
return {0, 'ok', probe}
