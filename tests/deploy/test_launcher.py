"""deploy/cluster.py: what it reads from the environment, and what it says when something
is missing."""

import socket
from pathlib import Path

import pytest

from deploy import cluster


def test_the_defaults() -> None:
    plan = cluster.plan_from_env({})
    assert plan.url == "http://127.0.0.1:8080"
    assert plan.app_ports == (8101, 8102)
    assert (plan.app_processes, plan.workers) == (1, 1)
    assert plan.database_url == "postgres://postgres@127.0.0.1:5432/ocsc"
    assert plan.static_root == cluster.ROOT / "var" / "static"


def test_the_parameters(tmp_path: Path) -> None:
    plan = cluster.plan_from_env(
        {
            "PORT": "9000",
            "APP_SERVERS": "3",
            "APP_PROCESSES": "2",
            "WORKERS": "2",
            "FIRST_APP_PORT": "9101",
            "DATA_DIR": str(tmp_path),
        }
    )
    assert plan.url == "http://127.0.0.1:9000"
    assert plan.app_ports == (9101, 9102, 9103)
    assert (plan.app_processes, plan.workers) == (2, 2)
    assert (plan.var, plan.static_root) == (tmp_path / "cluster", tmp_path / "static")
    assert cluster.app_server_command(9101, 2)[-2:] == ["--workers", "2"]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"APP_SERVERS": "two"}, "APP_SERVERS='two': expected a whole number"),
        ({"APP_SERVERS": "0"}, "APP_SERVERS=0: expected at least 1"),
    ],
)
def test_a_wrong_parameter_is_named(env: dict[str, str], message: str) -> None:
    with pytest.raises(cluster.ClusterError, match=message):
        cluster.plan_from_env(env)


def test_the_app_servers_trust_one_proxy_and_production_needs_a_secret(tmp_path: Path) -> None:
    plan = cluster.Plan(var=tmp_path)
    env = cluster.app_env(plan, {"TRUSTED_PROXY_HOPS": "0"})
    assert env["TRUSTED_PROXY_HOPS"] == "1"
    assert env["DEBUG"] == "0"
    assert len(env["SECRET_KEY"]) > 50
    assert cluster.app_env(plan, {})["SECRET_KEY"] == env["SECRET_KEY"]  # kept
    assert cluster.app_env(plan, {"SECRET_KEY": "mine"})["SECRET_KEY"] == "mine"


def test_postgresql_not_answering_is_said_clearly() -> None:
    port = cluster.free_port()  # nothing listens there
    with pytest.raises(cluster.ClusterError, match=f"PostgreSQL does not answer at .*:{port}/"):
        cluster.check_postgresql(f"postgres://postgres:hush@127.0.0.1:{port}/ocsc")


def test_a_database_other_than_postgresql_is_refused() -> None:
    with pytest.raises(cluster.ClusterError, match="the cluster needs PostgreSQL"):
        cluster.check_postgresql("sqlite:///var/ocsc.sqlite3")


def test_passwords_stay_out_of_messages() -> None:
    assert (
        cluster.redacted("postgres://ocsc:s3cret@db:5432/ocsc")
        == "postgres://ocsc:***@db:5432/ocsc"
    )


def test_a_port_in_use_is_named() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(cluster.ClusterError, match=f"127.0.0.1:{port} already in use"):
            cluster.check_ports_free([port])
