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

RULE_NAME = r"^[a-z0-9][a-z0-9._-]{0,63}$"
THRESHOLD_EVENT = "goal.threshold_reached"
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# The conditions that make a schedule rule fire (the min_* ones are guardrails).
OUTCOMES = (
    "significant", "srm", "confidence_at_least", "chance_to_win_at_least", "max_visitors",
    "max_runtime_days",
)  # fmt: skip
# The providers' fixed-horizon numbers: kept for old rule files, unsafe under repeated looks.
FIXED_HORIZON = ("confidence_at_least", "chance_to_win_at_least")
# Defaults of the bridge's own test (workers/rules/sequential.py, srm.py; README "Lifecycle
# rules"): alpha, the mixing distribution's sd relative to the conversion rate (chosen with
# bench/rules_simulation.py --tune), and the SRM threshold Statsig and GrowthBook use.
DEFAULT_ALPHA = 0.05
DEFAULT_MIXING_SD = 0.1
DEFAULT_SRM_P_BELOW = 0.001
SPLIT_TOLERANCE = 0.1  # percent: 3 x 33.33 is a 100 % split
# Which way a significant difference must go: a winner, a loser, or either.
Direction = Literal["better", "worse", "either"]


def parse_duration(value: Any) -> Any:
    """`90s`, `15m`, `1h`, `7d`, or a number of seconds."""
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match is None:
            raise ValueError("a duration is a number of seconds or like 90s, 15m, 1h, 7d")
        return float(match.group(1)) * _UNIT_S[match.group(2)]
    return value


Duration = Annotated[float, BeforeValidator(parse_duration)]
Fraction = Annotated[float, Field(ge=0, le=1)]


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
        filters = [n for n in ("goal_id", "metric", "value_at_least", "value_at_most")
                   if getattr(self, n) is not None]  # fmt: skip
        if self.schedule is not None and filters:
            raise ValueError(f"{filters[0]} only goes with event: {THRESHOLD_EVENT}")
        return self


class Conditions(_Strict):
    """Guardrails (min_*) hold before anything fires; then a schedule rule fires when a
    variation is significant, on a sample ratio mismatch (`srm: true`), or when a limit
    (max_*) is reached.

    `significant` is the bridge's own always-valid test of each variation against the baseline
    (better, worse or either), at `alpha` (Bonferroni over the variations) with the mixing
    parameter `mixing_sd`. It, the old provider-number conditions and `srm` run after the SRM
    guard: visitors split unlike `planned_split` (else the provider's split, else equal shares)
    with a chi-square p under `srm_p_below` decide nothing but `srm`.
    min_visitors_per_variation guards significance and srm only: a limit fires without it."""

    min_runtime_days: Annotated[float, Field(ge=0)] | None = None
    min_visitors_per_variation: Annotated[int, Field(ge=0)] | None = None
    significant: Direction | None = None
    alpha: float | None = None
    mixing_sd: float | None = None
    srm: bool = False
    srm_p_below: float | None = None
    planned_split: dict[str, float] | None = None
    # The provider's fixed-horizon numbers (unsafe when re-read on a schedule: README).
    confidence_at_least: Fraction | None = None
    chance_to_win_at_least: Fraction | None = None
    max_visitors: Annotated[int, Field(ge=1)] | None = None
    max_runtime_days: Annotated[float, Field(gt=0)] | None = None

    @field_validator("alpha")
    @classmethod
    def _alpha(cls, value: float | None) -> float | None:
        if value is not None and not 0 < value <= 0.5:
            raise ValueError(f"alpha is the false-stop rate, in (0, 0.5] (e.g. 0.05), not {value}")
        return value

    @field_validator("mixing_sd")
    @classmethod
    def _mixing_sd(cls, value: float | None) -> float | None:
        if value is not None and not value > 0:
            raise ValueError(
                f"the mixing parameter must be positive (e.g. 0.1: lifts near 10 %), not {value}"
            )
        return value

    @field_validator("srm_p_below")
    @classmethod
    def _srm_p_below(cls, value: float | None) -> float | None:
        if value is not None and not 0 < value < 1:
            raise ValueError(f"the SRM threshold is a p-value in (0, 1) (e.g. 0.001), not {value}")
        return value

    @field_validator("planned_split")
    @classmethod
    def _split(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        if value is None:
            return None
        if len(value) < 2 or any(share < 0 for share in value.values()):
            raise ValueError("the planned split gives two or more variations a percentage >= 0")
        total = sum(value.values())
        if abs(total - 100) > SPLIT_TOLERANCE:
            raise ValueError(f"the planned split's percentages add up to {total:g}, not 100")
        return value

    @model_validator(mode="after")
    def _settings_need_a_test(self) -> Conditions:
        for name in ("alpha", "mixing_sd"):
            if getattr(self, name) is not None and self.significant is None:
                raise ValueError(f"{name} goes with significant (better, worse or either)")
        return self

    @property
    def test_alpha(self) -> float:
        return DEFAULT_ALPHA if self.alpha is None else self.alpha

    @property
    def test_mixing_sd(self) -> float:
        return DEFAULT_MIXING_SD if self.mixing_sd is None else self.mixing_sd

    @property
    def test_srm_p_below(self) -> float:
        return DEFAULT_SRM_P_BELOW if self.srm_p_below is None else self.srm_p_below

    @property
    def outcomes(self) -> list[str]:
        return [name for name in OUTCOMES if getattr(self, name) not in (None, False)]

    @property
    def decides_on_counts(self) -> bool:
        """Significance or srm: what the SRM guard stands before."""
        return any(o in self.outcomes for o in ("significant", "srm", *FIXED_HORIZON))

    @property
    def fixed_horizon(self) -> list[str]:
        return [name for name in FIXED_HORIZON if getattr(self, name) is not None]

    @property
    def needs_report(self) -> bool:
        return self.min_visitors_per_variation is not None or bool(self.outcomes)

    @property
    def needs_experiment(self) -> bool:
        return self.min_runtime_days is not None or self.max_runtime_days is not None


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
