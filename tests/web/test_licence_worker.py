"""The mail worker's housekeeping checks licences: a clinician whose licence expires in a week
is emailed by `flask mail-worker` without anyone running `check-licences`, and only once however
many rounds the worker runs."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from shop import clock
from shop.accounts.licences import LicenceReminder, ReminderKind
from shop.extensions import db
from tests.factories import make_clinician
from tests.helpers import command_env

ROOT = Path(__file__).resolve().parents[2]


def test_the_mail_worker_reminds_a_clinician_once_whose_licence_expires_in_a_week(database_url, tmp_path, mailbox):
    clinician = make_clinician(licence_expiry=clock.today() + timedelta(days=7))
    mailbox.clear()
    env = command_env(
        database_url,
        tmp_path,
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=str(mailbox.port),
        HOUSEKEEPING_INTERVAL="0",  # housekeeping every round, to show a round repeats nothing
    )
    worker = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "mail-worker", "--interval", "0.2"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        [reminder] = mailbox.wait_for(1, timeout=30)
        time.sleep(1.5)  # several more rounds
    finally:
        worker.send_signal(signal.SIGTERM)
        out, err = worker.communicate(timeout=30)
    assert worker.returncode == 0, err
    assert reminder["To"] == clinician.email
    assert reminder["Subject"] == "Your licence expires in 7 days: send us the renewed one"
    assert len(mailbox.messages) == 1
    db.session.expire_all()
    assert db.session.scalars(select(LicenceReminder.kind)).all() == [ReminderKind.DAYS_7]
