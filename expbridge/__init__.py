"""expbridge: an async event bridge for experiment (A/B test) lifecycles.

The one import namespace. Its subpackages are the repository's top-level folders
(`config/`, `events/`, `service/`, `workers/`, `sandbox/`, `cli/`), linked here so that
Python, the wheel, mypy and import-linter all see one package: see docs/architecture.md.
"""
