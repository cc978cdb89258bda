"""The base of every event's data: a target, narrowed per event type by the catalog models."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from expbridge.events.targets import AnyTarget


class EventData(BaseModel):
    model_config = ConfigDict(extra="forbid")

    target: AnyTarget

    @property
    def ordering_key(self) -> str:
        """Events with one key take effect upstream in the order they were accepted."""
        return self.target.ordering_key
