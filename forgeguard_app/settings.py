"""The app's configuration, read from the environment and `.env` and validated at start."""

from __future__ import annotations

import os
import pathlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlparse

from dotenv import dotenv_values

DEFAULT_INTAKE_MODEL = "claude-sonnet-4-6"
DEFAULT_BUILDER_MODEL = "claude-sonnet-4-6"
DEFAULT_PLANNER_MODEL = "claude-opus-4-6"
LOG_LEVELS = ("debug", "info", "warning", "error")


class SettingsError(Exception):
    """One or more variables are wrong; each line names one variable."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Settings:
    """Everything the processes read from their environment."""

    app_id: str | None = None
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    """The app's OAuth client secret (`GITHUB_CLIENT_SECRET`), for signing in to the status site."""
    private_key: str | None = field(default=None, repr=False)
    webhook_secret: str | None = field(default=None, repr=False)
    api_url: str = "https://api.github.com"
    github_url: str = "https://github.com"
    database_url: str | None = field(default=None, repr=False)
    data_dir: pathlib.Path = pathlib.Path(".forgeguard")
    host: str = "127.0.0.1"
    port: int = 3000
    log_level: str = "info"
    log_format: str = "text"
    anthropic_api_key: str | None = field(default=None, repr=False)
    anthropic_base_url: str | None = None
    intake_model: str = DEFAULT_INTAKE_MODEL
    builder_model: str = DEFAULT_BUILDER_MODEL
    planner_model: str = DEFAULT_PLANNER_MODEL
    public_url: str = "http://127.0.0.1:3000"
    retention_days: int = 30
    """Deliveries, jobs and audits older than this are pruned (FORGEGUARD_RETENTION_DAYS)."""
    app_slug: str = "forgeguard"
    """The app's slug on GitHub, for `@<slug>` commands (`/setup` writes it to `.env`)."""
    env_file: pathlib.Path | None = None
    """The `.env` that was read (the setup flow writes credentials there)."""

    @property
    def jwt_issuer(self) -> str | None:
        """GitHub accepts the client id (recommended) or the app id as the JWT issuer."""
        return self.client_id or self.app_id

    @property
    def missing_credentials(self) -> list[str]:
        """Names of the GitHub credentials that are not configured."""
        missing = []
        if not self.jwt_issuer:
            missing.append("GITHUB_APP_ID")
        if not self.private_key:
            missing.append("GITHUB_PRIVATE_KEY")
        if not self.webhook_secret:
            missing.append("GITHUB_WEBHOOK_SECRET")
        return missing

    @property
    def setup_mode(self) -> bool:
        """Without GitHub credentials only /setup and /health work."""
        return bool(self.missing_credentials)

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, env_file: str | os.PathLike[str] = ".env"
    ) -> Settings:
        """Read `.env` then the environment (which wins); raise SettingsError listing every mistake."""
        path = pathlib.Path(env_file)
        values: dict[str, str] = {}
        if path.is_file():
            # No ${VAR} expansion: a secret may contain "$" and a value must read back as written.
            values.update({k: v for k, v in dotenv_values(path, interpolate=False).items() if v is not None})
        values.update(os.environ if environ is None else environ)
        return cls.from_mapping(values, env_file=path)

    @classmethod
    def from_mapping(cls, env: Mapping[str, str], env_file: pathlib.Path | None = None) -> Settings:
        problems: list[str] = []

        def get(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        def url(name: str, default: str) -> str:
            value = get(name) or default
            parsed = urlparse(value)
            if parsed.scheme not in ("http", "https") or not parsed.netloc:
                problems.append(f"{name} must be an http(s) URL, got {value!r}")
                return default
            return value.rstrip("/")

        private_key = get("GITHUB_PRIVATE_KEY")
        key_path = get("GITHUB_PRIVATE_KEY_PATH")
        if private_key:
            private_key = private_key.replace("\\n", "\n")
        elif key_path:
            try:
                private_key = pathlib.Path(key_path).read_text()
            except OSError as exc:
                problems.append(f"GITHUB_PRIVATE_KEY_PATH cannot be read: {exc.strerror} ({key_path})")
        if private_key:
            problem = _check_private_key(private_key)
            if problem:
                name = "GITHUB_PRIVATE_KEY" if get("GITHUB_PRIVATE_KEY") else "GITHUB_PRIVATE_KEY_PATH"
                problems.append(f"{name} {problem}")
                private_key = None

        app_id = get("GITHUB_APP_ID")
        if app_id and not app_id.isdigit():
            problems.append(f"GITHUB_APP_ID must be a number, got {app_id!r}")

        port = 3000
        raw_port = get("PORT")
        if raw_port:
            if raw_port.isdigit() and 0 < int(raw_port) < 65536:
                port = int(raw_port)
            else:
                problems.append(f"PORT must be a number from 1 to 65535, got {raw_port!r}")

        log_level = (get("LOG_LEVEL") or "info").lower()
        if log_level not in LOG_LEVELS:
            problems.append(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, got {log_level!r}")
            log_level = "info"
        log_format = (get("LOG_FORMAT") or "text").lower()
        if log_format not in ("text", "json"):
            problems.append(f"LOG_FORMAT must be text or json, got {log_format!r}")
            log_format = "text"

        database_url = get("DATABASE_URL")
        if database_url and urlparse(database_url).scheme not in ("postgres", "postgresql"):
            problems.append("DATABASE_URL must be a postgresql:// URL")

        retention_days = 30
        raw_retention = get("FORGEGUARD_RETENTION_DAYS")
        if raw_retention:
            if raw_retention.isdigit() and 0 < int(raw_retention) <= 36500:
                retention_days = int(raw_retention)
            else:
                problems.append(
                    f"FORGEGUARD_RETENTION_DAYS must be a number of days from 1, got {raw_retention!r}"
                )

        host = get("HOST") or "127.0.0.1"
        settings = cls(
            app_id=app_id,
            client_id=get("GITHUB_CLIENT_ID"),
            client_secret=get("GITHUB_CLIENT_SECRET"),
            private_key=private_key,
            webhook_secret=get("GITHUB_WEBHOOK_SECRET"),
            api_url=url("GITHUB_API_URL", "https://api.github.com"),
            github_url=url("GITHUB_URL", "https://github.com"),
            database_url=database_url,
            data_dir=pathlib.Path(get("FORGEGUARD_DATA_DIR") or ".forgeguard"),
            host=host,
            port=port,
            log_level=log_level,
            log_format=log_format,
            anthropic_api_key=get("ANTHROPIC_API_KEY"),
            anthropic_base_url=url("ANTHROPIC_BASE_URL", "https://api.anthropic.com")
            if get("ANTHROPIC_BASE_URL")
            else None,
            intake_model=get("FORGEGUARD_INTAKE_MODEL") or DEFAULT_INTAKE_MODEL,
            builder_model=get("FORGEGUARD_BUILDER_MODEL") or DEFAULT_BUILDER_MODEL,
            planner_model=get("FORGEGUARD_PLANNER_MODEL") or DEFAULT_PLANNER_MODEL,
            public_url=url("FORGEGUARD_PUBLIC_URL", f"http://{host}:{port}"),
            retention_days=retention_days,
            app_slug=(get("GITHUB_APP_SLUG") or "forgeguard").lower(),
            env_file=env_file,
        )
        if problems:
            raise SettingsError(problems)
        return settings


def _check_private_key(pem: str) -> str | None:
    """None when `pem` is a usable RSA private key, else what is wrong with it."""
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        key = load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError):
        return "is not a PEM private key"
    if not isinstance(key, RSAPrivateKey):
        return "must be an RSA key (GitHub signs app JWTs with RS256)"
    return None
