"""The data of each event type on Qonversion v4 (besides the target)."""

from __future__ import annotations

from expbridge.events.event_data import EventData
from expbridge.events.qonversion.bodies import (
    ExperimentChanges,
    ExperimentCreate,
    GroupCreate,
    GroupId,
    UserId,
)
from expbridge.events.targets import QonversionExperimentTarget, QonversionNewExperimentTarget


class QonversionExperimentData(EventData):
    """Events on one experiment with nothing besides the target (start, pause, delete, ...)."""

    target: QonversionExperimentTarget


class QonversionExperimentCreateData(EventData):
    target: QonversionNewExperimentTarget
    experiment: ExperimentCreate

    @property
    def ordering_key(self) -> str:
        # The experiment has no id yet: its alias_id (unique, immutable) names its line.
        return f"qonversion:alias:{self.experiment.alias_id}"


class QonversionExperimentUpdateData(QonversionExperimentData):
    changes: ExperimentChanges


class QonversionVariationAddData(QonversionExperimentData):
    variation: GroupCreate


class QonversionUserAttachData(QonversionExperimentData):
    user_id: UserId
    group_id: GroupId


class QonversionUserDetachData(QonversionExperimentData):
    user_id: UserId
    # Not needed to detach; accepted so one payload fits attach and detach.
    group_id: GroupId | None = None
