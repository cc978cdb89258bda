"""Settings of the simulated upstream APIs."""

from pydantic import BaseModel, ConfigDict, Field, field_validator

QONVERSION_KEY_PREFIXES = ("sk_", "test_sk_")


class SandboxConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    qonversion_keys: set[str] = Field(default_factory=lambda: {"test_sk_sandbox"})
    convert_app_id: str = "sandbox-app"
    convert_app_secret: str = "sandbox-secret"
    convert_account_id: str = "1000"
    convert_max_expires_ahead_s: int = Field(default=3600, ge=1)
    seed: int = 0

    @field_validator("qonversion_keys")
    @classmethod
    def _keys_have_prefix(cls, keys: set[str]) -> set[str]:
        bad = sorted(k for k in keys if not k.startswith(QONVERSION_KEY_PREFIXES))
        if bad:
            raise ValueError(f"Qonversion secret keys must start with sk_ or test_sk_: {bad}")
        return keys
