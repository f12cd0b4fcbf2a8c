"""Catalogue imports as jobs the worker runs, outside any web request: the file is kept with its
job, so a closed tab or a restarted web worker loses nothing, and the page shows the job's
progress as the worker reports it.

A job is checked first (queued -> checking -> checked) and applied only when a person asks
(apply_queued -> applying -> applied). Applying is one transaction: all of it or nothing. The
worker claims a job with a conditional UPDATE, so two workers never run the same one; a job
whose worker died (no word from it for STALE) is claimed again from where it was queued.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timedelta

from sqlalchemy import JSON, ForeignKey, LargeBinary, String, Text, or_, select, update
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from shop import clock
from shop.accounts.models import User
from shop.catalogue import csv_import
from shop.core import audit
from shop.core.db import UTCDateTime, enum_column
from shop.core.enums import LabelledEnum
from shop.core.spreadsheet import read_rows
from shop.errors import CatalogueRefusal, InvalidTransition
from shop.extensions import db

MAX_FILE_BYTES = 10 * 1024 * 1024
STALE = timedelta(minutes=30)
REPORT_LINES = 2000  # rows of the report kept beyond the rejected ones


class ImportStatus(LabelledEnum):
    QUEUED = "queued", "Waiting to be checked"
    CHECKING = "checking", "Being checked"
    CHECKED = "checked", "Checked"
    APPLY_QUEUED = "apply_queued", "Waiting to be applied"
    APPLYING = "applying", "Being applied"
    APPLIED = "applied", "Applied"
    FAILED = "failed", "Could not be applied"

    @property
    def working(self) -> bool:
        return self in WORKING


WORKING = {ImportStatus.QUEUED, ImportStatus.CHECKING, ImportStatus.APPLY_QUEUED, ImportStatus.APPLYING}
RUNS = {ImportStatus.QUEUED: ImportStatus.CHECKING, ImportStatus.APPLY_QUEUED: ImportStatus.APPLYING}


class ImportJob(db.Model):
    __tablename__ = "catalogue_imports"
    audit_type = "catalogue_import"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    applied_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # who asked to apply it
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    filename: Mapped[str] = mapped_column(String(255), default="")
    status: Mapped[ImportStatus] = mapped_column(enum_column(ImportStatus, "import_status"), index=True)
    total_rows: Mapped[int] = mapped_column(default=0)
    done_rows: Mapped[int] = mapped_column(default=0)
    report: Mapped[dict] = mapped_column(JSON, default=dict)
    error: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[bytes] = deferred(mapped_column(LargeBinary, nullable=False))

    created_by = relationship(User, foreign_keys=[created_by_id])
    applied_by = relationship(User, foreign_keys=[applied_by_id])

    @property
    def audit_label(self) -> str:
        return f"Catalogue import {self.filename}"

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.done_rows / self.total_rows)) if self.total_rows else 0

    @property
    def applicable(self) -> bool:
        return self.status == ImportStatus.CHECKED and bool(self.report.get("applicable"))


def start(staff: User, data: bytes, filename: str) -> ImportJob:
    """Keep the uploaded file as a job for the worker to check."""
    if not data:
        raise CatalogueRefusal("The file is empty.", field="file")
    if len(data) > MAX_FILE_BYTES:
        raise CatalogueRefusal("The file is larger than 10 MB; split it.", field="file")
    try:
        _header, rows = read_rows(data)
    except ValueError as error:
        raise CatalogueRefusal(str(error), field="file") from None
    now = clock.now()
    job = ImportJob(
        created_by_id=staff.id,
        created_at=now,
        updated_at=now,
        filename=filename[:255],
        status=ImportStatus.QUEUED,
        total_rows=len(rows),
        data=data,
    )
    db.session.add(job)
    db.session.commit()
    return job


def request_apply(staff: User, job: ImportJob) -> None:
    claimed = db.session.execute(
        update(ImportJob)
        .where(ImportJob.id == job.id, ImportJob.status == ImportStatus.CHECKED)
        .values(status=ImportStatus.APPLY_QUEUED, done_rows=0, updated_at=clock.now(), applied_by_id=staff.id)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1 or not job.report.get("applicable"):
        db.session.rollback()
        raise InvalidTransition("This import cannot be applied: check a corrected file instead.")
    db.session.commit()
    db.session.refresh(job)


def _claim() -> tuple[ImportJob, ImportStatus] | None:
    """The oldest job waiting (or abandoned by a dead worker), now this worker's."""
    stale = clock.now() - STALE
    for waiting, running in RUNS.items():
        free = or_(ImportJob.status == waiting, (ImportJob.status == running) & (ImportJob.updated_at < stale))
        candidate = db.session.scalar(select(ImportJob.id).where(free).order_by(ImportJob.id).limit(1))
        if candidate is None:
            continue
        # The same condition again: of two workers that saw the job free, one takes it.
        claimed = db.session.execute(
            update(ImportJob)
            .where(ImportJob.id == candidate, free)
            .values(status=running, done_rows=0, updated_at=clock.now())
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
        if claimed.rowcount == 1:
            return db.session.get(ImportJob, candidate), running
    return None


def run_next() -> bool:
    """Run one job step (a check or an application); whether there was one."""
    claimed = _claim()
    if claimed is None:
        return False
    job, running = claimed
    if running == ImportStatus.CHECKING:
        try:
            header, rows = read_rows(job.data)
            result = csv_import.plan(header, rows, progress=lambda n: _progress(job.id, n, commit_session=True))
        except Exception as error:  # noqa: BLE001 - a file the check cannot read is reported, not retried for ever
            _failed(job, f"The file could not be checked: {error}")
        else:
            _finish(job, ImportStatus.CHECKED, result)
    else:
        _apply(job)
    return True


def _failed(job: ImportJob, message: str) -> None:
    db.session.rollback()
    job = db.session.get(ImportJob, job.id)
    job.status, job.error, job.updated_at = ImportStatus.FAILED, message[:2000], clock.now()
    db.session.commit()


def _apply(job: ImportJob) -> None:
    staff = job.applied_by
    try:
        header, rows = read_rows(job.data)
        result = csv_import.apply(staff, header, rows, job.filename, progress=lambda n: _progress(job.id, n))
        if not result.applicable:
            db.session.rollback()
            _finish(
                job, ImportStatus.CHECKED, result, error="The catalogue changed since the check; see the rows below."
            )
            return
        counts = result.counts
        audit.record(staff, "catalogue.import_applied", job, note=", ".join(f"{n} {a}" for a, n in counts.items()))
        _finish(job, ImportStatus.APPLIED, result)  # commits the import and the job together
    except Exception as error:  # noqa: BLE001 - a failed import is reported on its page, never lost
        _failed(job, f"Nothing was changed: {error}")


def _progress(job_id: int, done: int, *, commit_session: bool = False) -> None:
    """Tell the page how far the job is. While checking, through the worker's own session; while
    applying, through a connection of its own (where the database allows a second writer), so
    the import's transaction stays whole."""
    statement = update(ImportJob).where(ImportJob.id == job_id).values(done_rows=done, updated_at=clock.now())
    if commit_session:
        db.session.execute(statement.execution_options(synchronize_session=False))
        db.session.commit()
    elif db.engine.dialect.name != "sqlite":
        with db.engine.begin() as connection:
            connection.execute(statement)


def _finish(job: ImportJob, status: ImportStatus, result: csv_import.Plan, error: str = "") -> None:
    job = db.session.get(ImportJob, job.id)
    job.status, job.error, job.updated_at = status, error, clock.now()
    job.done_rows = job.total_rows
    job.report = _report(result)
    db.session.commit()


def _report(result: csv_import.Plan) -> dict:
    rejected = [asdict(o) for o in result.outcomes if o.action == "rejected"]
    others = [asdict(o) for o in result.outcomes if o.action not in ("rejected", "unchanged")][:REPORT_LINES]
    return {
        "applicable": result.applicable,
        "file_problems": result.file_problems,
        "counts": result.counts,
        "rejected": rejected,
        "changes": others,
    }


def recent(limit: int = 10) -> list[ImportJob]:
    return list(db.session.scalars(select(ImportJob).order_by(ImportJob.id.desc()).limit(limit)))
