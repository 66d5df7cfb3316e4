"""Starts and stops the real stack (action server + Rasa server) on free ports.

Used by the end-to-end tests, ``make eval`` and ``make bench``. Every process
listens on 127.0.0.1 only, writes its log into the given work folder, and is
stopped by :meth:`Stack.stop` (also on interpreter exit).
"""

from __future__ import annotations

import atexit
import os
import secrets
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

import jwt
import requests
import requests.adapters

from server.__main__ import ENABLE_API

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
MODEL = ROOT / "models" / "faq.tar.gz"

CREDENTIALS = """\
server.channels.rest.FaqRestInput:
server.channels.lookup.StaffLookupInput:
server.channels.status.StatusInput:
"""

ENDPOINTS = """\
action_endpoint:
  url: "http://127.0.0.1:{action_port}/webhook"
  headers:
    Authorization: Bearer ${{FAQ_ACTION_TOKEN}}
  enable_selective_domain: true
tracker_store:
  type: server.stores.CachedSQLTrackerStore
  dialect: "sqlite"
  db: "{db}"
lock_store:
  type: server.stores.FastInMemoryLockStore
  wait_time: 0.005
"""


class SourceAddressAdapter(requests.adapters.HTTPAdapter):
    """Sends from a chosen loopback address (127.x.y.z), as another client would.

    The whole 127.0.0.0/8 is this machine, so tests and tools can play
    clients at different addresses (nginx's per-client stickiness, the per-IP
    rate limit) without leaving the machine.
    """

    def __init__(self, address: str, **kwargs: Any) -> None:
        self.address = address
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        """Creates the connection pool bound to the source address."""
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


def session_from(address: str) -> requests.Session:
    """Returns a ``requests`` session that connects from ``address``."""
    session = requests.Session()
    adapter = SourceAddressAdapter(address)
    session.mount("http://", adapter)
    return session


def free_port() -> int:
    """Returns a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(url: str, process: subprocess.Popen, timeout: float, log: Path) -> None:
    """Polls ``url`` until it answers 200, the process dies, or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: process exited; log tail:\n{tail(log)}")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} not up after {timeout:.0f}s; log tail:\n{tail(log)}")


def tail(path: Path, lines: int = 30) -> str:
    """Returns the last lines of a log file."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


class Stack:
    """The action server and the Rasa server of this project, on free ports."""

    def __init__(
        self,
        workdir: Path,
        model: Path = MODEL,
        env: Optional[Dict[str, str]] = None,
        rasa_args: Optional[List[str]] = None,
        api: bool = False,
    ) -> None:
        """Prepares config files in ``workdir``; starts nothing yet.

        Args:
            workdir: Folder for logs, the SQLite tracker store and config files.
            model: The trained model archive.
            env: Extra environment variables for both servers.
            rasa_args: Extra arguments for ``rasa run``.
            api: Whether to open Rasa's HTTP API (JWT-protected) for ``parse``.
        """
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.model = model
        self.action_port = free_port()
        self.rasa_port = free_port()
        self.url = f"http://127.0.0.1:{self.rasa_port}"
        self.action_url = f"http://127.0.0.1:{self.action_port}"
        self.db = self.workdir / "tracker.db"
        #: Server-to-server REST token: the harness names its conversations.
        self.rest_token = secrets.token_hex(16)
        self.staff_token = secrets.token_hex(16)
        self.jwt_secret = secrets.token_hex(32) if api else None
        self.env = {
            **os.environ,
            "RASA_TELEMETRY_ENABLED": "false",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
            "ACTIONS_HOST": "127.0.0.1",
            "ACTIONS_PORT": str(self.action_port),
            "FAQ_ACTION_TOKEN": secrets.token_hex(16),
            "FAQ_SESSION_SECRET": secrets.token_hex(32),
            "FAQ_REST_TOKEN": self.rest_token,
            "FAQ_STAFF_TOKEN": self.staff_token,
            # The harness drives many conversations from one address.
            "FAQ_RATE_PER_IP": "0",
            "FAQ_RATE_PER_CONVERSATION": "0",
            **(env or {}),
        }
        if self.jwt_secret:
            self.env["RASA_JWT_SECRET"] = self.jwt_secret
        self.rasa_args = list(rasa_args or [])
        (self.workdir / "credentials.yml").write_text(CREDENTIALS)
        (self.workdir / "endpoints.yml").write_text(
            ENDPOINTS.format(action_port=self.action_port, db=self.db)
        )
        self.actions: Optional[subprocess.Popen] = None
        self.rasa: Optional[subprocess.Popen] = None
        self.startup_seconds: Dict[str, float] = {}
        atexit.register(self.stop)

    def _spawn(self, name: str, args: List[str]) -> subprocess.Popen:
        log = open(self.workdir / f"{name}.log", "ab")  # - owned by Popen
        return subprocess.Popen(
            args,
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def start_actions(self, timeout: float = 90) -> None:
        """Starts the rasa-sdk action server and waits for /health."""
        started = time.monotonic()
        self.actions = self._spawn(
            "actions",
            [str(BIN / "python"), "-m", "actions"],
        )
        wait_until(
            f"{self.action_url}/health",
            self.actions,
            timeout,
            self.workdir / "actions.log",
        )
        self.startup_seconds["actions"] = time.monotonic() - started

    def start_rasa(self, timeout: float = 180) -> None:
        """Starts the Rasa server with the REST channel and waits until it serves."""
        started = time.monotonic()
        self.rasa = self._spawn(
            "rasa",
            [
                str(BIN / "python"),
                "-m",
                "server",
                "run",
                "--model",
                str(self.model),
                "--interface",
                "127.0.0.1",
                "--port",
                str(self.rasa_port),
                # Only with a JWT secret: ``python -m server`` then adds
                # --jwt-secret from RASA_JWT_SECRET (never on this command line,
                # where the process list would show it) and refuses without it.
                *([ENABLE_API] if self.jwt_secret else []),
                "--credentials",
                str(self.workdir / "credentials.yml"),
                "--endpoints",
                str(self.workdir / "endpoints.yml"),
                *self.rasa_args,
            ],
        )
        wait_until(
            f"{self.url}/webhooks/rest/", self.rasa, timeout, self.workdir / "rasa.log"
        )
        self.startup_seconds["rasa"] = time.monotonic() - started

    @staticmethod
    def _terminate(process: Optional[subprocess.Popen]) -> None:
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=20)
        except (subprocess.TimeoutExpired, ProcessLookupError):
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait(timeout=10)

    def stop_actions(self) -> None:
        """Stops the action server."""
        self._terminate(self.actions)
        self.actions = None

    def stop_rasa(self) -> None:
        """Stops the Rasa server."""
        self._terminate(self.rasa)
        self.rasa = None

    def stop(self) -> None:
        """Stops everything this stack started."""
        self.stop_rasa()
        self.stop_actions()

    def break_database(self) -> None:
        """Takes the tracker store away: deletes the SQLite file."""
        self.db.unlink()

    def private_paths(self) -> List[Path]:
        """Files that must be readable by their owner only."""
        return [self.db]

    def logs(self) -> Dict[str, str]:
        """The servers' logs by file name."""
        return {
            name: (self.workdir / name).read_text(errors="replace")
            for name in ("rasa.log", "actions.log")
        }

    def status(self) -> Dict[str, Any]:
        """Returns ``GET /webhooks/status/``."""
        return requests.get(f"{self.url}/webhooks/status/", timeout=10).json()

    def pids(self) -> Dict[str, int]:
        """Returns the process ids of the running servers."""
        return {
            name: p.pid
            for name, p in (("actions", self.actions), ("rasa", self.rasa))
            if p is not None and p.poll() is None
        }

    def send(
        self, sender: str, text: str, timeout: float = 60, **kwargs: Any
    ) -> List[Dict[str, Any]]:
        """Sends one user message over REST and returns the bot's messages.

        The harness is a server-to-server client (``FAQ_REST_TOKEN``), so it
        names its conversations itself (stored as ``rest-api:<sender>``).
        """
        headers = {"Authorization": f"Bearer {self.rest_token}", "X-Session-Id": sender}
        headers.update(kwargs.pop("headers", None) or {})
        response = requests.post(
            f"{self.url}/webhooks/rest/webhook",
            json={"sender": sender, "message": text},
            timeout=timeout,
            headers=headers,
            **kwargs,
        )
        response.raise_for_status()
        return response.json()

    def parse(self, text: str) -> Dict[str, Any]:
        """Returns Rasa's NLU parse of a text (``/model/parse``; needs ``api``)."""
        if not self.jwt_secret:
            raise RuntimeError("Stack(api=True) is needed for parse()")
        token = jwt.encode(
            {"user": {"username": "tools", "role": "admin"}},
            self.jwt_secret,
            algorithm="HS256",
        )
        response = requests.post(
            f"{self.url}/model/parse",
            json={"text": text},
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        response.raise_for_status()
        return response.json()

    def lookup(self, question: str) -> Dict[str, Any]:
        """Asks the staff lookup route (with the staff token) for top topics."""
        response = requests.post(
            f"{self.url}/webhooks/lookup/query",
            json={"q": question},
            headers={"Authorization": f"Bearer {self.staff_token}"},
            timeout=30,
        )
        response.raise_for_status()
        return response.json()


# ------------------------------------------------------------ make stack


#: Where ``make stack`` keeps its state, logs and local secrets.
STACK_DIR = ROOT / "var" / "stack"
SECRETS_DIR = ROOT / "var" / "secrets"


def _secret(env_name: str, file_name: str) -> str:
    value = os.environ.get(env_name, "").strip()
    if value:
        return value
    try:
        return (SECRETS_DIR / file_name).read_text().strip()
    except OSError as error:
        raise RuntimeError(
            f"{env_name} is not set and var/secrets/{file_name} is missing: "
            "is the stack running (make stack)?"
        ) from error


def _ports(env_name: str, default: str) -> List[int]:
    return [int(p) for p in (os.environ.get(env_name) or default).split()]


class RemoteStack:
    """The running ``make stack`` (nginx in front), with :class:`Stack`'s methods.

    The end-to-end tests talk to it through its one public entry; what they
    do to the servers (stop, restart, break the database) is done through
    ``scripts/stack.sh ctl`` (supervisord), and :meth:`stop` brings every
    process back up, so the stack is left as it was found.
    """

    def __init__(self, url: str) -> None:
        """Connects to the stack at ``url`` (its nginx entry)."""
        self.url = url.rstrip("/")
        self.workdir = STACK_DIR / "log"
        self.rest_token = _secret("FAQ_REST_TOKEN", "stack-rest-token")
        self.staff_token = _secret("FAQ_STAFF_TOKEN", "stack-staff-token")
        self.jwt_secret: Optional[str] = None
        self.rasa_ports = _ports("STACK_RASA_PORTS", "5101 5102")
        self.action_ports = _ports("STACK_ACTIONS_PORTS", "5151 5152")
        self.pg_port = _ports("STACK_PG_PORT", "5433")[0]
        #: The port a fake action server may take once the real ones stopped.
        self.action_port = self.action_ports[0]
        self.replica_urls = [f"http://127.0.0.1:{p}" for p in self.rasa_ports]
        self.startup_seconds: Dict[str, float] = {}

    @staticmethod
    def ctl(*args: str, timeout: float = 120) -> str:
        """Runs ``scripts/stack.sh ctl …`` (supervisorctl) and returns its output."""
        done = subprocess.run(
            [str(ROOT / "scripts" / "stack.sh"), "ctl", *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        return done.stdout + done.stderr

    def programs(self, prefix: str) -> List[str]:
        """Returns the supervisord program names starting with ``prefix``."""
        count = len(self.rasa_ports if prefix == "rasa" else self.action_ports)
        return [f"{prefix}{n}" for n in range(1, count + 1)]

    def wait_healthy(self, timeout: float = 300) -> None:
        """Waits until PostgreSQL, every replica, action server and nginx answer.

        A turn taken while PostgreSQL is still starting is (rightly) not
        stored, so a test that follows a database fault waits for it too.
        """
        deadline = time.monotonic() + timeout
        while (
            subprocess.run(
                ["pg_isready", "-q", "-h", "127.0.0.1", "-p", str(self.pg_port)],
                check=False,
            ).returncode
            != 0
        ):
            if time.monotonic() > deadline:
                raise RuntimeError(f"PostgreSQL on {self.pg_port} not up")
            time.sleep(0.5)
        urls = [f"{u}/webhooks/rest/" for u in self.replica_urls]
        urls += [f"http://127.0.0.1:{p}/health" for p in self.action_ports]
        urls.append(f"{self.url}/webhooks/rest/")
        for url in urls:
            while True:
                try:
                    if requests.get(url, timeout=3).status_code == 200:
                        break
                except requests.RequestException:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{url} not up after {timeout:.0f}s")
                time.sleep(0.5)

    def start_actions(self, timeout: float = 90) -> None:
        """Starts both action servers (supervisord) and waits for them."""
        started = time.monotonic()
        self.ctl("start", *self.programs("actions"))
        self.wait_healthy(timeout)
        self.startup_seconds["actions"] = time.monotonic() - started

    def stop_actions(self) -> None:
        """Stops both action servers."""
        self.ctl("stop", *self.programs("actions"))

    def start_rasa(self, timeout: float = 300) -> None:
        """Starts both Rasa replicas and waits until they serve."""
        started = time.monotonic()
        self.ctl("start", *self.programs("rasa"))
        self.wait_healthy(timeout)
        self.startup_seconds["rasa"] = time.monotonic() - started

    def stop_rasa(self) -> None:
        """Stops both Rasa replicas."""
        self.ctl("stop", *self.programs("rasa"))

    def break_database(self) -> None:
        """Takes the tracker store away: PostgreSQL stops (:meth:`stop` restarts)."""
        self.ctl("stop", "postgres")

    def private_paths(self) -> List[Path]:
        """Files and folders that must be readable by their owner only."""
        # var/stack/data points to the daemons' folders when they live outside.
        data = STACK_DIR / "data" if (STACK_DIR / "data").exists() else STACK_DIR
        return [
            data / "pg" / "data",
            data / "redis",
            STACK_DIR / "log",
            STACK_DIR / "conf",
            STACK_DIR / "supervisord.conf",
            SECRETS_DIR,
        ]

    def logs(self) -> Dict[str, str]:
        """Every log of the stack by file name (servers, nginx, databases)."""
        return {
            path.name: path.read_text(errors="replace")
            for path in sorted(self.workdir.glob("*.log"))
        }

    def status(self) -> Dict[str, Any]:
        """``/webhooks/status/`` of every replica, merged.

        Each replica counts its own faults; the stack is "degraded" when one is.
        """
        merged: Dict[str, Any] = {"status": "ok", "counters": {}, "model_loaded": True}
        for url in self.replica_urls:
            one = requests.get(f"{url}/webhooks/status/", timeout=10).json()
            if one["status"] != "ok":
                merged["status"] = one["status"]
            merged["model_loaded"] = merged["model_loaded"] and one["model_loaded"]
            for name, count in one["counters"].items():
                merged["counters"][name] = merged["counters"].get(name, 0) + count
        return merged

    def stop(self) -> None:
        """Brings back every process a test stopped (the stack keeps running)."""
        self.ctl("start", "all")
        self.wait_healthy()

    def pids(self) -> Dict[str, int]:
        """Returns the process ids of the stack's processes, by program name."""
        pids = {}
        for line in self.ctl("status").splitlines():
            parts = line.split()
            if len(parts) >= 4 and parts[1] == "RUNNING" and parts[2] == "pid":
                pids[parts[0]] = int(parts[3].rstrip(","))
        return pids

    send = Stack.send
    lookup = Stack.lookup


def make_stack(
    workdir: Path, env: Optional[Dict[str, str]] = None, **kwargs: Any
) -> Any:
    """Returns the stack the tests talk to.

    With ``FAQ_STACK_URL`` set (``make test-stack``) the running ``make stack``
    behind nginx; else a :class:`Stack` of its own, started by the caller.
    """
    url = os.environ.get("FAQ_STACK_URL", "").strip()
    if url:
        return RemoteStack(url)
    return Stack(workdir, env=env, **kwargs)


def is_remote(stack: Any) -> bool:
    """Whether ``stack`` is the running ``make stack``."""
    return isinstance(stack, RemoteStack)
