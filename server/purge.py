"""Deletes conversations older than the retention period: ``make purge``.

A conversation is deleted when its newest event is older than
``FAQ_RETENTION_DAYS`` days (default 90). It works on the SQL tracker store
configured in ``endpoints.yml`` (SQLite by default, PostgreSQL when
configured), in one transaction, and prints how many conversations and events
went. ``--dry-run`` only counts.

Usage::

    python -m server.purge [--days N] [--endpoints endpoints.yml] [--dry-run]
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Optional, Sequence, Tuple

import sqlalchemy as sa

from faq.settings import env_float


def purge(
    engine: sa.engine.Engine, days: float, dry_run: bool = False
) -> Tuple[int, int]:
    """Deletes (or counts) the conversations whose newest event is too old.

    Args:
        engine: The tracker store's database.
        days: Retention in days.
        dry_run: Only count.

    Returns:
        ``(conversations, events)`` deleted (or that would be).
    """
    cutoff = time.time() - days * 86400
    events = sa.table("events", sa.column("sender_id"), sa.column("timestamp"))
    old = (
        sa.select(events.c.sender_id)
        .group_by(events.c.sender_id)
        .having(sa.func.max(events.c.timestamp) < cutoff)
    )
    with engine.begin() as connection:
        senders = [row[0] for row in connection.execute(old)]
        if not senders:
            return 0, 0
        count = 0
        for start in range(0, len(senders), 500):
            chunk = senders[start : start + 500]
            where = events.c.sender_id.in_(chunk)
            if dry_run:
                count += connection.execute(
                    sa.select(sa.func.count()).select_from(events).where(where)
                ).scalar_one()
            else:
                count += connection.execute(sa.delete(events).where(where)).rowcount
    return len(senders), count


def engine_from_endpoints(path: str) -> sa.engine.Engine:
    """Builds the SQLAlchemy engine of the tracker store in ``endpoints.yml``."""
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.core.utils import read_endpoints_from_path

    store = read_endpoints_from_path(path).tracker_store
    if store is None or ("SQL" not in str(store.type) and store.type != "sql"):
        raise SystemExit("FOUT: endpoints.yml heeft geen SQL-trackerstore.")
    settings = store.kwargs
    url = SQLTrackerStore.get_db_url(
        dialect=settings.get("dialect", "sqlite"),
        # endpoints.yml's `url` becomes EndpointConfig.url, not a kwarg.
        host=store.url or settings.get("url"),
        port=settings.get("port"),
        db=settings.get("db", "rasa.db"),
        username=settings.get("username"),
        password=settings.get("password"),
        login_db=settings.get("login_db"),
        query=settings.get("query"),
    )
    return sa.create_engine(url)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Runs the purge from the command line."""
    parser = argparse.ArgumentParser(description="Verwijder oude gesprekken.")
    parser.add_argument(
        "--days", type=float, default=env_float("FAQ_RETENTION_DAYS", 90)
    )
    parser.add_argument("--endpoints", default="endpoints.yml")
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args(argv)
    if args.days <= 0:
        parser.error("--days moet groter dan 0 zijn")
    engine = engine_from_endpoints(args.endpoints)
    try:
        conversations, events = purge(engine, args.days, args.dry_run)
    except sa.exc.OperationalError as error:
        print(f"FOUT: de database is niet bruikbaar: {error.orig}", file=sys.stderr)
        return 1
    verb = "zouden worden verwijderd" if args.dry_run else "verwijderd"
    print(
        f"{conversations} gesprekken ({events} gebeurtenissen) ouder dan "
        f"{args.days:g} dagen {verb}."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
