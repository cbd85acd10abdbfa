"""The node's database: tables (one module per concern, all on `Base.metadata`), the one
session factory (`Database`), and Alembic migrations in `migrations/versions/`.

Adding tables: write a module in this package that defines mapped classes on `Base`
(shareable records also take `SharedRecord`), then add a migration whose `down_revision`
is the current head. `load_all_tables()` imports every module here, so Alembic and the
migration check see the whole schema without a hand-kept list.
"""

from liaison.store.base import Base, SharedRecord, UTCDateTime, load_all_tables, utcnow
from liaison.store.database import Database, create_database_engine

__all__ = [
    "Base",
    "Database",
    "SharedRecord",
    "UTCDateTime",
    "create_database_engine",
    "load_all_tables",
    "utcnow",
]
