-- arq's claim of a job (arq.worker.Worker.start_jobs: WATCH, EXISTS, ZSCORE, then MULTI PSETEX
-- EXEC, four round trips) as one atomic step, which also reads the event's record and dispatch
-- counter for its job (workers/bridge_worker.py). KEYS: the job's in-progress key, the queue,
-- then for an event's job its record and dispatch counter. ARGV: job id, now ms, in-progress
-- timeout ms. Returns false when the job runs elsewhere, is gone or is deferred (as arq skips
-- it), else {score, record or false, counter or false}.
-- The in-progress key is set first (SET NX: refused while the job runs elsewhere) and taken
-- back within the same atomic step when the job turns out gone or deferred.
if not redis.call('SET', KEYS[1], '1', 'PX', ARGV[3], 'NX') then return false end
local score = redis.call('ZSCORE', KEYS[2], ARGV[1])
if not score or tonumber(score) > tonumber(ARGV[2]) then
  redis.call('DEL', KEYS[1])
  return false
end
if #KEYS < 4 then return {score, false, false} end
local read = redis.call('MGET', KEYS[3], KEYS[4])
return {score, read[1], read[2]}
