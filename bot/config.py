"""Settings, read from the environment and `.env` (only `bot/__main__.py` instantiates them)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every operator-facing knob. Names are a contract: keep them exactly."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", env_prefix="", populate_by_name=True)

    # Vocu
    vocu_api_key: SecretStr | None = Field(default=None, alias="VOCU_API_KEY")
    vocu_base_url: str = Field(default="https://v1.vocu.ai", alias="VOCU_BASE_URL")

    # Bot
    vocubot_data_dir: Path = Field(default=Path("./data"), alias="VOCUBOT_DATA_DIR")
    vocubot_database_url: str | None = Field(default=None, alias="VOCUBOT_DATABASE_URL")
    vocubot_secret_key: SecretStr | None = Field(default=None, alias="VOCUBOT_SECRET_KEY")
    vocubot_log_level: str = Field(default="INFO", alias="VOCUBOT_LOG_LEVEL")

    @property
    def database_url(self) -> str:
        """The SQLAlchemy URL: VOCUBOT_DATABASE_URL, else SQLite in the data dir."""
        if self.vocubot_database_url:
            return self.vocubot_database_url
        return f"sqlite+aiosqlite:///{self.vocubot_data_dir / 'vocu-bot.sqlite3'}"
