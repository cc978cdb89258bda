"""What an event acts on, and its ordering key (events with one key take effect in order)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

ID_PATTERN = r"^[a-zA-Z0-9._-]+$"
QonversionExperimentId = Annotated[str, Field(min_length=1, max_length=256, pattern=ID_PATTERN)]
ConvertId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[0-9A-Za-z_-]+$")]


class QonversionTarget(BaseModel):
    model_config = ConfigDict(extra="forbid")

    provider: Literal["qonversion"]
    experiment_id: QonversionExperimentId

    @property
    def ordering_key(self) -> str:
        return f"qonversion:{self.experiment_id}"


class AliasTarget(BaseModel):
    model_config = ConfigDict(extra="forbid")

    alias: Annotated[str, Field(min_length=1, max_length=128)]


Target = Annotated[QonversionTarget, Field(discriminator="provider")]
