"""Lifecycle rules, the `rules:` section of the YAML file: a trigger (an incoming
goal.threshold_reached event, or a schedule that reads reports), conditions, and actions.

The structure is checked here; the actions' event types and data are checked against the event
catalog when a worker starts (workers/rules_book.py), with the same one-line errors.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from expbridge.config.conditions import Conditions

RULE_NAME = r"^[a-z0-9][a-z0-9._-]{0,63}$"
THRESHOLD_EVENT = "goal.threshold_reached"
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(value: Any) -> Any:
    """`90s`, `15m`, `1h`, `7d`, or a number of seconds."""
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match is None:
            raise ValueError("a duration is a number of seconds or like 90s, 15m, 1h, 7d")
        return float(match.group(1)) * _UNIT_S[match.group(2)]
    return value


Duration = Annotated[float, BeforeValidator(parse_duration)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Trigger(_Strict):
    """Exactly one of `schedule` (evaluate every so often) or `event` (on each such event)."""

    schedule: Annotated[Duration, Field(ge=60, le=7 * 86400)] | None = None
    event: Literal["goal.threshold_reached"] | None = None
    # Only with `event`: what the incoming event must say for the rule to apply.
    goal_id: str | None = None
    metric: str | None = None
    value_at_least: float | None = None
    value_at_most: float | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Trigger:
        if (self.schedule is None) == (self.event is None):
            raise ValueError("a trigger has either schedule (e.g. 1h) or event, not both")
        filters = [
            n
            for n in ("goal_id", "metric", "value_at_least", "value_at_most")
            if getattr(self, n) is not None
        ]
        if self.schedule is not None and filters:
            raise ValueError(f"{filters[0]} only goes with event: {THRESHOLD_EVENT}")
        return self


class Notify(_Strict):
    """A Slack incoming-webhook message. `text` may use {rule}, {target}, {reason}, {events}."""

    text: Annotated[str, Field(min_length=1, max_length=3000)]
    webhook_url: str | None = None  # default: EXPBRIDGE_SLACK__NOTIFY_WEBHOOK_URL


class Action(_Strict):
    """A catalog event on the rule's target (`event` + optional `data` besides the target), or
    a Slack message (`notify`: text, or {text, webhook_url})."""

    event: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)
    notify: Notify | None = None

    @field_validator("notify", mode="before")
    @classmethod
    def _text_only(cls, value: Any) -> Any:
        return {"text": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _one_kind(self) -> Action:
        if (self.event is None) == (self.notify is None):
            raise ValueError("an action has either event (a catalog type) or notify")
        if "target" in self.data:
            raise ValueError("data.target is not allowed: actions act on the rule's target")
        if self.notify is not None and self.data:
            raise ValueError("data only goes with event")
        return self


class Rule(_Strict):
    name: Annotated[str, Field(pattern=RULE_NAME)]
    description: str = ""
    trigger: Trigger
    # Aliases from `targets:` or provider:id (qonversion:exp_1, convert:1001/2002). A schedule
    # rule reads these experiments' reports; an event rule without targets applies to any.
    targets: list[str] = Field(default_factory=list)
    # Convert: the goal whose report a schedule rule reads (default: the primary goal).
    goal_id: str | None = None
    when: Conditions = Field(default_factory=Conditions)
    actions: list[Action] = Field(min_length=1)
    # After firing, the same rule may fire again for the same target and condition only after
    # this long; unset: never again.
    cooldown: Annotated[Duration, Field(gt=0)] | None = None
    dry_run: bool = False

    @model_validator(mode="after")
    def _fits_trigger(self) -> Rule:
        if self.trigger.schedule is not None:
            if not self.targets:
                raise ValueError("a schedule rule needs targets (whose reports it reads)")
            if self.when.min_runtime_days is None and not self.when.outcomes:
                raise ValueError(
                    "a schedule rule needs a condition in when (e.g. min_runtime_days, "
                    "significant, srm, max_visitors, max_runtime_days)"
                )
        elif self.when.srm_p_below is not None or self.when.planned_split is not None:
            raise ValueError(
                "when.srm_p_below and when.planned_split are for schedule rules (an event rule "
                "reads no split)"
            )
        elif self.when.outcomes:
            raise ValueError(
                f"when.{self.when.outcomes[0]}: an event rule takes only the guardrails "
                "min_runtime_days and min_visitors_per_variation (its event is the condition)"
            )
        if self.goal_id is not None and self.trigger.schedule is None:
            raise ValueError("goal_id is for schedule rules; event rules use trigger.goal_id")
        return self


def fixed_horizon_warnings(rules: list[Rule]) -> list[str]:
    """Start-up warnings: schedule rules that re-read the provider's fixed-horizon numbers."""
    return [
        f"rule {rule.name!r}: when.{', when.'.join(rule.when.fixed_horizon)} is the provider's "
        "fixed-horizon number, re-read every interval: it stops far more tests by chance than "
        "it claims (see README, Lifecycle rules); use significant: better|worse|either"
        for rule in rules
        if rule.trigger.schedule is not None and rule.when.fixed_horizon
    ]


def unique_names(rules: list[Rule]) -> list[Rule]:
    seen: set[str] = set()
    for index, rule in enumerate(rules):
        if rule.name in seen:
            raise ValueError(f"rules[{index}]: the name {rule.name!r} is used twice")
        seen.add(rule.name)
    return rules
