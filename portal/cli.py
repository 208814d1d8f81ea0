"""``flask`` commands for operators: secrets, authorities, demo data, the outbox and
housekeeping. Cron runs ``flask outbox send`` and ``flask housekeeping``."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select

from portal.config import current_settings, default_instance_path, write_secret_key

# Runs without an app: the app cannot start until the secret exists. Registered as a
# plugin command in pyproject.toml so `flask secrets init` works on a fresh checkout.
secrets_cli = AppGroup("secrets", help="Create the instance secrets.")


# For the commands that make instance files before there is an app to ask.
instance_path_option = click.option(
    "--instance-path",
    type=click.Path(path_type=Path),
    default=None,
    envvar="PORTAL_INSTANCE_PATH",  # as the app reads it
    help="The instance folder (default: PORTAL_INSTANCE_PATH, else the repository's instance/).",
)


@secrets_cli.command("init", with_appcontext=False)
@instance_path_option
def secrets_init(instance_path: Path | None) -> None:
    """Create instance/secret_key (mode 0600) if it does not exist. Never overwrites."""
    path = instance_path or default_instance_path()
    if write_secret_key(path):
        click.echo(f"Created {path / 'secret_key'}")
    else:
        click.echo(f"{path / 'secret_key'} already exists; left as it is")


authority_cli = AppGroup("authority", help="Set up authorities (LADO services).")


@authority_cli.command("create")
@click.option("--code", required=True, help="Short code for references, e.g. BRK.")
@click.option("--name", "display_name", required=True, help="Name shown in the portal.")
@click.option("--privacy-notice-url", required=True)
@click.option("--meeting-name", type=click.Choice(["ASV", "POT", "AMM"]), default="ASV")
@click.option("--minutes-working-days", type=click.Choice(["10", "15"]), default="10")
def authority_create(
    code: str,
    display_name: str,
    privacy_notice_url: str,
    meeting_name: str,
    minutes_working_days: str,
) -> None:
    """Add an authority to this deployment."""
    from portal.admin.service import AdminError, create_authority
    from portal.vocabulary import MeetingName

    try:
        authority = create_authority(
            code=code,
            display_name=display_name,
            privacy_notice_url=privacy_notice_url,
            meeting_name=MeetingName(meeting_name),
            minutes_working_days=int(minutes_working_days),
        )
    except AdminError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Created {authority.display_name} ({authority.code})")


@authority_cli.command("invite-admin")
@click.option("--code", required=True, help="The authority's code.")
@click.option("--email", required=True)
@click.option("--name", "full_name", required=True)
def authority_invite_admin(code: str, email: str, full_name: str) -> None:
    """Invite an authority's first administrator (they then invite everyone else)."""
    from portal.auth.invitations import invite
    from portal.extensions import db
    from portal.models import Authority, Role

    authority = db.session.scalars(
        select(Authority).where(Authority.code == code.strip().upper())
    ).first()
    if authority is None:
        raise click.ClickException(f"No authority has the code {code}")
    invite(
        actor=None, email=email, full_name=full_name, roles=[Role.AUTHORITY_ADMIN], place=authority
    )
    click.echo(f"Invitation queued for {authority.display_name}; run `flask outbox send`")


outbox_cli = AppGroup("outbox", help="The e-mail outbox.")


@outbox_cli.command("send")
@click.option(
    "--loop",
    is_flag=True,
    help="Keep sending as e-mails are queued, until stopped (SIGTERM or Ctrl-C): for a "
    "service of its own. Without it, send what is waiting and stop: for cron.",
)
@click.option(
    "--poll-seconds",
    type=float,
    default=2.0,
    show_default=True,
    help="With --loop, how long to wait when there is nothing to send.",
)
def outbox_send(loop: bool, poll_seconds: float) -> None:
    """Send the e-mails waiting in the outbox (any number of senders may run at once:
    each message is claimed before it is sent, so none goes twice)."""
    from portal.notify import deliver_pending, run_worker

    if not loop:
        total = 0
        while sent := deliver_pending():
            total += sent
        click.echo(f"Sent {total} e-mail(s)")
        return
    stopping = threading.Event()
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signal_number, lambda *_: stopping.set())
    click.echo("Outbox sender started")
    run_worker(poll_seconds, stopping.is_set)
    click.echo("Outbox sender stopped")


@click.command("housekeeping")
@with_appcontext
def housekeeping() -> None:
    """Delete expired sessions and old sign-in failures; warn about, then delete, drafts
    untouched for 30 days (cron: hourly)."""
    from portal import audit_chain
    from portal.auth.throttle import purge_expired
    from portal.extensions import db
    from portal.referrals.service import expire_drafts
    from portal.sessions import purge_expired_sessions

    settings = current_settings()
    sessions = purge_expired_sessions(
        settings.session_idle_timeout, settings.session_absolute_timeout
    )
    attempts = purge_expired()
    click.echo(f"Removed {sessions} expired session(s) and {attempts} old sign-in failure(s)")
    warned, deleted = expire_drafts()
    click.echo(f"Warned about {warned} draft(s) soon to be deleted; deleted {deleted} draft(s)")
    click.echo(f"Chained {audit_chain.chain_waiting(db.engine)} audit event(s) left waiting")


@click.command("reminders")
@with_appcontext
def reminders() -> None:
    """Remind organisations of information requests due tomorrow or overdue, once per
    request and rule (cron: hourly)."""
    from portal.meetings import reminders as request_reminders

    count = request_reminders.send()
    click.echo(f"Reminded {count} request(s)")


@click.command("demo-data")
@with_appcontext
@click.option("--if-empty", is_flag=True, help="Only when the database has no authority yet.")
@click.option(
    "--cases",
    type=click.IntRange(min=0),
    default=0,
    help="Also add this many fictional cases (years of closed ones, a working set open).",
)
def demo_data(if_empty: bool, cases: int) -> None:
    """Load the fictional demo authorities, organisations and accounts (see README)."""
    from portal import demo, demo_cases

    if not demo.database_is_empty():
        if if_empty:
            click.echo("The database already has data; demo data not loaded")
            return
        if not cases:
            raise click.ClickException("The database already has data; demo data not loaded")
    else:
        demo.load()
        click.echo("Demo data loaded: the accounts are listed in README.md")
    if cases:
        started = time.monotonic()
        added = demo_cases.load(cases)
        click.echo(f"Added {added} fictional cases in {time.monotonic() - started:.0f} s")


@click.command("import-tracker")
@with_appcontext
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--authority", "code", required=True, help="The authority's code, e.g. BRK.")
@click.option("--dry-run", is_flag=True, help="Check every row and report; write nothing.")
def import_tracker(file: Path, code: str, dry_run: bool) -> None:
    """Import a historic LADO tracker (CSV or XLSX, columns as in the template: see
    README). All or nothing; a reference already imported is skipped."""
    from portal import tracker
    from portal.extensions import db
    from portal.models import Authority

    authority = db.session.scalars(select(Authority).where(Authority.code == code.upper())).first()
    if authority is None:
        raise click.ClickException(f"No authority has the code {code}")
    importer = tracker.importer_for(authority)
    if importer is None:
        raise click.ClickException(
            f"{authority.display_name} has no administrator or LADO manager to record the "
            "import as: invite one first (flask authority invite-admin)"
        )
    try:
        with file.open("rb") as stream:
            checked = tracker.check_file(stream, file.name, authority)
    except tracker.TrackerError as error:
        raise click.ClickException(str(error)) from None
    for problem in checked.problems:
        click.echo(str(problem), err=True)
    if checked.problems:
        raise click.ClickException(
            f"{len(checked.problems)} problem(s): nothing was imported. Correct the file and "
            "run again"
        )
    if dry_run:
        click.echo(f"{len(checked.rows)} row(s) would be imported; {checked.already} already were")
        return
    imported = tracker.import_rows(authority, importer, checked.rows)
    db.session.commit()
    click.echo(f"Imported {imported} row(s); {checked.already} were already imported")


audit_cli = AppGroup("audit", help="Chain and check the audit trail.")


@audit_cli.command("verify")
def audit_verify() -> None:
    """Walk the audit trail's hash chain; exit 1 naming each event changed or missing."""
    from portal import audit_chain
    from portal.extensions import db

    with db.engine.connect() as connection:
        verdict = audit_chain.verify(connection)
    for problem in verdict.problems:
        click.echo(f"Problem: {problem}", err=True)
    if not verdict.intact:
        raise SystemExit(1)
    waiting = f"; {verdict.waiting} recent event(s) wait to be chained" if verdict.waiting else ""
    click.echo(f"The audit trail is intact: {verdict.checked} event(s) checked{waiting}")


@audit_cli.command("chain")
def audit_chain_waiting() -> None:
    """Number and hash the events waiting to join the chain (the requests that record
    them do it after their response; the hourly housekeeping does it too)."""
    from portal import audit_chain
    from portal.extensions import db

    click.echo(f"Chained {audit_chain.chain_waiting(db.engine)} audit event(s)")


retention_cli = AppGroup("retention", help="Destroy cases past their retention date.")


@retention_cli.command("run")
@click.option("--dry-run", is_flag=True, help="Say what would be destroyed; change nothing.")
def retention_run(dry_run: bool) -> None:
    """Destroy the cases of every approved destruction batch (cron, nightly). Cases under
    a legal hold, or whose retention date has moved, are kept and named."""
    from portal import destruction
    from portal.models import utcnow
    from portal.workdays import uk_date

    report = destruction.run(uk_date(utcnow()), dry_run=dry_run)
    verb = "Would destroy" if dry_run else "Destroyed"
    click.echo(
        f"{verb} {len(report.destroyed)} case(s){': ' if report.destroyed else ''}"
        + ", ".join(report.destroyed)
    )
    for reference, why in report.skipped:
        click.echo(f"Kept {reference}: {why}")
    click.echo(
        f"Waiting: {report.awaiting_approval} case(s) proposed and not yet approved, "
        f"{report.awaiting_proposal} past their retention date and not yet proposed"
    )


def init_app(app: Flask) -> None:
    from portal.backup import backup_cli
    from portal.keycommands import keys_cli

    for command in (
        audit_cli,
        authority_cli,
        retention_cli,
        outbox_cli,
        housekeeping,
        reminders,
        demo_data,
        import_tracker,
        keys_cli,
        backup_cli,
        secrets_cli,
    ):
        app.cli.add_command(command)
