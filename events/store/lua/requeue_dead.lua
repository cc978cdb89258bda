-- KEYS: record, order list, arq queue, dead index, dispatch counter
-- ARGV: event id, requeued record json, now ms, job expiry ms, then the key layout (dispatch.lua)
if not redis.call('ZSCORE', KEYS[4], ARGV[1]) then return 0 end
redis.call('ZREM', KEYS[4], ARGV[1])
redis.call('SET', KEYS[1], ARGV[2])
redis.call('PERSIST', KEYS[5])
redis.call('RPUSH', KEYS[2], ARGV[1])
if redis.call('LLEN', KEYS[2]) == 1 then
  dispatch(KEYS[5], ARGV[1], KEYS[3], tonumber(ARGV[3]), ARGV[4])
end
return 1
