"""Simulated Qonversion v4 and Convert v1/v2 APIs with in-memory state, for local runs,
demos and tests. Written from providers.md and the seeds only, independently of the
clients, so a client mistake is not cancelled by the same mistake here.

Entry points: `sandbox.app.create_sandbox_app`, `sandbox.runner.start_sandbox`.
"""
