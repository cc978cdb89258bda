-- Decide a Slack approval once: approved, denied or expired. Only a pending approval is
-- decided (two clicks at the same moment: the second sees the first's decision); a click
-- after the deadline expires it. On approval, accept.lua (appended) queues the event in the
-- same atomic step, so an approval never exists without its event, nor the event twice.
-- KEYS: accept.lua's seven, then the approval hash, the approvals deadline set
-- ARGV: accept.lua's eight, then the decision, who decided, now ms, the approval id, how long
--       a decided approval is kept (ms), then the key layout (dispatch.lua)
local state = redis.call('HGET', KEYS[8], 'state')
if not state then return {2, 'missing'} end
if state ~= 'pending' then return {2, state} end
local decision = ARGV[9]
local overdue = tonumber(redis.call('HGET', KEYS[8], 'deadline_ms')) <= tonumber(ARGV[11])
if decision == 'expired' then
  if not overdue then return {2, 'pending'} end
elseif overdue then
  decision = 'expired'
end
redis.call('HSET', KEYS[8], 'state', decision, 'decided_by', ARGV[10], 'decided_at', ARGV[11])
redis.call('PEXPIRE', KEYS[8], ARGV[13])
redis.call('ZREM', KEYS[9], ARGV[12])
if decision ~= 'approved' then return {1, decision} end
