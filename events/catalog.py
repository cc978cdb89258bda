"""The event catalog: each event type, the schema of its data per provider, and its meaning.

A provider missing from a type's `data_models` does not support that operation: the ingress
answers 422 and says which providers do.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from pydantic import BaseModel, ConfigDict

from events.qonversion_models import ExperimentChanges
from events.targets import QonversionTarget


class EventData(BaseModel):
    model_config = ConfigDict(extra="forbid")


class QonversionExperimentData(EventData):
    target: QonversionTarget


class QonversionExperimentUpdateData(QonversionExperimentData):
    changes: ExperimentChanges


@dataclass(frozen=True)
class EventSpec:
    event_type: str
    summary: str
    data_models: Mapping[str, type[EventData]]

    @property
    def providers(self) -> list[str]:
        return sorted(self.data_models)


def _spec(type_: str, summary: str, **models: type[EventData]) -> EventSpec:
    return EventSpec(type_, summary, MappingProxyType(models))


CATALOG: Mapping[str, EventSpec] = MappingProxyType(
    {
        spec.event_type: spec
        for spec in (
            _spec(
                "experiment.update",
                "change experiment fields (only those named in data.changes)",
                qonversion=QonversionExperimentUpdateData,
            ),
            _spec("experiment.start", "start the experiment", qonversion=QonversionExperimentData),
            _spec("experiment.pause", "pause the experiment", qonversion=QonversionExperimentData),
            _spec("experiment.stop", "finish the experiment", qonversion=QonversionExperimentData),
        )
    }
)
