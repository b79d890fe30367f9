"""One Settings object for the server: host, port and limits, from the environment.

Every field can be set with an environment variable prefixed ``BACKPROP_``, e.g.
``BACKPROP_PORT=9000``; command-line flags of ``backprop-playground`` override them.
"""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Server configuration with sane defaults: no external service is needed."""

    model_config = SettingsConfigDict(env_prefix="BACKPROP_")

    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "info"
