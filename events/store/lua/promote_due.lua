-- Move one due scheduled event to the back of its target's line (dispatched if it is the head),
-- its record now the queued one. Once only, with any number of workers: the ZREM claims it, and
-- the record must still be the one the caller read (a cancel takes it out of the set first).
-- KEYS: scheduled set, record, order list, arq queue, dispatch counter
-- ARGV: event id, record json as read, queued record json, now ms, job expiry ms,
--       then the key layout (dispatch.lua)
if redis.call('GET', KEYS[2]) ~= ARGV[2] then return 0 end
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('SET', KEYS[2], ARGV[3])
redis.call('RPUSH', KEYS[3], ARGV[1])
if redis.call('LLEN', KEYS[3]) == 1 then
  dispatch(KEYS[5], ARGV[1], KEYS[4], tonumber(ARGV[4]), ARGV[5])
end
return 1
