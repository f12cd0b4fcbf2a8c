"""The schema comes from the Alembic revisions, on SQLite and on PostgreSQL alike."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from shop import create_app
from shop.core.db import include_object
from shop.extensions import db


def test_the_migrated_schema_matches_the_models(app):
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "include_object": include_object})
        assert compare_metadata(context, db.metadata) == []


def _fresh_database_url(database_kind, tmp_path, request) -> str:
    if database_kind == "sqlite":
        return f"sqlite:///{tmp_path / 'fresh.db'}"
    return request.getfixturevalue("fresh_postgres_schema")()


def test_db_upgrade_builds_the_whole_schema_on_an_empty_database_and_downgrade_removes_it(
    database_kind, tmp_path, request
):
    url = _fresh_database_url(database_kind, tmp_path, request)
    fresh = create_app("testing", SQLALCHEMY_DATABASE_URI=url, UPLOAD_FOLDER=str(tmp_path / "uploads"))
    runner = fresh.test_cli_runner()

    # The CLI runs in the current app context, so give it the fresh app's.
    with fresh.app_context():
        result = runner.invoke(args=["db", "upgrade"])
        assert result.exit_code == 0, result.output
        tables = set(db.inspect(db.engine).get_table_names())
        assert {table.name for table in db.metadata.sorted_tables} <= tables

        result = runner.invoke(args=["db", "downgrade", "base"])
        assert result.exit_code == 0, result.output
        assert set(db.inspect(db.engine).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()
