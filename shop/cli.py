"""`flask --app wsgi ...` commands: demo data, accounts, and mail delivery."""

from __future__ import annotations

import signal
import threading

import click
from flask import Flask, current_app

from shop.accounts.models import Role
from shop.errors import ShopError
from shop.extensions import db


def register(app: Flask) -> None:
    app.cli.add_command(seed_demo)
    app.cli.add_command(create_user)
    app.cli.add_command(send_mail)
    app.cli.add_command(mail_worker)
    app.cli.add_command(expire_orders)
    app.cli.add_command(expire_quotes)
    app.cli.add_command(send_invoice_reminders)
    app.cli.add_command(check_licences)
    app.cli.add_command(expire_lots)
    app.cli.add_command(reindex_search)


@click.command("seed-demo")
def seed_demo():
    """Load the demo catalogue and demo accounts (safe to run again)."""
    from shop.demo.seed import seed

    if current_app.config["SHOP_ENV"] == "production":
        raise click.ClickException(
            "seed-demo creates accounts whose passwords are published in the README, so it does not run "
            "under SHOP_ENV=production. Create real accounts with create-user."
        )

    logins = seed()
    click.echo("Demo data is loaded. Demo logins:")
    for role, email, password, note in logins:
        click.echo(f"  {role:<27} {email:<34} password: {password:<22} {note}")


@click.command("create-user")
@click.option("--email", required=True)
@click.option("--password", required=True)
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--name", "full_name", default="")
@click.option("--verified", is_flag=True, help="Give a clinician an approved licence and a practice.")
def create_user(email: str, password: str, role: str, full_name: str, verified: bool):
    """Create an account."""
    from shop.accounts.passwords import password_problem
    from shop.accounts.users import create_user as create

    problem = password_problem(password, user_inputs=(email, full_name))
    if problem:
        click.echo(f"Warning: {problem} The account is created because an operator chose it.", err=True)
    try:
        user = create(email=email, password=password, role=Role(role), full_name=full_name, verified=verified)
    except ShopError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"Created {user.role.value} {user.email}" + (" (verified)" if verified else ""))


@click.command("send-mail")
def send_mail():
    """Deliver every message that is due in the outbox, once."""
    from shop.core.mailer import deliver_due

    report = deliver_due()
    click.echo(f"{report.sent} sent, {report.failed} failed")


@click.command("expire-orders")
def expire_orders():
    """Cancel card orders still unpaid after ORDER_PAYMENT_MINUTES, releasing their stock."""
    from shop.ordering.orders import cancel_unpaid_orders

    cancelled = cancel_unpaid_orders()
    click.echo(f"{cancelled} unpaid order{'' if cancelled == 1 else 's'} cancelled")


@click.command("expire-quotes")
def expire_quotes():
    """Mark sent quotes past their validity as expired, and remind clinicians before that."""
    from shop.quoting.expiry import expire_quotes as run

    expired, reminded = run()
    click.echo(
        f"{expired} quote{'' if expired == 1 else 's'} expired, {reminded} reminder{'' if reminded == 1 else 's'} sent"
    )


@click.command("send-invoice-reminders")
def send_invoice_reminders():
    """Email the owners of practices whose invoices are INVOICE_REMINDER_DAYS past due and unpaid."""
    from shop.invoicing.reminders import send_reminders

    reminded = send_reminders()
    click.echo(f"{reminded} overdue invoice{'' if reminded == 1 else 's'} reminded")


@click.command("check-licences")
def check_licences():
    """Email clinicians whose licence expires in 30 or 7 days, or lapsed, once per reminder."""
    from shop.accounts.expiry import check_licences as run

    reminded = run()
    click.echo(f"{reminded} licence reminder{'' if reminded == 1 else 's'} sent")


@click.command("expire-lots")
def expire_lots():
    """Take every lot past its expiry date off sale (its packs leave the stock)."""
    from shop.lots.holds import withdraw_expired

    expired = withdraw_expired()
    click.echo(f"{expired} lot{'' if expired == 1 else 's'} expired")


@click.command("reindex-search")
def reindex_search():
    """Write the catalogue's search index afresh for every product (after loading products by
    raw SQL; the shop keeps it up to date by itself)."""
    from shop.catalogue.search_index import rebuild

    indexed = rebuild(db.session.connection())
    db.session.commit()
    click.echo(f"{indexed} product{'' if indexed == 1 else 's'} indexed")


@click.command("mail-worker")
@click.option("--interval", type=float, default=None, help="Seconds between rounds.")
def mail_worker(interval: float | None):
    """Deliver due mail in a loop until stopped (SIGINT or SIGTERM); also runs catalogue imports,
    cancels card orders left unpaid past their time, expires quotes and sends their reminders,
    reminds practices of overdue invoices, and clinicians of licences running out (each
    reminder once, however often the round runs), and takes lots past their expiry off sale."""
    from shop.accounts.expiry import check_licences as remind_licences
    from shop.catalogue.import_jobs import run_next as run_next_import
    from shop.core.mailer import run_worker
    from shop.invoicing.reminders import send_reminders
    from shop.lots.holds import withdraw_expired
    from shop.ordering.orders import cancel_unpaid_orders
    from shop.quoting.expiry import expire_quotes as expire_due_quotes

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    interval = interval if interval is not None else current_app.config["MAIL_WORKER_INTERVAL"]
    click.echo(f"Mail worker delivering every {interval:g}s; stop with Ctrl+C.")

    def expire_orders_round():
        cancelled = cancel_unpaid_orders()
        if cancelled:
            click.echo(f"Cancelled {cancelled} unpaid card order{'' if cancelled == 1 else 's'}.")

    run_worker(
        stop,
        interval,
        each_round=(run_next_import,),
        jobs=(expire_orders_round, expire_due_quotes, send_reminders, remind_licences, withdraw_expired),
        jobs_every=current_app.config["HOUSEKEEPING_INTERVAL"],
    )
    db.session.remove()
    click.echo("Mail worker stopped.")
