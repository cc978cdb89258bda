"""A rule's conditions, the `when:` of a rule in the YAML file: guardrails (min_*), the
outcomes that make a schedule rule fire, and the settings of the bridge's own test and SRM
guard (workers/rules/sequential.py, srm.py; docs/rules.md)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# The conditions that make a schedule rule fire (the min_* ones are guardrails).
OUTCOMES = (
    "significant",
    "srm",
    "confidence_at_least",
    "chance_to_win_at_least",
    "max_visitors",
    "max_runtime_days",
)
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


Fraction = Annotated[float, Field(ge=0, le=1)]


class Conditions(BaseModel):
    """Guardrails (min_*) hold before anything fires; then a schedule rule fires when a
    variation is significant, on a sample ratio mismatch (`srm: true`), or when a limit
    (max_*) is reached.

    `significant` is the bridge's own always-valid test of each variation against the baseline
    (better, worse or either), at `alpha` (Bonferroni over the variations) with the mixing
    parameter `mixing_sd`. It, the old provider-number conditions and `srm` run after the SRM
    guard: visitors split unlike `planned_split` (else the provider's split, else equal shares)
    with a chi-square p under `srm_p_below` decide nothing but `srm`.
    min_visitors_per_variation guards significance and srm only: a limit fires without it."""

    model_config = ConfigDict(extra="forbid")

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
