-- KEYS: slots, breaker, penalty. ARGV: lease id, outcome, probe flag, failure threshold,
-- cool-down ms, penalty ms.
release_slot(KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]),
             tonumber(ARGV[5]), tonumber(ARGV[6]))
return 1
