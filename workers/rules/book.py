"""The lifecycle rules as a worker runs them: targets resolved, actions checked against the event
catalog and the allowed hosts — at start-up, with one-line errors naming the rule and field."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import structlog

from expbridge.config.file import FileConfig
from expbridge.config.loading import ConfigError, rule_label
from expbridge.config.rules import THRESHOLD_EVENT, Action, Rule, fixed_horizon_warnings
from expbridge.config.settings import Settings
from expbridge.events.catalog import CATALOG, CatalogError, EventData, parse_data
from expbridge.events.target_refs import TARGET_ADAPTER, config_aliases, resolve_ref
from expbridge.events.targets import AnyTarget

EXPERIMENT_RESOURCES = ("experiment_id", "experience_id")
log = structlog.get_logger("expbridge.rules")


@dataclass(frozen=True)
class BookRule:
    rule: Rule
    targets: tuple[AnyTarget, ...]
    dry_run: bool

    @property
    def name(self) -> str:
        return self.rule.name

    @property
    def cooldown_ms(self) -> int | None:
        return int(self.rule.cooldown * 1000) if self.rule.cooldown is not None else None

    def applies_to(self, target: AnyTarget) -> bool:
        """An event rule without targets applies to every experiment."""
        if not self.targets:
            return True
        return target.ordering_key in {t.ordering_key for t in self.targets}


@dataclass(frozen=True)
class RuleBook:
    rules: tuple[BookRule, ...] = ()

    @property
    def scheduled(self) -> list[BookRule]:
        return [r for r in self.rules if r.rule.trigger.schedule is not None]

    @property
    def on_threshold(self) -> list[BookRule]:
        return [r for r in self.rules if r.rule.trigger.event == THRESHOLD_EVENT]


def action_data(action: Action, target: AnyTarget) -> EventData:
    """The action's event data on `target`, validated by the catalog (ValueError if it does not
    fit: unknown type, a provider that does not support it, or invalid data)."""
    assert action.event is not None
    try:
        return parse_data(
            action.event, {**action.data, "target": target.model_dump(exclude_none=True)}
        )
    except CatalogError as error:
        if error.error is None:
            raise ValueError(f"event: {error.describe()}") from None
        first = error.error.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ValueError(f"data.{where}: {first['msg']}") from None


def _check_action(
    action: Action, index: int, targets: tuple[AnyTarget, ...], settings: Settings
) -> None:
    where = f"actions[{index}]"
    if action.notify is not None:
        url = action.notify.webhook_url or settings.slack.notify_webhook_url
        if url is None:
            raise ValueError(
                f"{where}.notify: no webhook_url, and EXPBRIDGE_SLACK__NOTIFY_WEBHOOK_URL is unset"
            )
        refusal = settings.slack.refusal_for(url)
        if refusal is not None:
            raise ValueError(f"{where}.notify.webhook_url: {refusal}")
        return
    if action.event == THRESHOLD_EVENT:
        raise ValueError(f"{where}.event: a rule cannot emit {THRESHOLD_EVENT} (it would loop)")
    spec = CATALOG.get(action.event or "")
    if spec is None:
        raise ValueError(
            f"{where}.event: unknown event type {action.event!r}; "
            f"known: {', '.join(sorted(CATALOG))}"
        )
    # With targets: the data must fit each. Without: some provider must take it.
    candidates = targets or tuple(_any_target(provider) for provider in spec.providers)
    errors = []
    for target in candidates:
        try:
            action_data(action, target)
        except ValueError as error:
            errors.append(error)
    if errors and (targets or len(errors) == len(candidates)):
        raise ValueError(f"{where}.{errors[0]}")


def _any_target(provider: str) -> AnyTarget:
    """A stand-in experiment for checking an action's data when the rule names no targets."""
    fields: dict[str, Any] = (
        {"provider": "qonversion", "experiment_id": "any"}
        if provider == "qonversion"
        else {"provider": "convert", "project_id": "0", "experience_id": "0"}
    )
    return TARGET_ADAPTER.validate_python(fields)


def _resolve_targets(rule: Rule, aliases: Mapping[str, AnyTarget]) -> tuple[AnyTarget, ...]:
    resolved = []
    for index, text in enumerate(rule.targets):
        try:
            target = resolve_ref(text, aliases)
        except ValueError as error:
            raise ValueError(f"targets[{index}]: {error}") from None
        if target.resource not in EXPERIMENT_RESOURCES:
            raise ValueError(f"targets[{index}]: {text!r} is not an experiment or experience")
        resolved.append(target)
    return tuple(resolved)


def compile_rules(file_config: FileConfig, settings: Settings) -> RuleBook:
    aliases = config_aliases(file_config)
    compiled = []
    for index, rule in enumerate(file_config.rules):
        try:
            targets = _resolve_targets(rule, aliases)
            for number, action in enumerate(rule.actions):
                _check_action(action, number, targets, settings)
        except ValueError as error:
            raise ConfigError(
                f"invalid EXPBRIDGE_CONFIG file {settings.config}: "
                f"{rule_label(index, rule.name)}: {error}"
            ) from None
        dry_run = rule.dry_run or settings.rules.dry_run
        compiled.append(BookRule(rule, targets, dry_run))
    for warning in fixed_horizon_warnings(file_config.rules):
        log.warning("rule decides on fixed-horizon numbers", detail=warning)
    return RuleBook(tuple(compiled))
