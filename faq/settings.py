"""Settings that both processes and the tools need, from environment variables.

Each process has its own settings module as well (``actions.config`` for the
action server, ``server.settings`` for the Rasa server); this one holds only
what they share, plus the helper they all read variables with.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Optional, Text

PROJECT_DIR = Path(__file__).resolve().parent.parent


def env(name: Text, default: Optional[Text] = None) -> Optional[Text]:
    """Returns an environment variable, treating an empty value as unset."""
    value = os.environ.get(name, "").strip()
    return value or default


def is_loopback(host: Text) -> bool:
    """Returns whether ``host`` is a loopback address or ``localhost``."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def env_int(name: Text, default: int) -> int:
    """Returns an integer environment variable, or ``default`` when unset."""
    return int(env(name, str(default)) or default)


def env_float(name: Text, default: float) -> float:
    """Returns a float environment variable, or ``default`` when unset."""
    return float(env(name, str(default)) or default)


#: The structured content file: the only place where article answers live.
CONTENT_FILE = Path(
    env("FAQ_CONTENT_FILE", str(PROJECT_DIR / "content" / "kennisbank.yml"))
    or PROJECT_DIR / "content" / "kennisbank.yml"
)

#: The article text every ``basis`` quote in the content file must come from
#: (a copy of the client's article, committed so a clean clone works).
ARTICLE_FILE = Path(
    env("FAQ_ARTICLE_FILE", str(PROJECT_DIR / "content" / "artikel.txt"))
    or PROJECT_DIR / "content" / "artikel.txt"
)

#: How often (seconds) a running process looks for a changed content file;
#: 0 turns live reloading off.
CONTENT_POLL_SECONDS = env_float("FAQ_CONTENT_POLL_SECONDS", 1.0)

#: Seconds the coverage check of a changed content file may take (it runs in
#: a child process that loads spaCy); 0 turns the check on reload off.
CONTENT_CHECK_TIMEOUT = env_float("FAQ_CONTENT_CHECK_TIMEOUT", 120.0)
