"""Declarative base, the shared-record mixin and a time type that is UTC on every backend."""

from __future__ import annotations

import importlib
import pkgutil
import uuid
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Stable constraint names, so migrations written on SQLite and PostgreSQL agree.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(sa.TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out (SQLite keeps no zone; PostgreSQL does)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; use liaison.store.utcnow()")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]
        return value.astimezone(UTC)  # type: ignore[no-any-return]


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class SharedRecord:
    """Columns every record that can be shared with a peer node carries.

    `global_id` names the record across nodes; `owner_node` is the code of the node that
    created it (the only node that may change it beyond what the protocol allows).
    """

    global_id: Mapped[str] = mapped_column(
        sa.String(36), unique=True, nullable=False, default=lambda: str(uuid.uuid4())
    )
    owner_node: Mapped[str] = mapped_column(sa.String(32), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)


def load_all_tables() -> sa.MetaData:
    """Import every module of liaison.store so each registers its tables on Base.metadata."""
    import liaison.store as package

    for module in pkgutil.iter_modules(package.__path__):
        if module.name not in {"migrations"}:
            importlib.import_module(f"liaison.store.{module.name}")
    return Base.metadata
