"""The data of each event type on Convert (besides the target)."""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field, model_validator

from expbridge.events.convert.bodies import (
    ExperienceChanges,
    ExperienceCreate,
    ProjectChanges,
    ProjectCreate,
    VariationCreate,
)
from expbridge.events.convert.common import Status
from expbridge.events.convert.resource_bodies import (
    AudienceChanges,
    AudienceCreate,
    GoalChanges,
    GoalCreate,
    HypothesisChanges,
    HypothesisCreate,
)
from expbridge.events.event_data import EventData
from expbridge.events.targets import (
    ConvertAccountTarget,
    ConvertAudienceTarget,
    ConvertExperienceTarget,
    ConvertGoalTarget,
    ConvertHypothesisTarget,
    ConvertId,
    ConvertProjectTarget,
)

# Up to the last second of year 9999: any later "timestamp" is a mistake, not a date.
UnixSeconds = Annotated[int, Field(ge=0, le=253_402_300_799)]


class ConvertExperienceData(EventData):
    target: ConvertExperienceTarget


class ConvertExperienceCreateData(EventData):
    target: ConvertProjectTarget
    experience: ExperienceCreate


class ConvertExperienceUpdateData(ConvertExperienceData):
    changes: ExperienceChanges


class ConvertVariationAddData(ConvertExperienceData):
    variation: VariationCreate


class ConvertVariationRemoveData(ConvertExperienceData):
    model_config = ConfigDict(coerce_numbers_to_str=True)

    variation_id: ConvertId


class ConvertReportData(ConvertExperienceData):
    model_config = ConfigDict(coerce_numbers_to_str=True)

    goal_id: ConvertId | None = None
    start_timestamp: UnixSeconds | None = None
    end_timestamp: UnixSeconds | None = None

    @model_validator(mode="after")
    def _range(self) -> ConvertReportData:
        start, end = self.start_timestamp, self.end_timestamp
        if start is not None and end is not None and end < start:
            raise ValueError("end_timestamp is before start_timestamp")
        return self


class ConvertProjectCreateData(EventData):
    target: ConvertAccountTarget
    project: ProjectCreate


class ConvertProjectData(EventData):
    target: ConvertProjectTarget


class ConvertProjectUpdateData(ConvertProjectData):
    changes: ProjectChanges


class ConvertGoalCreateData(ConvertProjectData):
    goal: GoalCreate


class ConvertGoalData(EventData):
    target: ConvertGoalTarget


class ConvertGoalUpdateData(ConvertGoalData):
    changes: GoalChanges


class ConvertHypothesisCreateData(ConvertProjectData):
    hypothesis: HypothesisCreate


class ConvertHypothesisData(EventData):
    target: ConvertHypothesisTarget


class ConvertHypothesisUpdateData(ConvertHypothesisData):
    changes: HypothesisChanges


class ConvertHypothesisStatusData(ConvertHypothesisData):
    status: Status


class ConvertAudienceCreateData(ConvertProjectData):
    audience: AudienceCreate


class ConvertAudienceData(EventData):
    target: ConvertAudienceTarget


class ConvertAudienceUpdateData(ConvertAudienceData):
    changes: AudienceChanges
