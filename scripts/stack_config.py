"""Renders the configuration of ``make stack`` from ``deploy/`` into var/stack/.

Called by ``scripts/stack.sh``, which has put the secrets and users into the
environment. Every ``{{NAME}}`` in a template must get a value, else this
stops with an error; files are written readable by their owner only (the
shell script hands each to its daemon's user).

Usage: ``python scripts/stack_config.py <var/stack folder>``
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Dict, Mapping

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
PLACEHOLDER = re.compile(r"\{\{([A-Z0-9_]+)\}\}")

#: Settings passed on from the caller's environment to the app processes.
PASSED_ON = re.compile(r"(FAQ|TWILIO)_[A-Z0-9_]+")

#: Set by the stack itself; never taken from the caller.
STACK_OWNED = {
    "FAQ_ACTION_TOKEN",
    "FAQ_SESSION_SECRET",
    "FAQ_REST_TOKEN",
    "FAQ_STAFF_TOKEN",
    "FAQ_PG_PASSWORD",
    "FAQ_REDIS_PASSWORD",
    "FAQ_REDIS_URL",
    "FAQ_RATE_LIMIT_STORAGE",
}

COMMON = {
    "RASA_TELEMETRY_ENABLED": "false",
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
    "PYTHONDONTWRITEBYTECODE": "1",
    "LANG": "C.UTF-8",
}


def render(template: str, values: Mapping[str, str]) -> str:
    """Fills every ``{{NAME}}``; raises KeyError for a name without a value."""

    def value(match: re.Match) -> str:
        return values[match.group(1)]

    return PLACEHOLDER.sub(value, template)


def supervisor_env(env: Mapping[str, str]) -> str:
    """Formats an ``environment=`` value for supervisord (``%`` doubled)."""
    parts = []
    for key, value in sorted(env.items()):
        if '"' in value or "\n" in value:
            raise ValueError(f"{key}: quotes and line breaks are not supported")
        parts.append(f'{key}="{value.replace("%", "%%")}"')
    return ",".join(parts)


def settings(stack: Path, environ: Mapping[str, str]) -> Dict[str, str]:
    """Returns every template value, from the environment and defaults."""
    rasa_ports = environ["STACK_RASA_PORTS"].split()
    action_ports = environ["STACK_ACTIONS_PORTS"].split()
    redis_port = environ["STACK_REDIS_PORT"]
    redis_password = environ["FAQ_REDIS_PASSWORD"]
    redis = f"redis://:{redis_password}@127.0.0.1:{redis_port}"
    passed = {
        k: v
        for k, v in environ.items()
        if PASSED_ON.fullmatch(k) and k not in STACK_OWNED
    }
    home = str(stack / "home")
    base = {**passed, **COMMON, "HOME": home, "TMPDIR": str(stack / "home")}
    actions = {**base, "ACTIONS_HOST": "127.0.0.1"}
    actions["FAQ_ACTION_TOKEN"] = environ["FAQ_ACTION_TOKEN"]
    rasa = {
        **base,
        "FAQ_ACTION_TOKEN": environ["FAQ_ACTION_TOKEN"],
        "FAQ_SESSION_SECRET": environ["FAQ_SESSION_SECRET"],
        "FAQ_REST_TOKEN": environ["FAQ_REST_TOKEN"],
        "FAQ_STAFF_TOKEN": environ["FAQ_STAFF_TOKEN"],
        "FAQ_PG_PASSWORD": environ["FAQ_PG_PASSWORD"],
        "FAQ_REDIS_PASSWORD": redis_password,
        "FAQ_REDIS_URL": f"{redis}/0",
        "FAQ_RATE_LIMIT_STORAGE": f"{redis}/2",
        # WhatsApp's handled message ids and queue: shared by the replicas, so
        # a retried delivery is recognised whichever replica receives it.
        "FAQ_WHATSAPP_STORE_URL": (
            f"postgresql://faq:{environ['FAQ_PG_PASSWORD']}@127.0.0.1:"
            f"{environ['STACK_PG_PORT']}/faq"
        ),
        # nginx is the one proxy in front: take the client from X-Forwarded-For.
        "SANIC_PROXIES_COUNT": "1",
        "SQL_POOL_SIZE": "8",
        "SQL_MAX_OVERFLOW": "8",
    }
    values = {
        "ROOT": str(ROOT),
        "STACK": str(stack),
        "DATA": environ.get("STACK_DATA") or str(stack),
        "PYTHON": str(ROOT / ".venv" / "bin" / "python"),
        "MODEL": environ.get("RASA_MODEL") or str(ROOT / "models" / "faq.tar.gz"),
        "PG_BIN": environ["PG_BIN"],
        "PG_USER": environ["PG_USER"],
        "REDIS_USER": environ["REDIS_USER"],
        "APP_USER": environ["APP_USER"],
        "USER_LINE": (
            f"user {environ['NGINX_USER']};" if environ.get("NGINX_USER") else ""
        ),
        "STACK_PORT": environ["STACK_PORT"],
        "ACTIONS_PROXY_PORT": environ["STACK_ACTIONS_PROXY_PORT"],
        "PG_PORT": environ["STACK_PG_PORT"],
        "REDIS_PORT": redis_port,
        "REDIS_PASSWORD": redis_password,
        "MAX_BODY_BYTES": environ.get("FAQ_MAX_BODY_BYTES") or "65536",
        "NGINX_RATE": environ.get("STACK_NGINX_RATE") or "2r/s",
        "NGINX_BURST": environ.get("STACK_NGINX_BURST") or "30",
    }
    for n, port in enumerate(rasa_ports, start=1):
        values[f"RASA_PORT_{n}"] = port
        values[f"ENV_RASA_{n}"] = supervisor_env({**rasa, "FAQ_REPLICA": f"rasa{n}"})
    for n, port in enumerate(action_ports, start=1):
        values[f"ACTIONS_PORT_{n}"] = port
        values[f"ENV_ACTIONS_{n}"] = supervisor_env({**actions, "ACTIONS_PORT": port})
    return values


def write_private(path: Path, text: str) -> None:
    """Writes ``text`` to ``path`` with mode 0600."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(path, 0o600)


#: template in deploy/ -> file under var/stack/ (STACK) or the daemons' folder
OUTPUTS = {
    "supervisord.conf.template": ("STACK", "supervisord.conf"),
    "nginx.conf.template": ("STACK", "nginx/nginx.conf"),
    "endpoints.yml.template": ("STACK", "conf/endpoints.yml"),
    "redis.conf.template": ("DATA", "redis/redis.conf"),
    "postgresql.conf.template": ("DATA", "pg/postgresql.conf"),
    "pg_hba.conf": ("DATA", "pg/pg_hba.conf"),
}


def main() -> int:
    """Renders every template into the stack folder given as argument."""
    stack = Path(sys.argv[1]).resolve()
    values = settings(stack, os.environ)
    for template, (folder, target) in OUTPUTS.items():
        text = (DEPLOY / template).read_text(encoding="utf-8")
        write_private(Path(values[folder]) / target, render(text, values))
    return 0


if __name__ == "__main__":
    sys.exit(main())
