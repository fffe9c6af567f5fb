"""The nginx configuration deploy/cluster.py writes: the local cluster's, and the site for a
production server (`deploy/cluster.py nginx-site`), both accepted by `nginx -t`."""

import re
import subprocess
from pathlib import Path

import pytest

from deploy import cluster


def nginx_accepts(config: Path, prefix: Path) -> subprocess.CompletedProcess[str]:
    nginx = cluster.nginx_binary()
    return subprocess.run(  # noqa: S603 - nginx's own check of a file we wrote
        [nginx, "-t", "-p", str(prefix), "-c", str(config), "-e", str(prefix / "error.log")],
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_local_cluster_config(tmp_path: Path) -> None:
    plan = cluster.Plan(
        port=8080, app_ports=(8101, 8102, 8103), var=tmp_path, static_root=tmp_path / "static"
    )
    config = cluster.write_nginx_config(plan, cluster.nginx_binary())
    checked = nginx_accepts(config, tmp_path)
    assert checked.returncode == 0, checked.stderr
    text = config.read_text()
    assert "listen 127.0.0.1:8080;" in text
    assert re.findall(r"server (127\.0\.0\.1:\d+) max_fails", text) == [
        "127.0.0.1:8101",
        "127.0.0.1:8102",
        "127.0.0.1:8103",
    ]
    assert f"pid {tmp_path}/nginx.pid;" in text and "daemon off;" in text
    # 500 benchmark users hold 1,000 connections (theirs and the app servers'): room for more.
    assert "worker_connections 8192;" in text and "worker_rlimit_nofile 16384;" in text


def test_the_production_site(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = cluster.main(
        [
            "nginx-site",
            "--upstream=127.0.0.1:8001",
            "--upstream=127.0.0.1:8002",
            "--listen=127.0.0.1:18080",
            "--server-name=ocsc.example.org",
            "--static-root=/srv/ocsc/var/static",
            "--upload-max-bytes=5242880",
        ]
    )
    assert code == 0
    site = capsys.readouterr().out
    temp = tmp_path / "temp"
    temp.mkdir()
    config = tmp_path / "nginx.conf"
    config.write_text(
        f"pid {tmp_path}/nginx.pid;\nevents {{}}\nhttp {{\n"
        + "".join(f"{kind}_temp_path {temp}/{kind};\n" for kind in ("client_body", "proxy"))
        + f"{site}}}\n"
    )
    checked = nginx_accepts(config, tmp_path)
    assert checked.returncode == 0, checked.stderr

    assert "server_name ocsc.example.org;" in site
    assert "client_max_body_size 6291456;" in site  # the largest file, and 1 MiB of form
    assert "proxy_next_upstream error timeout;" in site
    assert "keepalive 32;" in site and 'proxy_set_header Connection "";' in site
    live = site[site.index("location /live/") :]
    assert "proxy_buffering off;" in live[: live.index("}")]
    assert "alias /srv/ocsc/var/static/;" in site


def test_a_missing_nginx_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(cluster.os, "access", lambda path, mode: False)
    with pytest.raises(cluster.ClusterError, match="nginx is not installed"):
        cluster.nginx_binary({})
