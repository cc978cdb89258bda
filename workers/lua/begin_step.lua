-- A step's attempt is saved and its provider slot taken in one atomic step, before the call.
-- KEYS: record, dispatch counter, then (a paced step) the slot's tat, penalty, slots, breaker.
-- ARGV: dispatch number, record json (running, the step's attempt counted), then the six
-- arguments of acquire_slot. Nothing is written unless the slot is taken; a job whose event
-- was dispatched again since (a replay, a cancel) gets {-1, 'stale', 0} and writes nothing.
-- A step that calls no upstream (no slot keys) is only saved.
local current = redis.call('GET', KEYS[2])
if current and current ~= ARGV[1] then return {-1, 'stale', 0} end
local taken = {0, 'ok', 0}
if #KEYS > 2 then
  taken = acquire_slot(KEYS[3], KEYS[4], KEYS[5], KEYS[6], tonumber(ARGV[3]), tonumber(ARGV[4]),
                       tonumber(ARGV[5]), tonumber(ARGV[6]), ARGV[7], tonumber(ARGV[8]))
end
if taken[2] == 'ok' then redis.call('SET', KEYS[1], ARGV[2]) end
return taken
