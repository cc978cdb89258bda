"""What the lifecycle rules decided, kept in Redis for people (GET /v1/rules/evaluations): every
evaluation — fired, dry run, not met (with the reasons), already fired, error — newest first."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field
from redis.asyncio import Redis

from expbridge.events import keys
from expbridge.events.record import utcnow
from expbridge.events.rules.statistics import EvaluationStatistics

EvaluationOutcome = Literal["fired", "dry_run", "not_met", "already_fired", "error"]


class RuleEvaluation(BaseModel):
    at: datetime = Field(default_factory=utcnow)
    rule: str
    # The target's ordering key (qonversion:exp_1, convert:1001/2002).
    target: str
    # "schedule", or the id of the goal.threshold_reached event that triggered it.
    trigger: str
    outcome: EvaluationOutcome
    # The condition that fired or would fire: significant, srm, max_visitors, max_runtime,
    # min_runtime, or goal:<goal_id>:<metric> for an event rule. A not_met evaluation with
    # condition srm: a sample ratio mismatch, so no significance decision was taken.
    condition: str | None = None
    # The variation that made `significant` fire (its id).
    variation: str | None = None
    reasons: list[str] = Field(default_factory=list)
    # The action events queued (for already_fired: those the first firing queued).
    events: list[str] = Field(default_factory=list)
    dry_run: bool = False
    # The trace of the evaluation (its triggering event's, or the schedule tick's).
    trace_id: str | None = None
    # Rules that decide on the report's counts: per variation the effect, its always-valid
    # interval and p-value, and the SRM p-value (events/rules/statistics.py).
    statistics: EvaluationStatistics | None = None


class RuleLog:
    def __init__(self, redis: Redis, kept: int) -> None:
        self.redis = redis
        self.kept = kept

    async def add(self, evaluation: RuleEvaluation) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.lpush(keys.RULE_EVALUATIONS, evaluation.model_dump_json())
            pipe.ltrim(keys.RULE_EVALUATIONS, 0, self.kept - 1)
            await pipe.execute()

    async def recent(
        self,
        limit: int,
        rule: str | None = None,
        target: str | None = None,
        outcome: str | None = None,
    ) -> list[RuleEvaluation]:
        found = []
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.lrange(keys.RULE_EVALUATIONS, 0, self.kept - 1)
            (rows,) = await pipe.execute()
        for raw in rows:
            evaluation = RuleEvaluation.model_validate_json(raw)
            if rule not in (None, evaluation.rule) or target not in (None, evaluation.target):
                continue
            if outcome not in (None, evaluation.outcome):
                continue
            found.append(evaluation)
            if len(found) == limit:
                break
        return found
