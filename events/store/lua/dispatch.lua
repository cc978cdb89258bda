-- Shared head of the queue scripts (events/store/queue.py prepends it to each of them).
-- The last four ARGV are the key layout from events/keys.py (QueueScripts.layout): arq's job
-- key prefix, the dispatch counter prefix, the job id separator and the job function. Keys a
-- script can only name while it runs (the job of the number it just drew, the next event in a
-- line) are built from these prefixes; every other key comes in KEYS.
local n_args = #ARGV
local job_key_prefix = ARGV[n_args - 3]
local dispatch_prefix = ARGV[n_args - 2]
local job_id_separator = ARGV[n_args - 1]
local job_function = ARGV[n_args]

-- Dispatch `event_id`: a fresh job id per dispatch, because arq refuses a job id whose key or
-- result still exists, and a replay may come while the old job is being finished. The job is
-- arq's job format (arq.jobs.serialize_job) with the JSON serializer of queue.py. Returns the
-- job id.
local function dispatch(counter_key, event_id, queue, now, expiry_ms)
  local n = redis.call('INCR', counter_key)
  local job_id = event_id .. job_id_separator .. n
  local job = cjson.encode({t = 1, f = job_function, a = {event_id, n}, k = {}, et = now})
  redis.call('SET', job_key_prefix .. job_id, job, 'PX', expiry_ms)
  redis.call('ZADD', queue, now, job_id)
  return job_id
end
