"""``flask keys ...``: the keyring and data keys, for operators.

    flask keys init                 make instance/keys.json (make run does this)
    flask keys status               what each key protects; values that fail to decrypt
    flask keys rotate               new primary data keys (deployment and authorities)
    flask keys reencrypt            move every value onto its owner's primary key
    flask keys retire --data-key N  forget an old data key nothing uses any more
    flask keys rotate --kek         stage a new key-encryption key; again: promote it
    flask keys rotate --index       stage a new index key; again: promote and re-index
    flask keys retire --kek N / --index N

Keys in the keyring rotate in two steps, because every instance must hold a key before
any of them depends on it: the first run adds the new key (not yet used); deploy the new
keys.json to every instance; the second run makes it primary.
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import func, select

from portal.cli import instance_path_option
from portal.config import current_settings, default_instance_path
from portal.crypto.keyring import Keyring, month_label
from portal.crypto.keys import StoredKey
from portal.crypto.rotation import Progress

keys_cli = AppGroup("keys", help="The encryption keyring and data keys.")


@keys_cli.command("init", with_appcontext=False)
@instance_path_option
def keys_init(instance_path: Path | None) -> None:
    """Create instance/keys.json (mode 0600) if there is none. Never overwrites."""
    from portal.crypto import keyring

    path = (instance_path or default_instance_path()) / keyring.KEYRING_FILE
    if keyring.init(path):
        click.echo(f"Created {path}: back it up apart from the database (see README)")
    else:
        click.echo(f"{path} already exists; left as it is")


@keys_cli.command("status")
@click.option("--quick", is_flag=True, help="Count by key id only; do not open every value.")
def keys_status(quick: bool) -> None:
    """Keys, what each protects, and how many values fail to decrypt (must be 0)."""
    from portal import files, keystore
    from portal.crypto.rotation import column_status
    from portal.extensions import db
    from portal.models import BlindIndexEntry, DataKey

    manager = keystore.keys()
    ring = manager.keyring
    click.echo("Keyring")
    for kind in ("kek", "index"):
        for key in ring.keys(kind):
            click.echo(f"  {kind:5} {key.id:>4}  {key.state}")
    click.echo(
        f"  retention ratchet at {month_label(ring.retention.month)}"
        if ring.retention
        else "  no retention ratchet: run `flask keys ratchet`"
    )
    click.echo("Data keys")
    rows = db.session.execute(
        select(
            DataKey.id, DataKey.owner_kind, DataKey.state, DataKey.wrapped_by, DataKey.wrapper_id
        )
        .where(DataKey.owner_kind != "case")
        .order_by(DataKey.created_at)
    ).all()
    for key_id, kind, state, wrapped_by, wrapper in rows:
        click.echo(f"  {key_id:>10}  {kind:10} {state:13} wrapped by {wrapped_by} {wrapper}")
    cases = db.session.execute(
        select(DataKey.state, func.count())
        .where(DataKey.owner_kind == "case")
        .group_by(DataKey.state)
    ).all()
    if cases:
        click.echo("  case keys: " + ", ".join(f"{count} {state}" for state, count in cases))
    click.echo("Sealed values (table.column: key id = values)")
    failures = 0
    with db.engine.connect() as connection:
        statuses = (
            column_status(connection, sealed, manager, open_values=not quick)
            for sealed in keystore.sealed_columns()
        )
        for status in itertools.chain(
            statuses, [files.status(connection, manager, open_values=not quick)]
        ):
            counts = ", ".join(f"{k} = {n}" for k, n in sorted(status.by_key.items())) or "none"
            click.echo(
                f"  {status.label}: {counts}"
                + (f"; {status.failures} FAIL to decrypt" if status.failures else "")
            )
            if status.first_failure:
                click.echo(f"    first failure: {status.first_failure}")
            failures += status.failures
    click.echo("Blind index entries (index key id = entries)")
    entries = db.session.execute(
        select(BlindIndexEntry.index_key_id, func.count())
        .where(BlindIndexEntry.kind != keystore.INDEX_KEY_CHECK)
        .group_by(BlindIndexEntry.index_key_id)
    ).all()
    click.echo("  " + (", ".join(f"{k} = {n}" for k, n in entries) or "none"))
    if failures:
        click.echo(f"{failures} value(s) fail to decrypt", err=True)
        sys.exit(1)


@keys_cli.command("rotate")
@click.option("--kek", "kind", flag_value="kek", help="Rotate the key-encryption key.")
@click.option("--index", "kind", flag_value="index", help="Rotate the blind index key.")
def keys_rotate(kind: str | None) -> None:
    """New primary data keys for the deployment and every authority (default), or a
    two-step rotation of a keyring key (--kek, --index)."""
    from portal import keystore
    from portal.crypto.keys import KeyOwner
    from portal.models import Authority

    manager = keystore.keys()
    if kind is None:
        from portal.extensions import db

        owners = [KeyOwner.deployment()] + [
            KeyOwner.authority(authority_id)
            for authority_id in db.session.scalars(select(Authority.id))
        ]
        for owner in owners:
            new = manager.rotate(owner)
            click.echo(f"{owner}: new primary data key {new.id}")
        rewrapped = _rewrap_case_keys()
        db.session.commit()  # all of it, or (on any error above) none of it
        click.echo(f"Case keys wrapped again under their authority's new key: {rewrapped}")
        click.echo("Now run `flask keys reencrypt` (it can run while the portal serves).")
        return
    _rotate_keyring_key(kind)


def _refuse_if_recently_primary(stored: StoredKey, primary_ttl: float) -> None:
    """Other processes go on sealing with a key for up to primary_ttl seconds after it
    stops being primary (their caches): retiring it sooner could strand those values."""
    from portal.extensions import db
    from portal.models import DataKey, utcnow

    successor_made = db.session.scalar(
        select(DataKey.created_at).where(
            DataKey.owner_kind == stored.owner.kind,
            DataKey.owner_id == stored.owner.id,
            DataKey.state == "primary",
        )
    )
    wait = 2 * primary_ttl
    if successor_made is not None and (utcnow() - successor_made).total_seconds() < wait:
        raise click.ClickException(
            f"data key {stored.id} was primary until less than {wait:.0f} seconds ago and "
            "may still be in use: run `flask keys reencrypt` again, then retire it"
        )


def _rewrap_case_keys() -> int:
    from portal import keystore

    keys = keystore.keys()
    count = 0
    for stored in keys.store.all(("primary", "decrypt_only")):
        if stored.owner.kind == "case":
            keys.rewrap(stored)
            count += 1
    return count


def _rotate_keyring_key(kind: str) -> None:
    from portal import keystore
    from portal.extensions import db

    keys = keystore.keys()
    ring = keys.keyring
    old = ring.primary(kind)
    staged = ring.staged(kind)
    if staged is None:
        ring = ring.with_staged_key(kind)
        _save(ring)
        added = ring.keys(kind)[-1]
        click.echo(
            f"Added {kind} key {added.id}, not used yet. Deploy the keyring to every "
            f"instance, restart them, then run `flask keys rotate --{kind}` again."
        )
        return
    ring = ring.with_primary(kind, staged.id)
    _save(ring)
    keys.keyring = ring
    if kind == "kek":
        count = 0
        for stored in keys.store.all(("primary", "decrypt_only")):
            if stored.wrapped_by == "kek":
                keys.rewrap(stored)
                count += 1
        db.session.commit()
        done = f"{count} data key(s) wrapped again under it"
    else:
        done = f"{keystore.reindex()} record(s) indexed under every index key"
    click.echo(
        f"{kind} {staged.id} is primary; {done}. Once every instance runs with this "
        f"keyring, retire the old key: `flask keys retire --{kind} {old.id}`."
    )


def _save(ring: Keyring) -> None:
    from portal.crypto import keyring

    settings = current_settings()
    path = settings.keyring_path
    if path is None:
        # Keys never go to the terminal (scroll-back, CI logs): to a 0600 file instead.
        pending = settings.instance_path / "keys.pending.json"
        keyring.write(ring, pending)
        click.echo(
            f"The keyring comes from PORTAL_KEYS: the new keyring is in {pending} (mode "
            "0600). Put it in PORTAL_KEYS on every instance, then delete the file."
        )
        return
    keyring.write(ring, path)


@keys_cli.command("reencrypt")
@click.option("--batch", default=1000, show_default=True, help="Rows per transaction.")
@click.option("--limit", type=int, default=None, help="Stop after this many values.")
def keys_reencrypt(batch: int, limit: int | None) -> None:
    """Move every sealed value onto its owner's primary key, while the portal serves.
    Safe to interrupt and run again."""
    from portal import files, keystore
    from portal.crypto.rotation import by_table, reencrypt
    from portal.extensions import db

    manager = keystore.keys()
    rewrapped = _rewrap_case_keys()
    db.session.commit()
    if rewrapped:
        click.echo(f"Case keys wrapped again under their authority's primary key: {rewrapped}")
    remaining = limit
    problems = 0
    for columns in by_table(keystore.sealed_columns()):
        progress = reencrypt(db.engine, columns, manager, batch=batch, limit=remaining)
        db.session.commit()  # ends the transaction its key look-ups read in
        problems += _report(progress, "value(s)", "row(s)")
        if remaining is not None:
            remaining -= progress.reencrypted
            if remaining <= 0:
                click.echo("Stopped at the limit; run again to continue.")
                break
    else:
        problems += _report(files.reencrypt(db.engine, manager, limit=remaining), "file(s)")
    db.session.commit()
    if problems:
        sys.exit(1)


def _report(progress: Progress, values: str, read: str = "") -> int:
    """Say what a re-encryption pass did; returns how many values failed."""
    click.echo(
        f"{progress.label}: {progress.reencrypted} {values} re-encrypted, "
        f"{progress.scanned} {read or values} read"
        + (f", {progress.retried} changed meanwhile" if progress.retried else "")
    )
    for failure in progress.failures[:5]:
        click.echo(f"  {failure}", err=True)
    return len(progress.failures)


@keys_cli.command("retire")
@click.option("--data-key", type=int, default=None, help="A decrypt-only data key.")
@click.option("--kek", type=int, default=None, help="A key-encryption key no data key uses.")
@click.option("--index", type=int, default=None, help="An index key that is not primary.")
def keys_retire(data_key: int | None, kek: int | None, index: int | None) -> None:
    """Forget a key that nothing depends on any more. Refuses otherwise."""
    from portal import files, keystore
    from portal.crypto.rotation import column_status
    from portal.extensions import db

    manager = keystore.keys()
    if data_key is not None:
        stored = manager.store.get(data_key)
        if stored is None or stored.state != "decrypt_only":
            raise click.ClickException(f"data key {data_key} is not a decrypt-only key")
        with db.engine.connect() as connection:
            using = (
                sum(
                    column_status(connection, sealed, manager, open_values=False).by_key[data_key]
                    for sealed in keystore.sealed_columns()
                )
                + files.status(connection, manager, open_values=False).by_key[data_key]
            )
        children = [
            k
            for k in manager.store.all(("primary", "decrypt_only"))
            if k.wrapped_by == "data" and k.wrapper_id == data_key
        ]
        if using or children:
            raise click.ClickException(
                f"data key {data_key} still protects {using} value(s) and {len(children)} "
                "key(s): run `flask keys reencrypt` first"
            )
        _refuse_if_recently_primary(stored, manager.primary_ttl)
        manager.destroy(data_key)  # the wrapped material is deleted
        manager.store.set_state(data_key, "retired")
        db.session.commit()
        click.echo(f"Data key {data_key} retired: its material is gone")
    for kind, key_id in (("kek", kek), ("index", index)):
        if key_id is None:
            continue
        ring = manager.keyring
        key = ring.get(kind, key_id)
        if key is None or key.state == "primary":
            raise click.ClickException(f"{kind} key {key_id} is not a non-primary keyring key")
        if kind == "kek" and any(
            k.wrapped_by == "kek" and k.wrapper_id == key_id
            for k in manager.store.all(("primary", "decrypt_only"))
        ):
            raise click.ClickException(
                f"kek {key_id} still wraps data keys: run `flask keys rotate --kek` first"
            )
        smaller = ring.without(kind, key_id)
        _save(smaller)
        manager.keyring = smaller
        if kind == "index":
            keystore.reindex()  # drops the retired key's entries
        click.echo(f"{kind} key {key_id} removed from the keyring")


@keys_cli.command("ratchet")
def keys_ratchet() -> None:
    """Move the retention ratchet to this month (monthly, after `flask retention run`):
    no backup can then open a case destroyed before this month. Adds a ratchet to a
    keyring that has none (deploy it everywhere, then run this again)."""
    from portal import keystore, retention_keys
    from portal.crypto.keyring import new_ratchet
    from portal.extensions import db
    from portal.models import utcnow
    from portal.workdays import uk_date

    manager = keystore.keys()
    today = uk_date(utcnow())
    if manager.keyring.retention is None:
        _save(manager.keyring.with_ratchet(new_ratchet(today)))
        click.echo(
            "Added a retention ratchet to the keyring, not used yet. Deploy the keyring to "
            "every instance, restart them, then run `flask keys ratchet` again."
        )
        return
    before = manager.keyring.retention.month
    ring, moved, scheduled = retention_keys.ratchet(today)
    db.session.commit()  # the keys first: the old keyring opens them as well as the new
    _save(ring)
    manager.keyring = ring
    now = ring.retention.month if ring.retention else before
    click.echo(
        f"Ratchet moved from {month_label(before)} to {month_label(now)}; "
        f"{moved} case key(s) of earlier months moved to it, {scheduled} scheduled. "
        "Deploy the keyring to every instance, and destroy every older copy of it."
    )
