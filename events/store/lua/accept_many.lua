-- ACCEPT for every event of one group commit (events/store/acceptor.py): accept.lua's body,
-- prepended as the function `accept`, runs once per event, in order, in one script run (one
-- atomic step, one reply). Returns accept.lua's answer for each event. What is the same for
-- every event of the run comes once:
-- KEYS: the arq queue, the event index, the scheduled set; then per event its idempotency key,
--       record, order list and dispatch counter
-- ARGV: idempotency ttl ms, now ms, job expiry ms; then per event its id, record json,
--       fingerprint, has key and due ms (accept.lua's); then the key layout (dispatch.lua)
local queue, index, scheduled = KEYS[1], KEYS[2], KEYS[3]
local ttl, now, expiry = ARGV[1], ARGV[2], ARGV[3]
local results = {}
for i = 0, (#KEYS - 3) / 4 - 1 do
  local k, a = 3 + i * 4, 3 + i * 5
  results[i + 1] = accept(
    {KEYS[k + 1], KEYS[k + 2], KEYS[k + 3], queue, index, KEYS[k + 4], scheduled},
    {ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ttl, now, expiry, ARGV[a + 4], ARGV[a + 5]})
end
return results
