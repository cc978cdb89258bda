-- KEYS: tat, penalty, slots, breaker. ARGV: interval ms, tolerance ms, max concurrency,
-- lease ms, lease id, probe lease ms. Returns {wait ms, reason, probe flag}.
return acquire_slot(KEYS[1], KEYS[2], KEYS[3], KEYS[4], tonumber(ARGV[1]), tonumber(ARGV[2]),
                    tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5], tonumber(ARGV[6]))
