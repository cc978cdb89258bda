-- arq's claim of a job (arq.worker.Worker.start_jobs: WATCH, EXISTS, ZSCORE, then MULTI PSETEX
-- EXEC, four round trips) and the job's first read (arq's run_job: MULTI GET INCR EXPIRE EXEC,
-- a fifth) as one atomic step, which also reads the event's record and dispatch counter for
-- its job (workers/bridge_worker.py). KEYS: the job's in-progress key, the queue, the job's key,
-- its retry (try counter) key, then for an event's job its record and dispatch counter.
-- ARGV: job id, now ms, in-progress timeout ms, the try counter's TTL s (arq's).
-- Returns false when the job runs elsewhere, is gone or is deferred (as arq skips it), else
-- {score, job or false, try number, record or false, counter or false}.
-- The in-progress key is set first (SET NX: refused while the job runs elsewhere) and taken
-- back within the same atomic step when the job turns out gone or deferred.
if not redis.call('SET', KEYS[1], '1', 'PX', ARGV[3], 'NX') then return false end
local score = redis.call('ZSCORE', KEYS[2], ARGV[1])
if not score or tonumber(score) > tonumber(ARGV[2]) then
  redis.call('DEL', KEYS[1])
  return false
end
local job = redis.call('GET', KEYS[3])
local try = redis.call('INCR', KEYS[4])
redis.call('EXPIRE', KEYS[4], ARGV[4])
if #KEYS < 6 then return {score, job, try, false, false} end
local read = redis.call('MGET', KEYS[5], KEYS[6])
return {score, job, try, read[1], read[2]}
