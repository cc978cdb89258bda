"""goal.threshold_reached: a fact for the lifecycle rules, not an upstream operation.

A producer (an analytics job, a monitoring system) says that a goal's metric crossed a value on
one experiment; the worker evaluates the event-triggered rules against it and queues their
actions. The event's status record says which rules fired, or why not.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, Field

from expbridge.events.event_data import EventData
from expbridge.events.targets import ConvertExperienceTarget, QonversionExperimentTarget

Name = Annotated[str, Field(min_length=1, max_length=128)]
Number = Annotated[float, Field(allow_inf_nan=False)]


class ThresholdReachedData(EventData):
    goal_id: Name
    metric: Name
    value: Number
    # What the producer compared against, and which way: context for people and logs.
    threshold: Number | None = None
    direction: Literal["above", "below"] | None = None
    variation_id: Name | None = None
    observed_at: AwareDatetime | None = None


class QonversionThresholdData(ThresholdReachedData):
    target: QonversionExperimentTarget


class ConvertThresholdData(ThresholdReachedData):
    target: ConvertExperienceTarget
