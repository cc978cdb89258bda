"""The optional YAML configuration file: extra sources, target aliases, lifecycle rules and
ChatOps permissions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

from expbridge.config.chatops import ChatOpsConfig
from expbridge.config.rules import Rule, unique_names
from expbridge.config.sources import SourceCredentials


class FileConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sources: dict[str, SourceCredentials] = Field(default_factory=dict)
    # alias name -> target object as in the event catalog, e.g.
    # {"provider": "qonversion", "experiment_id": "exp_8f3a"}; checked by the event contract.
    targets: dict[str, dict[str, Any]] = Field(default_factory=dict)
    rules: list[Rule] = Field(default_factory=list)
    chatops: ChatOpsConfig = Field(default_factory=ChatOpsConfig)

    @field_validator("rules")
    @classmethod
    def _unique_rule_names(cls, rules: list[Rule]) -> list[Rule]:
        return unique_names(rules)


def read_file_config(path: Path) -> dict[str, Any]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(raw, dict):
        raise ValueError("the top level must be a mapping")
    return raw


def load_file_config(path: Path) -> FileConfig:
    return FileConfig.model_validate(read_file_config(path))
