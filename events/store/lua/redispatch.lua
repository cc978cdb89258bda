-- The sweeper's repair (workers/sweeper.py): give a line's head a job again when it has none.
-- A head has a job while its current job id (event id, separator, dispatch number) is in the
-- arq queue or a worker holds it (arq's in-progress key). If neither, the job was lost (arq
-- failed it for good, a Redis error between a job's end and its hand-over, a manual repair):
-- dispatch the head again, with a fresh number so an old job that surfaces is stale.
-- KEYS: order list, arq queue
-- ARGV: now ms, job expiry ms, arq's in-progress key prefix, then the key layout (dispatch.lua)
local head = redis.call('LINDEX', KEYS[1], 0)
if not head then return 0 end
local counter_key = dispatch_prefix .. head
local n = redis.call('GET', counter_key)
if n then
  local job_id = head .. job_id_separator .. n
  if redis.call('ZSCORE', KEYS[2], job_id) then return 0 end
  if redis.call('EXISTS', ARGV[3] .. job_id) == 1 then return 0 end
end
dispatch(counter_key, head, KEYS[2], tonumber(ARGV[1]), ARGV[2])
return 1
