"""Four-eyes approvals of Slack commands: a command that needs approval waits in Redis (one
hash per request, and a set of deadlines) for another person's Approve or Deny, or its
deadline (EXPBRIDGE_SLACK__APPROVAL_TTL_S). The DECIDE script decides it once, however many
people click at the same moment, and an approval queues its event in the same step.

The ingress creates requests and takes clicks; every worker expires overdue ones
(workers/due_events.py). Both show the messages built here.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from redis.asyncio import Redis

from expbridge.config.settings import Settings
from expbridge.events import keys
from expbridge.events.record import EventRecord, utcnow
from expbridge.events.store.acceptor import Acceptor

APPROVE, DENY = "approval.approve", "approval.deny"


def _utc(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"


@dataclass(frozen=True)
class Approval:
    id: str
    state: str  # pending, approved, denied, expired
    requester: str
    channel: str
    command: str  # as typed: `/exp stop paywall in 2h`
    verb: str  # the permission it needs: start, pause, stop
    event: EventRecord  # what an approval queues (its reply_to: the command's response_url)
    approvers: list[str]  # empty: anyone else allowed the command here
    deadline: datetime
    decided_by: str | None = None

    @classmethod
    def from_hash(cls, approval_id: str, fields: dict[bytes, bytes]) -> Approval:
        text = {k.decode(): v.decode() for k, v in fields.items()}
        return cls(
            id=approval_id,
            state=text["state"],
            requester=text["requester"],
            channel=text["channel"],
            command=text["command"],
            verb=text["verb"],
            event=EventRecord.model_validate_json(text["event"]),
            approvers=json.loads(text["approvers"]),
            deadline=datetime.fromtimestamp(int(text["deadline_ms"]) / 1000, UTC),
            decided_by=text.get("decided_by"),
        )

    def what(self) -> str:
        when = f" at {_utc(self.event.not_before)}" if self.event.not_before else ""
        return f"`{self.event.type}` on {self.event.target}{when}"

    def request_message(self) -> dict[str, Any]:
        """The interactive message in the channel: who asks for what, Approve and Deny."""
        text = (
            f":lock: <@{self.requester}> asks to run `{self.command}`: {self.what()}. "
            f"It needs another person's approval by {_utc(self.deadline)}."
        )
        button = {"type": "button", "value": self.id}
        return {
            "response_type": "in_channel",
            "text": text,
            "blocks": [
                {"type": "section", "text": {"type": "mrkdwn", "text": text}},
                {
                    "type": "actions",
                    "block_id": f"approval:{self.id}",
                    "elements": [
                        {
                            **button,
                            "action_id": APPROVE,
                            "style": "primary",
                            "text": {"type": "plain_text", "text": "Approve"},
                        },
                        {
                            **button,
                            "action_id": DENY,
                            "style": "danger",
                            "text": {"type": "plain_text", "text": "Deny"},
                        },
                    ],
                },
            ],
        }

    def decided_message(self, state: str, by: str | None) -> dict[str, Any]:
        """The request message replaced by its decision (no buttons), naming the requester."""
        asked = f"<@{self.requester}>'s `{self.command}`"
        if state == "approved":
            queued = "scheduled" if self.event.not_before else "queued"
            text = f":white_check_mark: <@{by}> approved {asked}: {self.what()} {queued} as "
            text += f"event {self.event.id}."
        elif state == "denied":
            text = f":no_entry: <@{by}> denied {asked}: nothing was queued."
        else:
            text = f":hourglass: {asked} was not approved by {_utc(self.deadline)}: it expired, "
            text += "nothing was queued."
        return {
            "replace_original": True,
            "response_type": "in_channel",
            "text": text,
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
        }


@dataclass(frozen=True)
class Decision:
    state: str  # the approval's state after this call (`missing` for an unknown request)
    decided_now: bool  # this call made the decision


class ApprovalBook:
    def __init__(self, redis: Redis, settings: Settings, acceptor: Acceptor) -> None:
        self.redis = redis
        self.acceptor = acceptor
        self.ttl_ms = int(settings.slack.approval_ttl_s * 1000)
        # A decided request is kept this long, so a late click hears what was decided.
        self.keep_ms = settings.event_retention_s * 1000

    async def request(
        self,
        event: EventRecord,
        requester: str,
        channel: str,
        command: str,
        verb: str,
        approvers: list[str],
    ) -> Approval:
        approval_id = f"apr_{uuid.uuid4().hex}"
        deadline_ms = int(time.time() * 1000) + self.ttl_ms
        fields = {
            "state": "pending",
            "requester": requester,
            "channel": channel,
            "command": command,
            "verb": verb,
            "event": event.stored_json(),
            "approvers": json.dumps(approvers),
            "deadline_ms": str(deadline_ms),
        }
        key = keys.approval(approval_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping=fields)
            pipe.pexpire(key, self.ttl_ms + self.keep_ms)
            pipe.zadd(keys.APPROVALS, {approval_id: deadline_ms})
            await pipe.execute()
        return Approval.from_hash(approval_id, await self._fields(approval_id))

    async def get(self, approval_id: str) -> Approval | None:
        if not approval_id.startswith("apr_") or len(approval_id) > 64:
            return None
        fields = await self._fields(approval_id)
        return Approval.from_hash(approval_id, fields) if fields else None

    async def _fields(self, approval_id: str) -> dict[bytes, bytes]:
        fields: dict[bytes, bytes] = await self.redis.hgetall(keys.approval(approval_id))  # type: ignore[misc]
        return fields

    async def decide(
        self, approval: Approval, decision: str, by: str, reply_to: str | None = None
    ) -> Decision:
        """`approved` (queues the event, its outcome posted to `reply_to`), `denied` or
        `expired`; only a pending request changes, and a click after the deadline expires it."""
        now = utcnow()
        now_ms = int(now.timestamp() * 1000)
        due = approval.event.not_before is not None and approval.event.not_before > now
        event = approval.event.model_copy(
            update={
                "received_at": now,
                "updated_at": now,
                "status": "scheduled" if due else "queued",
                "reply_to": reply_to or approval.event.reply_to,
                "cause": approval.event.cause.model_copy(
                    update={
                        "approved_by": by,
                        "reason": f"{approval.command} by {approval.requester}, approved by {by}",
                    }
                )
                if approval.event.cause
                else None,
            }
        )
        scripts = self.acceptor.scripts
        code, state = await scripts.decide(
            keys=[
                *scripts.accept_keys(keys.NO_IDEMPOTENCY, event.id, event.target),
                keys.approval(approval.id),
                keys.APPROVALS,
            ],
            args=[
                *self.acceptor.accept_args(event, None, "", now_ms),
                decision,
                by,
                str(now_ms),
                approval.id,
                str(self.keep_ms),
            ],
        )
        state = state.decode() if isinstance(state, bytes) else str(state)
        if code == 2:
            return Decision(state, decided_now=False)
        return Decision(state or "approved", decided_now=True)

    async def overdue(self) -> list[Approval]:
        """Pending requests past their deadline."""
        now_ms = int(time.time() * 1000)
        ids = [raw.decode() for raw in await self.redis.zrangebyscore(keys.APPROVALS, 0, now_ms)]
        found = [await self.get(approval_id) for approval_id in ids]
        for approval_id, approval in zip(ids, found, strict=True):
            if approval is None:  # its hash is gone: nothing left to decide
                await self.redis.zrem(keys.APPROVALS, approval_id)
        return [a for a in found if a is not None]
