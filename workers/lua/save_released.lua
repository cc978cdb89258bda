-- The record saved (the event waiting to retry) and the slot its call held given back, in one
-- step. KEYS: record, then the slot's slots, breaker, penalty.
-- ARGV: record json, then the six arguments of release_slot.
release_slot(KEYS[2], KEYS[3], KEYS[4], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5]),
             tonumber(ARGV[6]), tonumber(ARGV[7]))
redis.call('SET', KEYS[1], ARGV[1])
return 1
