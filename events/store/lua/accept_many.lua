-- ACCEPT for every event of one group commit (events/store/acceptor.py): accept.lua's body,
-- prepended as the function `accept`, runs once per event, in order, in one script run (one
-- atomic step, one reply). Returns accept.lua's answer for each event.
-- KEYS: accept.lua's seven per event; ARGV: accept.lua's eight per event, then the key layout
-- (dispatch.lua)
local results = {}
for i = 0, #KEYS / 7 - 1 do
  local event_keys, event_args = {}, {}
  for k = 1, 7 do event_keys[k] = KEYS[i * 7 + k] end
  for a = 1, 8 do event_args[a] = ARGV[i * 8 + a] end
  results[i + 1] = accept(event_keys, event_args)
end
return results
