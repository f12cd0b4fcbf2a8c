"""The database as every domain uses it: one transaction per business verb, and the column
types the models share."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import DateTime, Enum, event, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.types import TypeDecorator

from shop.errors import ShopError
from shop.extensions import db


@contextmanager
def unit_of_work(*, conflict: ShopError | None = None) -> Iterator[None]:
    """One business verb, one transaction: what the block changes is committed when it ends,
    and all of it is rolled back when anything in it raises (a ShopError included), so a
    refused step never leaves half a change behind and no caller has to clean up.

    `conflict` is raised instead of an IntegrityError, for the verbs where a unique constraint
    is how a race shows itself (the same email registered twice at the same moment, a second
    click opening the same draft)."""
    try:
        yield
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        if conflict is None:
            raise
        raise conflict from None
    except BaseException:
        db.session.rollback()
        raise


def hold(column, row_id: int) -> None:
    """Take the lock of the row `row_id` of `column`'s table until the commit, with a no-op
    UPDATE of that column (the row lock on PostgreSQL, the write lock on SQLite): whoever comes
    second waits here, then reads what the first did. Use a column that is not a key."""
    table = column.class_
    db.session.execute(
        update(table)
        .where(table.id == row_id)
        .values({column.key: column})
        .execution_options(synchronize_session=False)
    )


def database_answers() -> bool:
    """Whether the database answers a trivial query now (for the health check)."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any database failure means "not healthy", never a 500 page
        db.session.rollback()
        return False
    return True


class UTCDateTime(TypeDecorator):
    """Stores naive UTC and hands back aware UTC datetimes, the same on SQLite and PostgreSQL."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def enum_column(enum_cls: type[StrEnum], name: str) -> Enum:
    """A portable enum column: VARCHAR plus a CHECK constraint, stored by value."""
    return Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


# Objects a database's own engine adds outside the models (full-text tables and their shadow
# tables, expression indexes), made by migrations: autogenerate leaves them alone.
ENGINE_OBJECTS: set[str] = set()


def include_object(obj, name: str | None, type_: str, reflected: bool, _compare_to) -> bool:
    """Alembic autogenerate hook: compare everything but the engine objects (a column is named
    "table.column" there)."""
    if type_ == "column" and name:
        name = f"{obj.table.name}.{name}"
    return not (reflected and name and any(name == o or name.startswith(o + "_") for o in ENGINE_OBJECTS))


def render_item(type_: str, obj, _autogen_context):
    """Alembic autogenerate hook: write UTCDateTime columns as plain DateTime in revisions."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime()"
    return False


def contains(column, term: str):
    """`column` contains `term`, in any case, with LIKE's own wildcards in the term taken as text."""
    return db.func.lower(column).like(_anywhere(term.lower()), escape="\\")


def contains_as_written(column, term: str):
    """`column` contains `term` in the same case (for values kept in one case, such as SKUs, so
    that no lower() runs on every row)."""
    return column.like(_anywhere(term), escape="\\")


def _anywhere(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def choose_engine_options(config) -> None:
    """A database server's connections are pinged as they leave the pool, so that one the server
    dropped (a restart) is replaced before a page uses it. SQLite's file has no connection to
    drop: a ping would only cost every request a statement."""
    options = dict(config["SQLALCHEMY_ENGINE_OPTIONS"])
    options.setdefault("pool_pre_ping", not config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"))
    config["SQLALCHEMY_ENGINE_OPTIONS"] = options


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """Foreign keys on, write-ahead log so readers never block the writer, a patient lock, and a
    lower() that folds all letters (SQLite's own folds only ASCII), like PostgreSQL's."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        dbapi_connection.create_function("lower", 1, _unicode_lower, deterministic=True)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()


def _unicode_lower(value):
    return value.lower() if isinstance(value, str) else value
