"""The optional YAML configuration file: extra sources, target aliases and lifecycle rules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

from config.settings import SourceCredentials


class FileConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sources: dict[str, SourceCredentials] = Field(default_factory=dict)
    # alias name -> target object as in the event catalog, e.g.
    # {"provider": "qonversion", "experiment_id": "exp_8f3a"}; checked by the event contract.
    targets: dict[str, dict[str, Any]] = Field(default_factory=dict)
    rules: list[dict[str, Any]] = Field(default_factory=list)


def load_file_config(path: Path) -> FileConfig:
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(raw, dict):
        raise ValueError("the top level must be a mapping")
    return FileConfig.model_validate(raw)
