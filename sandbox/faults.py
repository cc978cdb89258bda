"""Fault rules: make chosen requests fail, hang or vanish, before the provider sees them."""

import random
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator


class FaultSpec(BaseModel):
    """The body of `POST /_sandbox/faults`."""

    model_config = ConfigDict(extra="forbid")

    method: str | None = None
    path_prefix: str = "/"
    count: int | None = Field(default=None, ge=1)
    probability: float = Field(default=1.0, ge=0.0, le=1.0)
    status: int | None = Field(default=None, ge=100, le=599)
    retry_after: str | None = None
    body: str | None = None
    content_type: str = "application/json"
    delay_s: float = Field(default=0.0, ge=0.0, le=120.0)
    drop: bool = False
    # After handling: the provider changes its state, then the answer is lost or replaced,
    # as when an upstream commits a change and the response never reaches the client.
    after_handling: bool = False

    @model_validator(mode="after")
    def _does_something(self) -> "FaultSpec":
        if self.status is None and not self.drop and self.delay_s == 0:
            raise ValueError("a fault needs at least one of status, drop or delay_s")
        if self.drop and self.status is not None:
            raise ValueError("drop and status exclude each other")
        return self


@dataclass
class FaultRule:
    id: int
    spec: FaultSpec
    remaining: int | None
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        if self.remaining == 0:
            return False
        if self.spec.method is not None and self.spec.method.upper() != method.upper():
            return False
        return path.startswith(self.spec.path_prefix)

    def describe(self) -> str:
        parts = []
        if self.spec.delay_s:
            parts.append(f"delay:{self.spec.delay_s:g}")
        if self.spec.drop:
            parts.append("drop")
        if self.spec.status is not None:
            parts.append(f"status:{self.spec.status}")
        label = "+".join(parts)
        return f"{label}(after)" if self.spec.after_handling else label

    def to_json(self) -> dict[str, Any]:
        spec = self.spec.model_dump()
        return {"id": self.id, **spec, "remaining": self.remaining, "hits": self.hits}


@dataclass
class FaultBook:
    seed: int
    rules: list[FaultRule] = field(default_factory=list)
    next_id: int = 1
    rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def add(self, spec: FaultSpec) -> FaultRule:
        rule = FaultRule(id=self.next_id, spec=spec, remaining=spec.count)
        self.next_id += 1
        self.rules.append(rule)
        return rule

    def pick(self, method: str, path: str) -> FaultRule | None:
        """The first matching rule that fires; a rule's count is spent only when it fires."""
        for rule in self.rules:
            if not rule.matches(method, path):
                continue
            if rule.spec.probability < 1.0 and self.rng.random() >= rule.spec.probability:
                continue
            if rule.remaining is not None:
                rule.remaining -= 1
            rule.hits += 1
            return rule
        return None

    def remove(self, rule_id: int) -> bool:
        kept = [r for r in self.rules if r.id != rule_id]
        removed = len(kept) != len(self.rules)
        self.rules = kept
        return removed

    def clear(self) -> None:
        self.rules.clear()
        self.rng = random.Random(self.seed)
