"""One configuration object for the node: `LIAISON_*` environment variables over node.toml.

`Settings` holds what an operator tunes (environment); `NodeConfig` is what `liaison init`
wrote into the node directory. `load_node` joins the two: an environment variable such as
LIAISON_DATABASE_URL wins over the file, so a deployment can point a node at PostgreSQL
without editing it.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from liaison.errors import ConfigurationError

NODE_FILE = "node.toml"
NODE_KEY_FILE = "node_key.pem"
SECRET_FILE = "secret"
SQLITE_FILE = "liaison.db"


class Settings(BaseSettings):
    """Operator-tunable settings, read from `LIAISON_*` environment variables."""

    model_config = SettingsConfigDict(env_prefix="LIAISON_", extra="ignore")

    database_url: str | None = None
    base_url: str | None = None
    # Behind a reverse proxy: the proxy addresses (comma-separated, or "*") whose
    # X-Forwarded-For is believed. Empty: none, so a client cannot choose the address the
    # rate limit and the audit trail see.
    forwarded_allow_ips: str = ""
    # API bearer tokens and browser sessions both expire; a working day is the default.
    token_ttl_hours: float = 12.0
    session_ttl_hours: float = 12.0
    # Failed logins counted over a sliding window: per account from one client address,
    # per account from all addresses together (a looser limit, so that a stranger cannot
    # lock an account out from everywhere), and per client address.
    login_window_minutes: int = 15
    login_failures_per_account: int = 5
    login_failures_per_account_all_addresses: int = 30
    login_failures_per_address: int = 20
    # argon2id cost (argon2-cffi's RFC 9106 low-memory profile by default). Lower only for
    # test suites; hashes keep their own parameters, so raising them later is safe.
    password_hash_time_cost: int = 3
    password_hash_memory_kib: int = 65536
    # Federation: how the delivery worker paces itself, and how much clock skew peers may have.
    federation_poll_seconds: float = 2.0
    federation_batch_size: int = 100
    federation_backoff_base_seconds: float = 0.5
    federation_backoff_cap_seconds: float = 60.0
    federation_request_timeout_seconds: float = 10.0
    federation_clock_window_seconds: int = 300
    # Peers talk over HTTPS; plain http:// only to loopback, unless this is set (a lab).
    federation_allow_insecure_http: bool = False
    # Audit checkpoints shared with peers: after this many new entries, and at least this
    # often while the chain grows.
    audit_checkpoint_entries: int = Field(default=1000, ge=1)
    audit_checkpoint_interval_seconds: float = Field(default=3600.0, gt=0)
    # Envelopes refused before their sender is verified: counted per client address over a
    # window (one audit entry per address and window); past the limit the address is
    # turned away unread until its window ends. At most this many such requests at once.
    federation_refusal_window_seconds: int = 600
    federation_refusals_per_window: int = 20
    federation_unverified_concurrency: int = 4
    # Hotline: acknowledgement deadlines by priority, and what an attachment may be.
    hotline_urgent_ack_minutes: float = 240
    hotline_flash_ack_minutes: float = 30
    hotline_attachment_max_bytes: int = 5 * 1024 * 1024
    # Pre-export notifications: days the importing side has to answer by default (0: due at
    # once, for drills and tests).
    pen_response_days: float = Field(default=15, ge=0)
    # Substance identification runs in this many warm worker processes, each query within
    # these limits (checked on the text before RDKit reads it) and this time (seconds).
    chem_workers: int = 2
    chem_seconds: float = 10.0
    chem_max_characters: int = 100_000
    chem_max_atoms: int = 500
    chem_max_fragments: int = 32
    chem_max_ring_closures: int = 100
    chem_max_branch_depth: int = 40
    # GET /metrics answers only with this bearer token (off when unset); a scraper's
    # credential, separate from every user account.
    metrics_token: str | None = None
    # Retention: delivered outbox rows are pruned after this many days, but never the last
    # `outbox_keep_delivered` per peer, so a peer restored from an older backup can still
    # be sent what it lost (docs/deployment.md). Seen nonces are kept for the clock window.
    outbox_retention_days: float = Field(default=30, ge=0)
    outbox_keep_delivered: int = Field(default=10_000, ge=0)
    # The time zone pages show times in for users who chose none (an IANA name); over
    # node.toml's `time_zone`.
    time_zone: str | None = None


@dataclass(frozen=True)
class NodeConfig:
    """A node as `liaison init` created it, with the environment's overrides applied."""

    directory: Path
    name: str
    database_url: str
    base_url: str
    default_agency: str
    public_key: str
    settings: Settings = field(default_factory=Settings)
    time_zone: str = "UTC"

    @property
    def key_path(self) -> Path:
        return self.directory / NODE_KEY_FILE

    @property
    def secret_path(self) -> Path:
        return self.directory / SECRET_FILE

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.startswith("https://")


def default_database_url(directory: Path) -> str:
    return f"sqlite:///{(directory / SQLITE_FILE).resolve()}"


def write_node_file(
    directory: Path,
    *,
    name: str,
    database_url: str,
    base_url: str,
    default_agency: str,
    public_key: str,
    time_zone: str = "UTC",
) -> Path:
    """Write node.toml; JSON string quoting is valid TOML basic-string quoting."""
    values = {
        "name": name,
        "database_url": database_url,
        "base_url": base_url,
        "default_agency": default_agency,
        "public_key": public_key,
        "time_zone": time_zone,
    }
    lines = ["# Liaison node configuration, written by `liaison init`.", "[node]"]
    lines += [f"{key} = {json.dumps(value, ensure_ascii=False)}" for key, value in values.items()]
    path = directory / NODE_FILE
    # The database URL may carry a password: owner-only, like the key and the secret.
    path.touch(mode=0o600)
    path.chmod(0o600)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def load_node(directory: Path | str, settings: Settings | None = None) -> NodeConfig:
    """Read DIR/node.toml; a missing or malformed file is a ConfigurationError naming it."""
    directory = Path(directory).resolve()
    path = directory / NODE_FILE
    if not path.is_file():
        raise ConfigurationError(
            f"{directory} is not a Liaison node (no {NODE_FILE}); create one with `liaison init`"
        )
    try:
        node = tomllib.loads(path.read_text(encoding="utf-8"))["node"]
    except (tomllib.TOMLDecodeError, KeyError) as error:
        raise ConfigurationError(f"{path}: not a valid node file ({error})") from error
    missing = [
        key
        for key in ("name", "database_url", "base_url", "default_agency", "public_key")
        if not isinstance(node.get(key), str)
    ]
    if missing:
        raise ConfigurationError(f"{path}: missing {', '.join(missing)}")
    settings = settings or Settings()
    time_zone = settings.time_zone or node.get("time_zone", "UTC")
    try:
        ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ConfigurationError(
            f"{path}: time_zone {time_zone!r} is not an IANA time zone name"
        ) from error
    return NodeConfig(
        directory=directory,
        name=node["name"],
        database_url=settings.database_url or node["database_url"],
        base_url=(settings.base_url or node["base_url"]).rstrip("/"),
        default_agency=node["default_agency"],
        public_key=node["public_key"],
        settings=settings,
        time_zone=time_zone,
    )
