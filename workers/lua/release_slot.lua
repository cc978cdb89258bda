-- KEYS: slots, breaker, penalty. ARGV: lease id, outcome, probe flag, failure threshold,
-- cool-down ms, penalty ms.
-- One clock for all workers: Redis's TIME, in milliseconds.
local t = redis.call('TIME'); local now = t[1] * 1000 + math.floor(t[2] / 1000)
redis.call('ZREM', KEYS[1], ARGV[1])
local outcome = ARGV[2]
if outcome == 'success' then
  redis.call('DEL', KEYS[2])
elseif outcome == 'failure' then
  local failures = redis.call('HINCRBY', KEYS[2], 'failures', 1)
  if ARGV[3] == '1' or failures >= tonumber(ARGV[4]) then
    redis.call('HSET', KEYS[2], 'open_until', now + tonumber(ARGV[5]), 'failures', 0,
               'probe_until', 0)
  end
elseif outcome == 'rate_limited' then
  local until_ms = now + tonumber(ARGV[6])
  if tonumber(redis.call('GET', KEYS[3]) or '0') < until_ms then
    redis.call('SET', KEYS[3], until_ms, 'PX', tonumber(ARGV[6]))
  end
end
return 1
