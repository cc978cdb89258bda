-- Cancel a scheduled, queued or retrying event: it leaves the schedule or its line (the next
-- event in the line is dispatched), its arq job is removed, and its record becomes the
-- cancelled one. Compare-and-set on what the caller read: 'changed' if the record or its
-- dispatch number moved on since (the caller reads again), 'running' while a worker holds the
-- event's job (it may already be upstream).
-- KEYS: record, dispatch counter, order list, arq queue, scheduled set, counts, job key,
--       job in-progress key, job retry key
-- ARGV: event id, record json as read, dispatch number as read ('' if none), cancelled record
--       json, job id, now ms, job expiry ms, retention ms, counter field,
--       then the key layout (dispatch.lua)
if redis.call('GET', KEYS[1]) ~= ARGV[2] then return 'changed' end
if (redis.call('GET', KEYS[2]) or '') ~= ARGV[3] then return 'changed' end
if redis.call('EXISTS', KEYS[8]) == 1 then return 'running' end
redis.call('ZREM', KEYS[5], ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[5])
redis.call('DEL', KEYS[7], KEYS[9])
redis.call('SET', KEYS[1], ARGV[4], 'PX', ARGV[8])
redis.call('PEXPIRE', KEYS[2], ARGV[8])
redis.call('HINCRBY', KEYS[6], ARGV[9], 1)
local head = redis.call('LINDEX', KEYS[3], 0)
if redis.call('LREM', KEYS[3], 1, ARGV[1]) == 1 and head == ARGV[1] then
  local next_id = redis.call('LINDEX', KEYS[3], 0)
  if next_id then
    dispatch(dispatch_prefix .. next_id, next_id, KEYS[4], tonumber(ARGV[6]), ARGV[7])
  end
end
return 'cancelled'
