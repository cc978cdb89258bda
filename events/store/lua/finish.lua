-- KEYS: record, order list, arq queue, dead index, dispatch counter
-- ARGV: event id, final record json, now ms, job expiry ms, retention ms, '1' if dead,
--       then the key layout (dispatch.lua)
-- Returns the job id of the line's next event when this one was the head, else ''.
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[5])
if ARGV[6] == '1' then
  -- A dead event keeps its dispatch numbers for a replay; a succeeded one is never dispatched
  -- again (an old job of it finds the record terminal), so its counter goes.
  redis.call('PEXPIRE', KEYS[5], ARGV[5])
  redis.call('ZADD', KEYS[4], ARGV[3], ARGV[1])
else
  -- (Not in the dead index: an event leaves it only by a replay, requeue_dead.lua, which
  -- takes it out.)
  redis.call('DEL', KEYS[5])
end
-- The line's head and the one behind it, in one read.
local first = redis.call('LRANGE', KEYS[2], 0, 1)
if first[1] ~= ARGV[1] then
  redis.call('LREM', KEYS[2], 1, ARGV[1])
  return ''
end
redis.call('LPOP', KEYS[2])
local next_id = first[2]
if next_id then
  return dispatch(dispatch_prefix .. next_id, next_id, KEYS[3], tonumber(ARGV[3]), ARGV[4])
end
return ''
