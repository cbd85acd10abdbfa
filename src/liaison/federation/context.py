"""What federation needs to know about the local node: its name, URL, key and settings."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from liaison.config import NodeConfig, Settings
from liaison.federation.envelope import public_key_text
from liaison.federation.keys import load_private_key


@dataclass(frozen=True)
class LocalNode:
    name: str
    base_url: str
    default_agency: str
    private_key: Ed25519PrivateKey
    settings: Settings
    # The node directory: where its secrets are (None for a node made up in a test).
    directory: Path | None = None

    @property
    def public_key(self) -> str:
        return public_key_text(self.private_key.public_key())

    @classmethod
    def from_config(cls, config: NodeConfig) -> LocalNode:
        return cls(
            name=config.name,
            base_url=config.base_url,
            default_agency=config.default_agency,
            private_key=load_private_key(config.key_path),
            settings=config.settings,
            directory=config.directory,
        )
