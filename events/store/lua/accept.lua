-- KEYS: idempotency, record, order list, arq queue, event index, dispatch counter, scheduled set
-- ARGV: event id, record json, fingerprint, idempotency ttl ms, now ms, job expiry ms, has key,
--       due ms ('' unless scheduled), then the key layout (dispatch.lua)
if ARGV[7] == '1' then
  local prior = redis.call('GET', KEYS[1])
  if prior then return {0, prior} end
  redis.call('SET', KEYS[1], cjson.encode({event_id = ARGV[1], fingerprint = ARGV[3]}),
             'PX', ARGV[4])
end
redis.call('SET', KEYS[2], ARGV[2])
redis.call('ZADD', KEYS[5], ARGV[5], ARGV[1])
if ARGV[8] ~= '' then
  -- Scheduled: outside its line, so it blocks nothing, until promote_due.lua moves it in.
  redis.call('ZADD', KEYS[7], ARGV[8], ARGV[1])
  return {1, ''}
end
redis.call('RPUSH', KEYS[3], ARGV[1])
if redis.call('LLEN', KEYS[3]) == 1 then
  dispatch(KEYS[6], ARGV[1], KEYS[4], tonumber(ARGV[5]), ARGV[6])
end
return {1, ''}
