-- KEYS: idempotency, record, order list, arq queue, event index, dispatch counter
-- ARGV: event id, record json, fingerprint, idempotency ttl ms, now ms, job expiry ms, has key,
--       then the key layout (dispatch.lua)
if ARGV[7] == '1' then
  local prior = redis.call('GET', KEYS[1])
  if prior then return {0, prior} end
  redis.call('SET', KEYS[1], cjson.encode({event_id = ARGV[1], fingerprint = ARGV[3]}),
             'PX', ARGV[4])
end
redis.call('SET', KEYS[2], ARGV[2])
redis.call('ZADD', KEYS[5], ARGV[5], ARGV[1])
redis.call('RPUSH', KEYS[3], ARGV[1])
if redis.call('LLEN', KEYS[3]) == 1 then
  dispatch(KEYS[6], ARGV[1], KEYS[4], tonumber(ARGV[5]), ARGV[6])
end
return {1, ''}
