-- Put between the queue's dispatch.lua and finish.lua (workers/job_writes.py): when the event's
-- last call still holds its slot, FINISH gives it back too. KEYS[6..8]: the slot's slots,
-- breaker, penalty; ARGV[7..12] (before the key layout): the six arguments of release_slot.
if #KEYS >= 8 then
  release_slot(KEYS[6], KEYS[7], KEYS[8], ARGV[7], ARGV[8], ARGV[9], tonumber(ARGV[10]),
               tonumber(ARGV[11]), tonumber(ARGV[12]))
end
