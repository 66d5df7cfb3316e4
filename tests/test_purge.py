"""make purge: conversations older than the retention period are deleted."""

from __future__ import annotations

import subprocess
import sys
import time

import sqlalchemy as sa
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from server.purge import purge
from server.stores import CachedSQLTrackerStore
from tests.helpers import ROOT


def conversation(sender: str, age_days: float, domain: Domain) -> DialogueStateTracker:
    stamp = time.time() - age_days * 86400
    events = [
        ActionExecuted("action_listen", timestamp=stamp),
        UserUttered("hoi", {"name": "groet", "confidence": 1.0}, timestamp=stamp),
    ]
    return DialogueStateTracker.from_events(sender, events, domain.slots)


async def test_purge_deletes_only_old_conversations(tmp_path):
    domain = Domain.load(str(ROOT / "domain.yml"))
    db = tmp_path / "tracker.db"
    store = CachedSQLTrackerStore(domain=domain, dialect="sqlite", db=str(db))
    await store.save(conversation("rest:oud", 200, domain))
    await store.save(conversation("rest:nieuw", 1, domain))
    engine = sa.create_engine(f"sqlite:///{db}")

    assert purge(engine, days=90, dry_run=True) == (1, 2)
    assert purge(engine, days=90) == (1, 2)
    assert purge(engine, days=90) == (0, 0)

    fresh = CachedSQLTrackerStore(domain=domain, dialect="sqlite", db=str(db))
    assert set(await fresh.keys()) == {"rest:nieuw"}


def test_purge_cli_reads_the_store_from_endpoints(tmp_path):
    (tmp_path / "endpoints.yml").write_text(
        f'tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: "{tmp_path}/t.db"\n'
    )
    sa.create_engine(f"sqlite:///{tmp_path}/t.db").connect().execute(
        sa.text("CREATE TABLE events (sender_id TEXT, timestamp FLOAT)")
    )
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "server.purge",
            "--days",
            "30",
            "--endpoints",
            str(tmp_path / "endpoints.yml"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert "0 gesprekken" in out.stdout and "verwijderd" in out.stdout
