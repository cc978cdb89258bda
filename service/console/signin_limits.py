"""How many sign-ins the console takes before it refuses them for a while: per client address
and over all clients, counted in Redis so that every ingress replica shares the count.

A sign-in takes a place in its client's window, then in everyone's, before its token is
looked at — in one script, so guesses sent together each get their own place; a right token
gives its places back. Past either limit the sign-in is refused (429) whatever its token, so
a right guess then looks like a wrong one, until the window that refused it ends. A client
already past its own limit does not use up everyone's. Each window starts with its first try.
"""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

from expbridge.config.console import SigninLimits
from expbridge.events import keys

# KEYS: this client's tries, everyone's; ARGV: the client's limit, everyone's, window (s).
# Returns 0 when the sign-in may go on, else the seconds until the refusing window ends.
TAKE = """
local function take(key, limit)
  local tries = redis.call('INCR', key)
  local ttl = redis.call('TTL', key)
  if ttl < 0 then
    redis.call('EXPIRE', key, ARGV[3])
    ttl = tonumber(ARGV[3])
  end
  if tries > tonumber(limit) then return ttl end
  return 0
end
local wait = take(KEYS[1], ARGV[1])
if wait > 0 then return wait end
return take(KEYS[2], ARGV[2])
"""
# A place is given back only while its window lasts: a DECR after it would leave a count
# below zero, without an expiry.
GIVE_BACK = """
for _, key in ipairs(KEYS) do
  if redis.call('EXISTS', key) == 1 then redis.call('DECR', key) end
end
"""


@dataclass(frozen=True)
class SigninPlaces:
    """The places one sign-in took; `retry_after_s` is set when it is refused."""

    taken: list[str]
    retry_after_s: int | None


class SigninLimiter:
    def __init__(self, redis: Redis, limits: SigninLimits) -> None:
        self.redis = redis
        self.limits = limits
        self.take_script = redis.register_script(TAKE)
        self.give_back_script = redis.register_script(GIVE_BACK)

    async def take(self, client: str) -> SigninPlaces:
        places = [keys.console_signin_tries(f"client:{client}"), keys.console_signin_tries("all")]
        limits = self.limits
        wait = int(
            await self.take_script(
                keys=places, args=[limits.per_client, limits.overall, limits.window_s]
            )
        )
        return SigninPlaces(places, wait or None)

    async def give_back(self, places: SigninPlaces) -> None:
        """A right token: its tries do not count against anyone."""
        await self.give_back_script(keys=places.taken)
