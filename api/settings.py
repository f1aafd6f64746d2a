"""Typed settings, read from the environment once and validated at start."""

import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from limits import parse
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

PROJECT_HOME = Path(__file__).resolve().parents[1]
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
ENVIRONMENTS = ("development", "production")
# How long each per-process cache keeps an entry (townhall.cache.TimedCache), in seconds.
CACHE_SECONDS = ("tenant_cache_seconds", "revocation_cache_seconds", "verified_token_cache_seconds",
                 "signing_key_cache_seconds")
# The whole-number settings and the ranges they must be in.
RANGES = {
    "max_body_bytes": (1024, 1_073_741_824),
    "worker_threads": (1, 256),
    "audit_seal_seconds": (10, 86_400),
    "audit_reads_seconds": (0, 60),
    "appointments_per_citizen": (1, 100),
    "max_document_bytes": (1024, 1_073_741_824),
    "public_cache_seconds": (0, 86_400),
    "access_token_seconds": (60, 3600),
    **dict.fromkeys(CACHE_SECONDS, (0, 3600)),
}
# Settings whose meaning changed: named at start rather than silently ignored.
REPLACED = {
    "TOWNHALL_TOKEN_RATE_LIMIT_PER_CLIENT": "TOWNHALL_TOKEN_FAILURE_LIMIT (failed requests per client and address)",
    "TOWNHALL_LOGIN_RATE_LIMIT_PER_CLIENT": "TOWNHALL_LOGIN_FAILURE_LIMIT (failed sign-ins per account and address)",
}


def valid_limit(value: str) -> bool:
    try:
        parse(value)
    except ValueError:
        return False
    return True


class SettingsError(Exception):
    """One or more settings are invalid; the message lists every problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("Invalid Townhall settings:\n" + "\n".join(f"  - {p}" for p in problems))


@dataclass(frozen=True)
class Settings:
    instance_path: Path = field(default_factory=lambda: PROJECT_HOME / "instance")
    database_url: str = ""
    migration_database_url: str = ""
    listen_database_url: str = ""  # where each process LISTENs for change notices (ADR 0010)
    database_prepared_statements: bool = True
    redis_url: str | None = None
    base_url: str = "http://127.0.0.1:8000"
    home: Path = PROJECT_HOME
    max_body_bytes: int = 1_048_576
    max_document_bytes: int = 5_242_880
    appointments_per_citizen: int = 3
    public_cache_seconds: int = 300
    tenant_cache_seconds: int = 5  # tenant facts and branding (ADR 0010: changes are announced)
    revocation_cache_seconds: int = 5  # each tenant's revocation list (changes are announced)
    verified_token_cache_seconds: int = 5  # tokens whose signature was checked
    signing_key_cache_seconds: int = 60  # the token signing key set (rotations are announced)
    access_token_seconds: int = 600
    environment: str = "development"  # TOWNHALL_ENV; "production" requires Redis
    token_failure_limit: str = "10 per minute"  # noqa: S105  (failed token requests per client and address)
    token_rate_limit_per_address: str = "120 per minute"  # noqa: S105  (a rate, not a secret)
    login_rate_limit: str = "10 per minute"
    login_failure_limit: str = "5 per minute"  # failed sign-ins per account and address
    log_level: str = "INFO"
    # Reverse proxies in front of the app whose X-Forwarded-For/-Proto/-Host are believed (0: none).
    trusted_proxy_hops: int = 0
    secret_key: str = field(default="", repr=False)
    webhooks_allow_private: bool = False
    rate_limits: bool = True  # the APIs' quotas per plan (api.rate_limits); off only to measure without them
    webhooks_allowed_ports: tuple[int, ...] = ()  # besides 443, which is always allowed
    worker_threads: int = 16
    audit_seal_seconds: int = 3600  # how often the worker signs each audit chain's head
    # How long a read's audit entry may wait in the process before it is appended (PostgreSQL;
    # townhall.audit.read_log). 0: in the read's own transaction, as always on SQLite.
    audit_reads_seconds: int = 2
    smtp_host: str | None = None  # None: no e-mail
    smtp_port: int = 587
    smtp_security: str = "starttls"  # starttls, tls or none
    smtp_username: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    mail_from: str = "noreply@townhall.local"
    mollie_api_key: str | None = field(default=None, repr=False)  # None: online payment off, counter only
    mollie_api_url: str = "https://api.mollie.com"  # another address: a stand-in of Mollie's API (tests, demo)
    # The portal's map of reports in public space: a tile URL template ({z}/{x}/{y}); unset, no map
    # (latitude, longitude and address fields only, as without JavaScript).
    map_tiles_url: str | None = None
    map_attribution: str = "© OpenStreetMap contributors"

    def __post_init__(self) -> None:
        if not self.database_url:
            object.__setattr__(self, "database_url", f"sqlite:///{self.instance_path / 'townhall.db'}")
        if not self.migration_database_url:
            object.__setattr__(self, "migration_database_url", self.database_url)
        if not self.listen_database_url:
            object.__setattr__(self, "listen_database_url", self.database_url)
        object.__setattr__(self, "base_url", self.base_url.rstrip("/"))
        problems = self.problems()
        if problems:
            raise SettingsError(problems)

    def problems(self) -> list[str]:
        return self._connection_problems() + self._limit_problems() + self._mail_problems() + self._payment_problems()

    def _payment_problems(self) -> list[str]:
        found = []
        if self.mollie_api_key is not None and not re.fullmatch(r"(test|live)_\w{30,}", self.mollie_api_key):
            found.append("TOWNHALL_MOLLIE_API_KEY: a Mollie API key (test_… or live_…)")
        parts = urlsplit(self.mollie_api_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            found.append("TOWNHALL_MOLLIE_API_URL: an absolute http(s) URL")
        if self.map_tiles_url is not None:
            tiles = urlsplit(self.map_tiles_url)
            if tiles.scheme not in ("http", "https") or not tiles.netloc or not all(
                    part in self.map_tiles_url for part in ("{z}", "{x}", "{y}")):
                found.append("TOWNHALL_MAP_TILES_URL: an http(s) tile URL template with {z}, {x} and {y}")
        return found

    def _connection_problems(self) -> list[str]:
        found = []
        for name in ("database_url", "migration_database_url", "listen_database_url"):
            try:
                backend = make_url(getattr(self, name)).get_backend_name()
            except ArgumentError:
                found.append(f"TOWNHALL_{name.upper()}: not a database URL")
                continue
            if backend not in ("sqlite", "postgresql"):
                found.append(f"TOWNHALL_{name.upper()}: use sqlite:/// or postgresql+psycopg://")
        parts = urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
            found.append("TOWNHALL_BASE_URL: an absolute http(s) URL such as https://townhall.example.org")
        if self.redis_url is not None and urlsplit(self.redis_url).scheme not in ("redis", "rediss"):
            found.append("TOWNHALL_REDIS_URL: a redis:// or rediss:// URL")
        if self.environment not in ENVIRONMENTS:
            found.append(f"TOWNHALL_ENV: one of {', '.join(ENVIRONMENTS)}")
        if self.environment == "production" and self.redis_url is None:
            # Without Redis each process counts on its own: the limits would hold per machine only.
            found.append("TOWNHALL_REDIS_URL: required when TOWNHALL_ENV=production, so that every replica "
                         "counts the rate limits together")
        if not 0 <= self.trusted_proxy_hops <= 5:
            found.append("TOWNHALL_TRUSTED_PROXY_HOPS: between 0 and 5")
        if not (self.home / "openapi.yaml").is_file() or not (self.home / "migrations").is_dir():
            found.append(f"TOWNHALL_HOME: {self.home} holds no openapi.yaml and migrations/")
        return found

    def _mail_problems(self) -> list[str]:
        found = []
        if self.smtp_security not in ("starttls", "tls", "none"):
            found.append("TOWNHALL_SMTP_SECURITY: starttls, tls or none")
        if "@" not in self.mail_from:
            found.append("TOWNHALL_MAIL_FROM: an e-mail address")
        return found

    def _limit_problems(self) -> list[str]:
        found = [f"TOWNHALL_{name.upper()}: between {low} and {high}" for name, (low, high) in RANGES.items()
                 if not low <= getattr(self, name) <= high]
        if len(self.webhooks_allowed_ports) > 16 or not all(1 <= p <= 65535 for p in self.webhooks_allowed_ports):
            found.append("TOWNHALL_WEBHOOKS_ALLOWED_PORTS: at most 16 ports, each between 1 and 65535")
        for name in ("token_failure_limit", "token_rate_limit_per_address", "login_rate_limit",
                     "login_failure_limit"):
            if not valid_limit(getattr(self, name)):
                found.append(f"TOWNHALL_{name.upper()}: a rate such as '60 per minute'")
        if self.secret_key and len(self.secret_key) < 32:
            found.append("TOWNHALL_SECRET_KEY: at least 32 characters")
        if self.log_level not in LOG_LEVELS:
            found.append(f"TOWNHALL_LOG_LEVEL: one of {', '.join(LOG_LEVELS)}")
        return found

    @property
    def database_backend(self) -> str:
        return make_url(self.database_url).get_backend_name()

    @property
    def access_token_lifetime(self) -> timedelta:
        return timedelta(seconds=self.access_token_seconds)

    def session_secret(self) -> str:
        """TOWNHALL_SECRET_KEY, or one kept in the instance folder (made once, owner-readable only),
        so that every worker of this machine signs sign-in cookies alike."""
        if self.secret_key:
            return self.secret_key
        path = self.instance_path / "secret_key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as file:
                    file.write(secrets.token_urlsafe(48))
            except FileExistsError:
                pass  # another worker made it first
        return path.read_text().strip()

    @property
    def platform_api_url(self) -> str:
        return f"{self.base_url}/v1"

    def tenant_api_url(self, slug: str) -> str:
        """A municipality's API, where its routes live: printed on documents, the source of its events."""
        return f"{self.base_url}/t/{slug}/v1"

    def audience(self, tenant_slug: str | None) -> str:
        """The one API an access token is for (`aud`, RFC 8707 `resource`): a municipality's
        (`{base}/t/<slug>`) or, without one, the platform's."""
        return f"{self.base_url}/t/{tenant_slug}" if tenant_slug else self.platform_api_url

    def tenant_of_audience(self, resource: str) -> str | None:
        """The municipality slug a `resource` names, if it is a municipality's audience."""
        prefix = f"{self.base_url}/t/"
        return resource.removeprefix(prefix) or None if resource.startswith(prefix) else None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if environ is None else environ
        problems: list[str] = [f"{old}: replaced by {new}" for old, new in REPLACED.items() if old in env]

        def integer(name: str, default: int) -> int:
            raw = env.get(name)
            if raw is None or raw == "":
                return default
            if not re.fullmatch(r"[0-9]{1,12}", raw.strip()):
                problems.append(f"{name}: a whole number, got {raw!r}")
                return default
            return int(raw)

        def ports(name: str) -> tuple[int, ...]:
            raw = [part.strip() for part in env.get(name, "").split(",") if part.strip()]
            if not all(re.fullmatch(r"[0-9]{1,5}", part) for part in raw):
                problems.append(f"{name}: port numbers separated by commas, got {env[name]!r}")
                return ()
            return tuple(sorted({int(part) for part in raw}))

        def flag(name: str, default: bool = False) -> bool:
            raw = env.get(name, "").strip().lower()
            if raw not in ("", "0", "1", "false", "true"):
                problems.append(f"{name}: true or false, got {raw!r}")
            return default if raw == "" else raw in ("1", "true")

        values: dict[str, object] = {
            "database_url": env.get("TOWNHALL_DATABASE_URL", ""),
            "migration_database_url": env.get("TOWNHALL_MIGRATION_DATABASE_URL", ""),
            "listen_database_url": env.get("TOWNHALL_LISTEN_DATABASE_URL", ""),
            "database_prepared_statements": flag("TOWNHALL_DATABASE_PREPARED_STATEMENTS", default=True),
            "redis_url": env.get("TOWNHALL_REDIS_URL") or None,
            "base_url": env.get("TOWNHALL_BASE_URL", cls.base_url),
            "max_body_bytes": integer("TOWNHALL_MAX_BODY_BYTES", cls.max_body_bytes),
            "max_document_bytes": integer("TOWNHALL_MAX_DOCUMENT_BYTES", cls.max_document_bytes),
            "appointments_per_citizen": integer("TOWNHALL_APPOINTMENTS_PER_CITIZEN", cls.appointments_per_citizen),
            "public_cache_seconds": integer("TOWNHALL_PUBLIC_CACHE_SECONDS", cls.public_cache_seconds),
            **{name: integer(f"TOWNHALL_{name.upper()}", getattr(cls, name)) for name in CACHE_SECONDS},
            "access_token_seconds": integer("TOWNHALL_ACCESS_TOKEN_SECONDS", cls.access_token_seconds),
            "environment": env.get("TOWNHALL_ENV", cls.environment).strip().lower(),
            "token_failure_limit": env.get("TOWNHALL_TOKEN_FAILURE_LIMIT", cls.token_failure_limit),
            "token_rate_limit_per_address": env.get("TOWNHALL_TOKEN_RATE_LIMIT_PER_ADDRESS",
                                                    cls.token_rate_limit_per_address),
            "login_rate_limit": env.get("TOWNHALL_LOGIN_RATE_LIMIT", cls.login_rate_limit),
            "login_failure_limit": env.get("TOWNHALL_LOGIN_FAILURE_LIMIT", cls.login_failure_limit),
            "log_level": env.get("TOWNHALL_LOG_LEVEL", cls.log_level).upper(),
            "trusted_proxy_hops": integer("TOWNHALL_TRUSTED_PROXY_HOPS", cls.trusted_proxy_hops),
            "secret_key": env.get("TOWNHALL_SECRET_KEY", ""),
            "webhooks_allow_private": flag("TOWNHALL_WEBHOOKS_ALLOW_PRIVATE"),
            "rate_limits": flag("TOWNHALL_RATE_LIMITS", cls.rate_limits),
            "webhooks_allowed_ports": ports("TOWNHALL_WEBHOOKS_ALLOWED_PORTS"),
            "worker_threads": integer("TOWNHALL_WORKER_THREADS", cls.worker_threads),
            "audit_seal_seconds": integer("TOWNHALL_AUDIT_SEAL_SECONDS", cls.audit_seal_seconds),
            "audit_reads_seconds": integer("TOWNHALL_AUDIT_READS_SECONDS", cls.audit_reads_seconds),
            "smtp_host": env.get("TOWNHALL_SMTP_HOST") or None,
            "smtp_port": integer("TOWNHALL_SMTP_PORT", cls.smtp_port),
            "smtp_security": env.get("TOWNHALL_SMTP_SECURITY", cls.smtp_security).strip().lower(),
            "smtp_username": env.get("TOWNHALL_SMTP_USERNAME") or None,
            "smtp_password": env.get("TOWNHALL_SMTP_PASSWORD") or None,
            "mail_from": env.get("TOWNHALL_MAIL_FROM", cls.mail_from),
            "mollie_api_key": env.get("TOWNHALL_MOLLIE_API_KEY") or None,
            "mollie_api_url": env.get("TOWNHALL_MOLLIE_API_URL", cls.mollie_api_url),
            "map_tiles_url": env.get("TOWNHALL_MAP_TILES_URL") or None,
            "map_attribution": env.get("TOWNHALL_MAP_ATTRIBUTION", cls.map_attribution),
        }
        if env.get("TOWNHALL_INSTANCE_PATH"):
            values["instance_path"] = Path(env["TOWNHALL_INSTANCE_PATH"]).resolve()
        if env.get("TOWNHALL_HOME"):
            values["home"] = Path(env["TOWNHALL_HOME"]).resolve()
        try:
            settings = cls(**values)  # type: ignore[arg-type]
        except SettingsError as error:
            problems.extend(error.problems)
            raise SettingsError(problems) from None
        if problems:
            raise SettingsError(problems)
        return settings
