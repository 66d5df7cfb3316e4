"""make stack's configuration: rendered completely, secrets kept out of files."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess

import pytest
import yaml

from scripts import stack_config
from tests.helpers import ROOT

SECRETS = {
    "FAQ_ACTION_TOKEN": "a" * 32,
    "FAQ_SESSION_SECRET": "s" * 64,
    "FAQ_REST_TOKEN": "r" * 32,
    "FAQ_STAFF_TOKEN": "t" * 32,
    "FAQ_PG_PASSWORD": "p" * 32,
    "FAQ_REDIS_PASSWORD": "q" * 32,
}
ENV = {
    **SECRETS,
    "STACK_PORT": "8088",
    "STACK_RASA_PORTS": "5101 5102",
    "STACK_ACTIONS_PORTS": "5151 5152",
    "STACK_ACTIONS_PROXY_PORT": "5150",
    "STACK_PG_PORT": "5433",
    "STACK_REDIS_PORT": "6380",
    "PG_BIN": "/usr/lib/postgresql/15/bin",
    "PG_USER": "postgres",
    "REDIS_USER": "redis",
    "APP_USER": "root",
    "NGINX_USER": "www-data",
    "FAQ_KLANTENSERVICE_URL": "https://example.org/contact?a=100%",
    "FAQ_ACTION_TOKEN_UNRELATED": "x",
    "HOME": "/root",
}


@pytest.fixture
def rendered(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "environ", dict(ENV))
    monkeypatch.setattr("sys.argv", ["stack_config.py", str(tmp_path)])
    assert stack_config.main() == 0
    return tmp_path


def test_every_template_is_filled_in_and_private(rendered):
    for _, target in stack_config.OUTPUTS.values():
        path = rendered / target
        text = path.read_text()
        assert "{{" not in text, target
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, target


def test_the_replicas_endpoints_name_the_shared_stores_and_no_secret(rendered):
    text = (rendered / "conf" / "endpoints.yml").read_text()
    for secret in SECRETS.values():
        assert secret not in text
    endpoints = yaml.safe_load(text)
    assert endpoints["tracker_store"]["dialect"] == "postgresql"
    assert endpoints["tracker_store"]["password"] == "${FAQ_PG_PASSWORD}"
    assert endpoints["tracker_store"]["shared"] is True
    assert endpoints["lock_store"]["type"] == "server.stores.FastRedisLockStore"
    assert endpoints["action_endpoint"]["url"] == "http://127.0.0.1:5150/webhook"


def test_each_replica_gets_the_same_secrets_and_shared_stores(rendered):
    text = (rendered / "supervisord.conf").read_text()
    rasa = [line for line in text.splitlines() if line.startswith("environment=")]
    replica_envs = [line for line in rasa if "FAQ_SESSION_SECRET" in line]
    assert len(replica_envs) == 2
    for line in replica_envs:
        assert f'FAQ_SESSION_SECRET="{SECRETS["FAQ_SESSION_SECRET"]}"' in line
        assert 'SANIC_PROXIES_COUNT="1"' in line
        assert 'FAQ_RATE_LIMIT_STORAGE="redis://:' in line
        assert "FAQ_REDIS_URL=" in line
        # Passed-on settings keep a literal % (supervisord needs it doubled).
        assert "a=100%%" in line
    action_envs = [line for line in rasa if "ACTIONS_PORT" in line]
    assert len(action_envs) == 2
    assert all("FAQ_SESSION_SECRET" not in line for line in action_envs)


def test_supervisord_refuses_values_it_cannot_quote():
    with pytest.raises(ValueError):
        stack_config.supervisor_env({"FAQ_X": 'een "quote"'})


@pytest.mark.skipif(
    shutil.which("nginx") is None and not os.path.exists("/usr/sbin/nginx"),
    reason="nginx is not installed",
)
@pytest.mark.stack
def test_nginx_accepts_the_rendered_configuration(rendered):
    for folder in ("run", "log", "nginx-tmp"):
        (rendered / folder).mkdir(parents=True, exist_ok=True)
    conf = rendered / "nginx" / "nginx.conf"
    text = conf.read_text()
    if os.geteuid() != 0:
        text = text.replace("user www-data;", "")
    conf.write_text(text)
    done = subprocess.run(
        ["/usr/sbin/nginx", "-t", "-c", str(conf)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr


def test_the_stack_script_parses():
    done = subprocess.run(
        ["bash", "-n", str(ROOT / "scripts" / "stack.sh")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr


def test_action_calls_may_be_larger_than_user_requests(rendered):
    # An action call carries up to 200 recent events: nginx must not cap it
    # at the 64 KiB a user's message may have (the chaos run found that).
    text = (rendered / "nginx" / "nginx.conf").read_text()
    internal = text.split("listen 127.0.0.1:5150;", 1)[1]
    assert "client_max_body_size 16m;" in internal.split("location", 1)[0]


def test_nginx_logs_only_the_public_routes_never_a_typed_path(rendered):
    text = (rendered / "nginx" / "nginx.conf").read_text()
    log_format = text.split("log_format faq", 1)[1].split(";", 1)[0]
    assert "$uri" not in log_format and "$request_uri" not in log_format
    assert "$request " not in log_format and "$args" not in log_format
    assert "$log_path" in log_format
