"""Turn the environment (and the optional YAML file) into Settings, or one clear error line."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from pydantic_settings import SettingsError

from expbridge.config.file import FileConfig, read_file_config
from expbridge.config.settings import Settings


class ConfigError(Exception):
    """Start-up stops with this message: one line that names the variable and the problem."""


def env_name(loc: tuple[int | str, ...]) -> str:
    parts = [str(p) for p in loc if not isinstance(p, int)]
    if not parts:
        return "EXPBRIDGE settings"
    return "EXPBRIDGE_" + "__".join(p.upper() for p in parts)


def _describe(error: ValidationError) -> str:
    first = error.errors(include_url=False, include_input=False)[0]
    message = first["msg"].removeprefix("Value error, ")
    return f"{env_name(first['loc'])}: {message}"


def load_settings(**overrides: object) -> Settings:
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        raise ConfigError(f"invalid setting {_describe(error)}") from None
    except SettingsError as error:
        # pydantic-settings names the field in its message ("... for field "sources" ...").
        raise ConfigError(f"invalid setting: {error}") from None
    if settings.config is not None:
        file_config = load_config(settings)
        merged = {**file_config.sources, **settings.sources}
        settings = settings.model_copy(update={"sources": merged})
    return settings


def rule_label(index: int, name: object) -> str:
    """How errors name a rule: `rule 'stop-winner' (rules[0])`."""
    return f"rule {name!r} (rules[{index}])" if isinstance(name, str) else f"rules[{index}]"


def file_location(loc: tuple[int | str, ...], raw: dict[str, Any]) -> str:
    """A field of the YAML file as people read it; a rule by its name."""
    if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int):
        rules = raw.get("rules")
        rule = rules[loc[1]] if isinstance(rules, list) and loc[1] < len(rules) else None
        name = rule.get("name") if isinstance(rule, dict) else None
        rest = ".".join(str(p) for p in loc[2:])
        return rule_label(loc[1], name) + (f": {rest}" if rest else "")
    return ".".join(str(p) for p in loc) or "the file"


def load_config(settings: Settings) -> FileConfig:
    if settings.config is None:
        return FileConfig()
    try:
        raw = read_file_config(settings.config)
        return FileConfig.model_validate(raw)
    except ValidationError as error:
        first = error.errors(include_url=False, include_input=False)[0]
        where = file_location(first["loc"], raw)
        message = first["msg"].removeprefix("Value error, ")
        raise ConfigError(
            f"invalid EXPBRIDGE_CONFIG file {settings.config}: {where}: {message}"
        ) from None
    except (OSError, ValueError) as error:
        raise ConfigError(f"invalid EXPBRIDGE_CONFIG file {settings.config}: {error}") from None
