"""The staff tools on a shared PostgreSQL tracker store (several Rasa servers).

Starts a throw-away PostgreSQL server (Debian's ``postgresql`` package) on a
free loopback port, lets Rasa's ``SQLTrackerStore`` write the same invented
conversations as ``test_insights.py`` into it, and checks that ``make
insights`` reads it through ``endpoints.yml`` with the same figures as from
SQLite. Skipped where PostgreSQL is not installed.
"""

from __future__ import annotations

import datetime as dt
import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
import sqlalchemy as sa

from staff.insights import main, read_insights
from tests.conversations import save
from tests.helpers import free_port
from tests.test_insights import CONVERSATIONS, DAY1, DAY2

BINARIES = sorted(glob.glob("/usr/lib/postgresql/*/bin"))


def _as_postgres(args, **kwargs):
    """Runs a PostgreSQL program (as the postgres user when we are root)."""
    if os.geteuid() == 0:
        args = ["runuser", "-u", "postgres", "--", *args]
    return subprocess.run(args, check=True, capture_output=True, timeout=60, **kwargs)


@pytest.fixture(scope="module")
def postgres():
    if not BINARIES or (os.geteuid() == 0 and not shutil.which("runuser")):
        pytest.skip("PostgreSQL is not installed (apt postgresql)")
    bin_dir = Path(BINARIES[-1])
    folder = Path(tempfile.mkdtemp(prefix="faq-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    port = free_port()
    data = folder / "data"
    _as_postgres(
        [
            str(bin_dir / "initdb"),
            "-D",
            str(data),
            "-A",
            "trust",
            "-U",
            "faq",
            "-E",
            "UTF8",
        ]
    )
    _as_postgres(
        [
            str(bin_dir / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(folder / "log"),
            "-w",
            "-o",
            f"-p {port} -k {folder} -c listen_addresses=127.0.0.1",
            "start",
        ]
    )
    try:
        admin = sa.create_engine(
            f"postgresql://faq@127.0.0.1:{port}/postgres", isolation_level="AUTOCOMMIT"
        )
        with admin.connect() as connection:
            connection.execute(sa.text("CREATE DATABASE gesprekken"))
        admin.dispose()
        yield port
    finally:
        _as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"])
        shutil.rmtree(folder, ignore_errors=True)


def test_the_report_reads_a_shared_postgresql_store_like_sqlite(
    postgres, tmp_path, capsys
):
    first, last = dt.date.fromisoformat(DAY1), dt.date.fromisoformat(DAY2)
    save(tmp_path / "tracker.db", CONVERSATIONS)
    insights = read_insights(
        sa.create_engine(f"sqlite:///{tmp_path}/tracker.db"), first, last
    )
    settings = {
        "dialect": "postgresql",
        "host": "127.0.0.1",
        "port": postgres,
        "db": "gesprekken",
        "username": "faq",
    }
    save(settings, CONVERSATIONS)

    engine = sa.create_engine(f"postgresql://faq@127.0.0.1:{postgres}/gesprekken")
    from_postgres = read_insights(engine, first, last)
    for figure in (
        "conversations",
        "messages",
        "topics",
        "typed",
        "fallback",
        "did_you_mean",
        "handoffs",
        "refusals",
        "helpful",
        "not_helpful",
        "confidence",
        "lengths",
    ):
        assert getattr(from_postgres, figure) == getattr(insights, figure), figure

    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(
        "tracker_store:\n"
        "  type: server.stores.CachedSQLTrackerStore\n"
        '  dialect: "postgresql"\n'
        '  url: "127.0.0.1"\n'
        f"  port: {postgres}\n"
        '  db: "gesprekken"\n'
        '  username: "faq"\n'
    )
    args = ["--endpoints", str(endpoints), "--van", DAY1, "--tot", DAY2]
    assert main([*args, "--out", str(tmp_path / "rapport")]) == 0
    out = capsys.readouterr().out
    assert "Gesprekken: 4" in out and "postgresql" in out
