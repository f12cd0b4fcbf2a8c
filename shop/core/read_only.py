"""A request that only read ends its transaction with COMMIT, not ROLLBACK.

The two are the same to the database when nothing was written, but not to psycopg: it forgets
every statement it has prepared on the connection at a ROLLBACK (the rollback might have undone
what they refer to), so with the session's rollback at the end of every request, no statement
was ever prepared and PostgreSQL parsed and planned each one afresh on every page: about as long
as running it, for a catalogue page's joins. Ending a read-only request with COMMIT lets the
connection keep them from one request to the next (psycopg prepares a statement the fifth time
it runs on a connection).

"Read only" is decided on what went out: a transaction is read-only while every statement sent
in it is a SELECT and the session holds no change waiting to be flushed; anything else (a write,
a savepoint, a SET, a statement that failed, a request that raised) ends as before, rolled back.
"""

from __future__ import annotations

import logging

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from shop.extensions import db

log = logging.getLogger(__name__)

WROTE = "shop.wrote"  # in a connection's info: something other than a SELECT went out in this transaction
CONNECTION = "shop.connection"  # in the session's info: the connection of its transaction


@event.listens_for(Engine, "begin")
def _transaction_begins(connection: Connection) -> None:
    connection.info[WROTE] = False


@event.listens_for(Engine, "before_cursor_execute")
def _note_writes(connection: Connection, _cursor, statement: str, _parameters, _context, _executemany) -> None:
    if not connection.info.get(WROTE) and statement.lstrip()[:6].upper() != "SELECT":
        connection.info[WROTE] = True


@event.listens_for(Engine, "handle_error")
def _note_failures(context) -> None:
    if context.connection is not None:
        context.connection.info[WROTE] = True  # a failed statement: end the transaction by rolling back


@event.listens_for(Session, "after_begin")
def _session_begins(session: Session, _transaction, connection: Connection) -> None:
    session.info[CONNECTION] = connection


def end_read_only_transaction(exc: BaseException | None) -> None:
    """At the end of a request (before the session is removed, which rolls back what is left):
    commit the session's transaction if it only read."""
    session = db.session()
    connection = session.info.pop(CONNECTION, None)
    if exc is not None or connection is None or not session.in_transaction():
        return
    if connection.closed or not connection.in_transaction() or connection.info.get(WROTE, True):
        return
    if session.new or session.dirty or session.deleted:
        return
    try:
        session.expunge_all()  # the session is removed next: nothing to expire at the commit
        session.commit()
    except SQLAlchemyError:  # the connection is gone, say: the session's removal cleans up
        log.warning("A read-only transaction could not be committed; it is rolled back.", exc_info=True)
