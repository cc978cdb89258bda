-- The provider slot as functions, shared by the worker's scripts (workers/pacing.py prepends
-- this file): taking one (acquire_slot.lua, begin_step.lua) and giving it back with the step's
-- outcome (release_slot.lua, save_released.lua, and FINISH in workers/job_writes.py).
-- One clock for all workers: Redis's TIME, in milliseconds.
local function now_ms()
  local t = redis.call('TIME')
  return t[1] * 1000 + math.floor(t[2] / 1000)
end

-- The circuit must be closed (or half-open with no probe out), no 429 slow-down in force,
-- fewer than max_concurrency leases out, and the rate under the GCRA. Returns
-- {wait ms, reason, probe flag}; reason 'ok' means the lease is taken.
local function acquire_slot(tat_key, penalty_key, slots_key, breaker_key, interval_ms,
                            tolerance_ms, max_concurrency, lease_ms, lease_id, probe_lease_ms)
  local now = now_ms()
  local open_until = tonumber(redis.call('HGET', breaker_key, 'open_until') or '0')
  if open_until > now then return {open_until - now, 'circuit_open', 0} end
  local penalty_and_tat = redis.call('MGET', penalty_key, tat_key)  -- one read for both
  local penalty = tonumber(penalty_and_tat[1] or '0')
  if penalty > now then return {penalty - now, 'rate_limited', 0} end
  -- Leases past their expiry (a killed worker's) are dropped only when they would count.
  if redis.call('ZCARD', slots_key) >= max_concurrency then
    redis.call('ZREMRANGEBYSCORE', slots_key, '-inf', now)
    if redis.call('ZCARD', slots_key) >= max_concurrency then return {25, 'concurrency', 0} end
  end
  local tat = tonumber(penalty_and_tat[2] or '0')
  if tat < now then tat = now end
  local wait = tat - now - tolerance_ms
  if wait > 0 then return {wait, 'rate', 0} end
  local probe = 0
  if open_until > 0 then
    local probe_until = tonumber(redis.call('HGET', breaker_key, 'probe_until') or '0')
    if probe_until > now then
      return {math.min(probe_until - now, 500), 'circuit_half_open', 0}
    end
    redis.call('HSET', breaker_key, 'probe_until', now + probe_lease_ms)
    probe = 1
  end
  redis.call('SET', tat_key, tat + interval_ms, 'PX', 60000)
  redis.call('ZADD', slots_key, now + lease_ms, lease_id)
  redis.call('PEXPIRE', slots_key, lease_ms * 2)
  return {0, 'ok', probe}
end

-- Give the lease back; the outcome feeds the breaker ('success', 'failure', 'neutral') or
-- slows every worker's pace ('rate_limited').
local function release_slot(slots_key, breaker_key, penalty_key, lease_id, outcome, probe,
                            failure_threshold, cooldown_ms, penalty_ms)
  redis.call('ZREM', slots_key, lease_id)
  if outcome == 'success' then
    redis.call('DEL', breaker_key)
  elseif outcome == 'failure' then
    local failures = redis.call('HINCRBY', breaker_key, 'failures', 1)
    if probe == '1' or failures >= failure_threshold then
      redis.call('HSET', breaker_key, 'open_until', now_ms() + cooldown_ms, 'failures', 0,
                 'probe_until', 0)
    end
  elseif outcome == 'rate_limited' then
    local until_ms = now_ms() + penalty_ms
    if tonumber(redis.call('GET', penalty_key) or '0') < until_ms then
      redis.call('SET', penalty_key, until_ms, 'PX', penalty_ms)
    end
  end
end
