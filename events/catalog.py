"""The event catalog: each event type, the schema of its data per provider, and its meaning.

A provider missing from a type's `data_models` does not support that operation: the ingress
answers 422 and says which providers do.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal

from pydantic import ValidationError

from expbridge.events.convert import data as cv
from expbridge.events.event_data import EventData
from expbridge.events.qonversion import data as qv
from expbridge.events.rules import threshold as td

__all__ = ["CATALOG", "CatalogError", "EventData", "EventSpec", "parse_data", "spec_of"]


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


_SPECS = (
    _spec(
        "experiment.create",
        "create an experiment (data.experiment) or experience (data.experience)",
        qonversion=qv.QonversionExperimentCreateData,
        convert=cv.ConvertExperienceCreateData,
    ),
    _spec(
        "experiment.update",
        "change experiment fields (only those named in data.changes)",
        qonversion=qv.QonversionExperimentUpdateData,
        convert=cv.ConvertExperienceUpdateData,
    ),
    _spec(
        "experiment.start",
        "start the experiment",
        qonversion=qv.QonversionExperimentData,
        convert=cv.ConvertExperienceData,
    ),
    _spec(
        "experiment.pause",
        "pause the experiment",
        qonversion=qv.QonversionExperimentData,
        convert=cv.ConvertExperienceData,
    ),
    _spec(
        "experiment.stop",
        "finish the experiment",
        qonversion=qv.QonversionExperimentData,
        convert=cv.ConvertExperienceData,
    ),
    _spec("experiment.archive", "archive the experience", convert=cv.ConvertExperienceData),
    _spec(
        "experiment.delete",
        "delete the experiment",
        qonversion=qv.QonversionExperimentData,
        convert=cv.ConvertExperienceData,
    ),
    _spec(
        "variation.add",
        "add a variation (data.variation)",
        qonversion=qv.QonversionVariationAddData,
        convert=cv.ConvertVariationAddData,
    ),
    _spec(
        "variation.remove",
        "remove the variation data.variation_id",
        convert=cv.ConvertVariationRemoveData,
    ),
    _spec(
        "experiment.user.attach",
        "put data.user_id into group data.group_id",
        qonversion=qv.QonversionUserAttachData,
    ),
    _spec(
        "experiment.user.detach",
        "take data.user_id out of the experiment",
        qonversion=qv.QonversionUserDetachData,
    ),
    _spec("project.create", "create a project", convert=cv.ConvertProjectCreateData),
    _spec("project.update", "change project fields", convert=cv.ConvertProjectUpdateData),
    _spec("project.delete", "delete the project", convert=cv.ConvertProjectData),
    _spec("goal.create", "create a goal in the project", convert=cv.ConvertGoalCreateData),
    _spec("goal.update", "change goal fields", convert=cv.ConvertGoalUpdateData),
    _spec("goal.delete", "delete the goal", convert=cv.ConvertGoalData),
    _spec("hypothesis.create", "create a hypothesis", convert=cv.ConvertHypothesisCreateData),
    _spec("hypothesis.update", "change hypothesis fields", convert=cv.ConvertHypothesisUpdateData),
    _spec("hypothesis.status", "set the hypothesis status", convert=cv.ConvertHypothesisStatusData),
    _spec("hypothesis.delete", "delete the hypothesis", convert=cv.ConvertHypothesisData),
    _spec("audience.create", "create an audience", convert=cv.ConvertAudienceCreateData),
    _spec("audience.update", "change audience fields", convert=cv.ConvertAudienceUpdateData),
    _spec("audience.delete", "delete the audience", convert=cv.ConvertAudienceData),
    _spec(
        "report.fetch",
        "fetch results, stored normalised in the status record's result",
        qonversion=qv.QonversionExperimentData,
        convert=cv.ConvertReportData,
    ),
    _spec(
        "goal.threshold_reached",
        "a goal's metric reached a value: evaluates the event-triggered lifecycle rules (no "
        "upstream call); the status record's result says which rules fired, or why not",
        qonversion=td.QonversionThresholdData,
        convert=td.ConvertThresholdData,
    ),
)

CATALOG: Mapping[str, EventSpec] = MappingProxyType({spec.event_type: spec for spec in _SPECS})


class CatalogError(ValueError):
    """Data that does not fit the catalog. Each edge words it its own way (a 422, a config
    error naming the rule, an unplannable event); `problem` says which check failed."""

    def __init__(
        self,
        problem: Literal["unknown_type", "unsupported", "invalid"],
        event_type: str,
        provider: str = "",
        error: ValidationError | None = None,
    ) -> None:
        self.problem = problem
        self.event_type = event_type
        self.provider = provider
        self.error = error
        super().__init__(self.describe())

    @property
    def supported_by(self) -> list[str]:
        spec = CATALOG.get(self.event_type)
        return spec.providers if spec is not None else []

    def describe(self) -> str:
        if self.problem == "unknown_type":
            return f"unknown event type {self.event_type!r}"
        if self.problem == "unsupported":
            return (
                f"{self.event_type} is not supported by {self.provider or 'no provider'} "
                f"(supported by: {', '.join(self.supported_by) or 'no provider'})"
            )
        return f"data is invalid for {self.event_type}: {self.error}"


def spec_of(event_type: str) -> EventSpec:
    spec = CATALOG.get(event_type)
    if spec is None:
        raise CatalogError("unknown_type", event_type)
    return spec


def parse_data(event_type: str, data: Mapping[str, Any]) -> EventData:
    """The event's data as its catalog model, for the provider `data.target` names."""
    spec = spec_of(event_type)
    target = data.get("target")
    # (a parsed body's dict is checked first: an ABC's isinstance is dear on the accept path)
    is_mapping = type(target) is dict or isinstance(target, Mapping)
    provider = str(target.get("provider", "")) if is_mapping else ""  # type: ignore[union-attr]
    model = spec.data_models.get(provider)
    if model is None:
        raise CatalogError("unsupported", event_type, provider)
    try:
        # The validator itself: model_validate is a Python layer around it (the accept path).
        data_model: EventData = model.__pydantic_validator__.validate_python(data)
        return data_model
    except ValidationError as error:
        raise CatalogError("invalid", event_type, provider, error) from None
