-- Put between the queue's dispatch.lua and finish.lua (workers/job_writes.py). FINISH also does
-- what arq's finish_job would do next for the finished job — its in-progress, retry and job
-- keys deleted, the job out of the queue — so the worker skips that round trip
-- (workers/bridge_worker.py); and when the event's last call still holds its slot, FINISH
-- gives it back. KEYS[6..8]: the job's in-progress, retry and job keys; KEYS[9..11]: the
-- slot's slots, breaker, penalty. ARGV[7]: the job id; ARGV[8..13] (before the key layout):
-- the six arguments of release_slot.
redis.call('DEL', KEYS[6], KEYS[7], KEYS[8])
redis.call('ZREM', KEYS[3], ARGV[7])
if #KEYS >= 11 then
  release_slot(KEYS[9], KEYS[10], KEYS[11], ARGV[8], ARGV[9], ARGV[10], tonumber(ARGV[11]),
               tonumber(ARGV[12]), tonumber(ARGV[13]))
end
