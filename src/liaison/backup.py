"""Backing up a node and restoring it: one encrypted file holding the database, the keys and
the configuration.

The database is copied consistently while the node runs: SQLite's online backup API, or
`pg_dump` (custom format) for PostgreSQL. The archive (a tar: manifest.json, node.toml,
node_key.pem, secret, and database.sqlite or database.pgdump) is encrypted with a key
derived from the passphrase by scrypt and sealed with AES-256-GCM, so a wrong passphrase
or a changed byte is refused rather than restored.

After a restore the node's audit trail gains an entry saying which backup was restored,
when and where; federation brings back what happened since (docs/deployment.md).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from sqlalchemy.engine import make_url

from liaison.audit import Actor, AuditEvent, record
from liaison.config import (
    NODE_FILE,
    NODE_KEY_FILE,
    SECRET_FILE,
    SQLITE_FILE,
    default_database_url,
    load_node,
    write_node_file,
)
from liaison.errors import ConfigurationError, InvalidInput
from liaison.node import node_database
from liaison.store import Database
from liaison.store.base import utcnow
from liaison.store.federation_tables import Peer, PeerStatus

MAGIC = b"LIAISON-BACKUP-1\n"
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database.sqlite"
PG_MEMBER = "database.pgdump"
SALT_BYTES = 16
NONCE_BYTES = 12
# scrypt cost: about 0.1 s and 64 MiB on a current core; stored in no file because it is
# part of the format version (MAGIC).
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**16, 8, 1
MIN_PASSPHRASE = 12


@dataclass(frozen=True, kw_only=True)
class NodeRestored(AuditEvent):
    """The first entry after a restore: the chain before it is the backup's."""

    action = "node.restore"
    record_type = "node"
    backup_created_at: str
    backup_host: str
    backup_revision: str | None
    restored_on_host: str
    restored_into: str
    backup_file: str


@dataclass(frozen=True)
class BackupSummary:
    path: Path
    node: str
    database: str  # "sqlite" or "postgresql"
    size: int


def _key(passphrase: str, salt: bytes) -> bytes:
    return Scrypt(salt=salt, length=32, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P).derive(
        passphrase.encode("utf-8")
    )


def check_passphrase(passphrase: str) -> None:
    if len(passphrase) < MIN_PASSPHRASE:
        raise InvalidInput(f"the passphrase must have at least {MIN_PASSPHRASE} characters")


def _seal(plain: bytes, passphrase: str) -> bytes:
    salt, nonce = os.urandom(SALT_BYTES), os.urandom(NONCE_BYTES)
    return MAGIC + salt + nonce + AESGCM(_key(passphrase, salt)).encrypt(nonce, plain, MAGIC)


def _open(sealed: bytes, passphrase: str, where: Path) -> bytes:
    if not sealed.startswith(MAGIC):
        raise InvalidInput(f"{where}: not a Liaison backup (unknown header)")
    body = sealed[len(MAGIC) :]
    salt, nonce, cipher = body[:SALT_BYTES], body[SALT_BYTES : SALT_BYTES + NONCE_BYTES], body[28:]
    try:
        return AESGCM(_key(passphrase, salt)).decrypt(nonce, cipher, MAGIC)
    except InvalidTag as error:
        raise InvalidInput(f"{where}: wrong passphrase, or the file was changed") from error


def _backend(url: str) -> str:
    backend = make_url(url).get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise ConfigurationError(f"cannot back up a {backend} database")
    return backend


def _libpq_args(url: str) -> tuple[list[str], dict[str, str]]:
    """pg_dump/pg_restore connection arguments; the password goes in the environment, never
    on a command line other users can read."""
    parsed = make_url(url)
    args = []
    if parsed.host:
        args += ["--host", parsed.host]
    if parsed.port:
        args += ["--port", str(parsed.port)]
    if parsed.username:
        args += ["--username", parsed.username]
    args += ["--dbname", parsed.database or "postgres"]
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = parsed.password
    return args, env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise ConfigurationError(f"{name} is not installed; it is needed for PostgreSQL backups")
    return path


def _run(command: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise ConfigurationError(f"{Path(command[0]).name} failed: {done.stderr.strip()[:2000]}")


def _dump_database(url: str, scratch: Path) -> tuple[str, Path]:
    if _backend(url) == "sqlite":
        target = scratch / SQLITE_MEMBER
        source_path = make_url(url).database
        if not source_path or not Path(source_path).is_file():
            raise ConfigurationError(f"SQLite database {source_path!r} not found")
        # The online backup API copies a consistent snapshot while writers carry on.
        with sqlite3.connect(source_path) as source, sqlite3.connect(target) as copy:
            source.backup(copy)
        return SQLITE_MEMBER, target
    target = scratch / PG_MEMBER
    args, env = _libpq_args(url)
    _run([_tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(target), *args], env)
    return PG_MEMBER, target


def backup_node(directory: Path | str, out: Path | str, passphrase: str) -> BackupSummary:
    """Write an encrypted backup of the node in DIR to OUT (refusing to overwrite a file)."""
    check_passphrase(passphrase)
    node = load_node(directory)
    out = Path(out)
    if out.exists():
        raise InvalidInput(f"{out} exists; choose a new file name")
    with node_database(node) as database:
        revision = database.current_revision()
    with tempfile.TemporaryDirectory(prefix="liaison-backup-") as scratch_name:
        scratch = Path(scratch_name)
        member, dump = _dump_database(node.database_url, scratch)
        manifest = {
            "format": 1,
            "node": node.name,
            "database": _backend(node.database_url),
            "database_member": member,
            "revision": revision,
            "created_at": utcnow().isoformat(),
            "host": socket.gethostname(),
        }
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as archive:
            _add_bytes(archive, MANIFEST, json.dumps(manifest, indent=2).encode("utf-8"))
            for name in (NODE_FILE, NODE_KEY_FILE, SECRET_FILE):
                archive.add(node.directory / name, arcname=name)
            archive.add(dump, arcname=member)
    sealed = _seal(buffer.getvalue(), passphrase)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(sealed)
    return BackupSummary(out, node.name, str(manifest["database"]), len(sealed))


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o600
    archive.addfile(info, io.BytesIO(data))


def _read_manifest(archive: tarfile.TarFile, where: Path) -> dict[str, Any]:
    try:
        member = archive.extractfile(MANIFEST)
    except KeyError as error:
        raise InvalidInput(f"{where}: no {MANIFEST} in the backup") from error
    if member is None:
        raise InvalidInput(f"{where}: {MANIFEST} is not a file")
    manifest = json.loads(member.read())
    if not isinstance(manifest, dict) or manifest.get("format") != 1:
        raise InvalidInput(f"{where}: unsupported backup format {manifest.get('format')!r}")
    return manifest


def restore_node(
    backup: Path | str,
    directory: Path | str,
    passphrase: str,
    *,
    database_url: str | None = None,
    operator: Actor,
) -> dict[str, Any]:
    """Restore BACKUP into DIR (new or empty). A SQLite node gets its database in DIR; a
    PostgreSQL node is restored into `database_url` (default: the one it was backed up
    from). The database is migrated to the current revision and the restore audited.
    Returns the backup's manifest."""
    backup, directory = Path(backup), Path(directory)
    if directory.exists() and any(directory.iterdir()):
        raise InvalidInput(f"{directory} is not empty; restore into a new directory")
    plain = _open(backup.read_bytes(), passphrase, backup)
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o700)
    with tarfile.open(fileobj=io.BytesIO(plain), mode="r") as archive:
        manifest = _read_manifest(archive, backup)
        # The "data" filter refuses absolute paths, links out of DIR and device files.
        archive.extractall(directory, filter="data")
    for name in (NODE_FILE, NODE_KEY_FILE, SECRET_FILE):
        (directory / name).chmod(0o600)
    node = load_node(directory)
    if manifest["database"] == "sqlite":
        url = default_database_url(directory)
        (directory / SQLITE_MEMBER).replace(directory / SQLITE_FILE)
    else:
        url = database_url or node.database_url
        if _backend(url) != "postgresql":
            raise InvalidInput("a PostgreSQL backup restores into a PostgreSQL database")
        args, env = _libpq_args(url)
        dump = directory / PG_MEMBER
        _run([_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", *args, str(dump)], env)
        dump.unlink()
    # The restored node.toml names where its database now is.
    write_node_file(
        directory,
        name=node.name,
        database_url=url,
        base_url=node.base_url,
        default_agency=node.default_agency,
        public_key=node.public_key,
        time_zone=node.time_zone,
    )
    database = Database(url)
    try:
        database.upgrade()
        with database.session() as session:
            # Until each peer says how far it applied our stream, nothing is sent to it
            # (liaison.federation.delivery): the backup may lack records it already holds;
            # those records themselves are asked back (liaison.federation.resync).
            session.execute(
                sa.update(Peer)
                .where(Peer.status == PeerStatus.ACTIVE)
                .values(resync_from=Peer.last_seq, recover_from=Peer.last_seq)
            )
            record(
                session,
                operator,
                NodeRestored(
                    backup_created_at=str(manifest["created_at"]),
                    backup_host=str(manifest["host"]),
                    backup_revision=manifest.get("revision"),
                    restored_on_host=socket.gethostname(),
                    restored_into=str(directory.resolve()),
                    backup_file=str(backup.resolve()),
                ),
            )
            session.commit()
    finally:
        database.dispose()
    return manifest
