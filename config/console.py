"""The operator console's sign-in limits (EXPBRIDGE_CONSOLE_SIGNIN__*)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class SigninLimits(BaseModel):
    """Sign-ins taken per window (from its first sign-in) before the rest are refused (429)."""

    per_client: int = Field(10, ge=1, le=10_000)
    overall: int = Field(100, ge=1, le=1_000_000)
    window_s: int = Field(600, ge=1, le=24 * 3600)
