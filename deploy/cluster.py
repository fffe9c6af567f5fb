"""Start OCSC's production profile on this machine (docs/deploy.md): app servers (uvicorn)
behind nginx, task workers and the timers, all on one PostgreSQL database.

    make cluster                  # or: .venv/bin/python deploy/cluster.py
    APP_SERVERS=3 APP_PROCESSES=2 WORKERS=2 PORT=8080 make cluster
    .venv/bin/python deploy/cluster.py nginx-site --help   # an nginx site for production

Ctrl-C stops everything. The functions are importable: tests/deploy starts the same pieces
(app servers, nginx) with them.
"""

import argparse
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/ocsc"
HOST = "127.0.0.1"
# uvicorn keeps an idle connection from nginx longer than nginx keeps it (UPSTREAM_IDLE), so
# that nginx, not the app server, closes idle connections: nginx never sends a request on a
# connection the server is closing at that moment (it would answer 502 to a POST).
APP_KEEPALIVE_SECONDS = 75
UPSTREAM_IDLE_SECONDS = 60
# On stop, an app server finishes its requests but ends open live streams after this long
# (their clients reconnect to another server and resume).
APP_GRACEFUL_SECONDS = 10
# Room for the multipart envelope and the form fields around the largest allowed file, so
# that the app, not nginx, refuses a file a little too big, with its own message.
BODY_MARGIN_BYTES = 1024 * 1024
# nginx's connections (clients and app servers together): room for about 4,000 requests in
# flight and live streams at once.
WORKER_CONNECTIONS = 8192


class ClusterError(Exception):
    """Something the person starting the cluster must fix; the message says what."""


# Settings ---------------------------------------------------------------------------------


def env_int(environ: Mapping[str, str], name: str, default: int, *, minimum: int = 0) -> int:
    value = environ.get(name, "")
    if value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ClusterError(f"{name}={value!r}: expected a whole number") from None
    if number < minimum:
        raise ClusterError(f"{name}={number}: expected at least {minimum}")
    return number


@dataclass(frozen=True)
class Plan:
    """What to start, read from the environment (`plan_from_env`)."""

    database_url: str = DEFAULT_DATABASE_URL
    port: int = 8080  # nginx, the one address clients use
    app_ports: tuple[int, ...] = (8101, 8102)  # one app server on each
    app_processes: int = 1  # uvicorn --workers of each app server
    workers: int = 1  # manage.py run_worker processes
    var: Path = ROOT / "var" / "cluster"
    static_root: Path = ROOT / "var" / "static"  # STATIC_ROOT of ocsc/settings.py
    upload_max_bytes: int = 10 * 1024 * 1024  # UPLOAD_MAX_BYTES of ocsc/settings.py
    live_stream_seconds: int = 300  # LIVE_STREAM_SECONDS of ocsc/settings.py

    @property
    def app_servers(self) -> int:
        return len(self.app_ports)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"


def plan_from_env(environ: Mapping[str, str]) -> Plan:
    data_dir = Path(environ.get("DATA_DIR") or ROOT / "var")  # as ocsc/settings.py
    app_servers = env_int(environ, "APP_SERVERS", 2, minimum=1)
    first_app_port = env_int(environ, "FIRST_APP_PORT", 8101, minimum=1)
    return Plan(
        database_url=environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
        port=env_int(environ, "PORT", 8080, minimum=1),
        app_ports=tuple(first_app_port + i for i in range(app_servers)),
        app_processes=env_int(environ, "APP_PROCESSES", 1, minimum=1),
        workers=env_int(environ, "WORKERS", 1, minimum=0),
        var=data_dir / "cluster",
        static_root=data_dir / "static",
        upload_max_bytes=env_int(environ, "UPLOAD_MAX_BYTES", 10 * 1024 * 1024, minimum=1),
        live_stream_seconds=env_int(environ, "LIVE_STREAM_SECONDS", 300, minimum=1),
    )


def secret_key(var: Path) -> str:
    """The cluster's SECRET_KEY, made once and kept in var/cluster/secret_key, so that
    sessions survive a restart."""
    path = var / "secret_key"
    if not path.exists():
        var.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)  # readable by its owner only, before it holds the key
        path.write_text(secrets.token_urlsafe(50))
    return path.read_text().strip()


def app_env(plan: Plan, environ: Mapping[str, str]) -> dict[str, str]:
    """The environment of every process of the cluster: the caller's, with what the profile
    needs. Settings the caller set win, except the database and the proxy hop."""
    env = dict(environ)
    env.update(
        DJANGO_SETTINGS_MODULE="ocsc.settings",
        DATABASE_URL=plan.database_url,
        TRUSTED_PROXY_HOPS="1",  # nginx appends the client's address to X-Forwarded-For
        PYTHONUNBUFFERED="1",
    )
    env.setdefault("DEBUG", "0")
    env.setdefault("SITE_URL", plan.url)
    env.setdefault("SECURE_COOKIES", "0")  # plain HTTP on loopback; production has TLS
    env.setdefault("DB_POOL_MAX_SIZE", "4")
    if env["DEBUG"].lower() not in {"1", "true", "yes", "on"} and not env.get("SECRET_KEY"):
        env["SECRET_KEY"] = secret_key(plan.var)
    return env


# PostgreSQL -------------------------------------------------------------------------------


def redacted(url: str) -> str:
    """The URL without its password, for messages."""
    return re.sub(r"(://[^:/@]+):[^@/]*@", r"\1:***@", url)


def database_name(url: str) -> str:
    name = conninfo_to_dict(url).get("dbname")
    if not name:
        raise ClusterError(f"DATABASE_URL={redacted(url)} names no database")
    return str(name)


def check_postgresql(url: str) -> None:
    """PostgreSQL answers at the URL's server (its `postgres` database), or ClusterError."""
    if not url.startswith(("postgres://", "postgresql://")):
        raise ClusterError(
            f"DATABASE_URL={redacted(url)}: the cluster needs PostgreSQL, the one database its "
            f"app servers and workers share (e.g. {DEFAULT_DATABASE_URL})"
        )
    try:
        with psycopg.connect(make_conninfo(url, dbname="postgres", connect_timeout=5)):
            pass
    except psycopg.OperationalError as exc:
        raise ClusterError(
            f"PostgreSQL does not answer at {redacted(url)}: {str(exc).strip()}\n"
            "Start it (Debian: pg_ctlcluster <version> main start) or point DATABASE_URL "
            "at a running server."
        ) from None


def ensure_database(url: str) -> bool:
    """Create the URL's database if it is missing; whether it was created."""
    name = database_name(url)
    with psycopg.connect(make_conninfo(url, dbname="postgres"), autocommit=True) as admin:
        if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            return False
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return True


def catalog_is_empty(url: str) -> bool:
    """Whether the (migrated) database has no organization yet: a new installation."""
    with psycopg.connect(url) as db:
        row = db.execute("SELECT EXISTS (SELECT 1 FROM catalog_organization)").fetchone()
    return not (row and row[0])


# Processes --------------------------------------------------------------------------------


@dataclass
class Child:
    """A process the cluster started."""

    name: str
    popen: "subprocess.Popen[bytes]"
    log: Path | None = None
    stop_signal: int = signal.SIGTERM

    @property
    def pid(self) -> int:
        return self.popen.pid

    def running(self) -> bool:
        return self.popen.poll() is None

    def signal(self, signum: int) -> None:
        if self.running():
            self.popen.send_signal(signum)

    def stop(self, timeout: float = 15.0, signum: int | None = None) -> int:
        """Ask it to stop (its stop signal), wait, and kill it if it does not; its exit code."""
        self.signal(self.stop_signal if signum is None else signum)
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            return self.popen.wait()

    def log_tail(self, lines: int = 15) -> str:
        if self.log is None or not self.log.exists():
            return ""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def start(
    name: str,
    command: Sequence[str],
    env: Mapping[str, str],
    *,
    log: Path | None = None,
    stop_signal: int = signal.SIGTERM,
) -> Child:
    """Start a process in its own session (the terminal's Ctrl-C reaches only the launcher,
    which then stops the processes in its own order), its output to `log` or to this
    terminal."""
    output = None
    if log is not None:
        log.parent.mkdir(parents=True, exist_ok=True)
        output = log.open("ab")
    try:
        popen = subprocess.Popen(  # noqa: S603 - our own commands, no shell
            list(command),
            cwd=ROOT,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT if output else None,
            start_new_session=True,
        )
    finally:
        if output is not None:
            output.close()
    return Child(name, popen, log, stop_signal)


def port_is_open(port: int, host: str = HOST) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((host, port)) == 0


def check_ports_free(ports: Iterable[int]) -> None:
    taken = [port for port in ports if port_is_open(port)]
    if taken:
        listed = ", ".join(f"{HOST}:{port}" for port in taken)
        raise ClusterError(
            f"{listed} already in use (another cluster, or `make demo`?): stop it, or choose "
            "other ports with PORT= and FIRST_APP_PORT="
        )


def wait_listening(child: Child, port: int, timeout: float = 30.0) -> None:
    """Wait until `child` accepts connections on `port`, or ClusterError saying why not."""
    deadline = time.monotonic() + timeout
    while not port_is_open(port):
        if not child.running():
            raise ClusterError(
                f"{child.name} exited (code {child.popen.returncode}) before listening on "
                f"{HOST}:{port}"
                + (f"; the end of {child.log}:\n{child.log_tail()}" if child.log else "")
            )
        if time.monotonic() > deadline:
            raise ClusterError(
                f"{child.name} is not listening on {HOST}:{port} after {timeout:g} s"
            )
        time.sleep(0.05)


def free_port() -> int:
    """A loopback port nobody listens on (for tests)."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


# The pieces -------------------------------------------------------------------------------


def manage(env: Mapping[str, str], *args: str) -> None:
    """Run a manage.py command to its end, its output on this terminal."""
    done = subprocess.run(  # noqa: S603 - our own command, no shell
        [sys.executable, "manage.py", *args], cwd=ROOT, env=dict(env), check=False
    )
    if done.returncode != 0:
        raise ClusterError(f"manage.py {' '.join(args)} failed (exit {done.returncode}): see above")


def app_server_command(port: int, processes: int = 1, host: str = HOST) -> list[str]:
    """One app server: uvicorn with `processes` processes on one port. Each process runs
    the views on APP_THREADS request threads (ocsc/bridge.py), which share its one core's
    worth of Python (the GIL), so processes are how an app server uses more cores. The app
    reads X-Forwarded-For itself (TRUSTED_PROXY_HOPS), so uvicorn leaves the peer address
    alone (--no-proxy-headers)."""
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "ocsc.asgi:application",
        "--host",
        host,
        "--port",
        str(port),
        "--no-access-log",
        "--no-proxy-headers",
        "--lifespan",
        "off",
        "--timeout-keep-alive",
        str(APP_KEEPALIVE_SECONDS),
        "--timeout-graceful-shutdown",
        str(APP_GRACEFUL_SECONDS),
    ]
    if processes > 1:
        command += ["--workers", str(processes)]
    return command


def start_app_server(
    port: int, env: Mapping[str, str], *, log: Path, processes: int = 1, name: str = ""
) -> Child:
    return start(
        name or f"app server {HOST}:{port}", app_server_command(port, processes), env, log=log
    )


def worker_command() -> list[str]:
    """A task worker. Several share the queue: each claims a task with one UPDATE whose
    subquery locks the row FOR UPDATE SKIP LOCKED (ocsc/taskqueue.py), so no two run the
    same task."""
    return [sys.executable, "manage.py", "run_worker", "--no-reload"]


def timers_command() -> list[str]:
    return [sys.executable, "manage.py", "run_timers"]


def nginx_binary(environ: Mapping[str, str] = os.environ) -> str:
    """nginx's path: $NGINX, nginx on PATH, or Debian's /usr/sbin/nginx."""
    for candidate in (environ.get("NGINX"), shutil.which("nginx"), "/usr/sbin/nginx"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise ClusterError(
        "nginx is not installed (looked at $NGINX, PATH and /usr/sbin/nginx): on Debian, "
        "apt-get install nginx-light; elsewhere set NGINX to its path"
    )


def nginx_mime_types(nginx: str) -> Path | None:
    """The mime.types file beside the nginx installation's own configuration."""
    done = subprocess.run([nginx, "-V"], capture_output=True, text=True, check=False)  # noqa: S603
    found = re.search(r"--conf-path=(\S+)", done.stderr + done.stdout)
    conf_dir = Path(found[1]).parent if found else Path("/etc/nginx")
    path = conf_dir / "mime.types"
    return path if path.exists() else None


def nginx_site(
    *,
    upstreams: Sequence[str],
    listen: str,
    static_root: Path,
    upload_max_bytes: int,
    live_stream_seconds: int,
    server_name: str = "_",
    static_cache_seconds: int = 600,
    certificate: Path | None = None,
    certificate_key: Path | None = None,
) -> str:
    """nginx's `upstream` and `server` blocks for OCSC (docs/deploy.md explains each line)."""
    tls = ""
    if certificate and certificate_key:
        tls = f"    ssl_certificate {certificate};\n    ssl_certificate_key {certificate_key};\n"
    servers = "\n".join(
        f"    server {address} max_fails=1 fail_timeout=10s;" for address in upstreams
    )
    return f"""\
# OCSC behind nginx (docs/deploy.md). Generated by deploy/cluster.py.
upstream ocsc_app {{
{servers}
    keepalive 32;
    keepalive_timeout {UPSTREAM_IDLE_SECONDS}s;
}}

server {{
    listen {listen};
    server_name {server_name};
{tls}
    client_max_body_size {upload_max_bytes + BODY_MARGIN_BYTES};

    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_set_header Host $http_host;
    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    proxy_set_header X-Forwarded-Proto $scheme;
    # A server that refuses the connection or does not answer: the request goes to the next
    # one. nginx never resends a POST that already reached a server.
    proxy_next_upstream error timeout;
    proxy_connect_timeout 5s;

    location /static/ {{
        alias {static_root}/;
        gzip_static on;
        add_header Cache-Control "public, max-age={static_cache_seconds}";
        access_log off;
    }}

    location /live/ {{
        proxy_pass http://ocsc_app;
        proxy_buffering off;
        proxy_cache off;
        proxy_read_timeout {live_stream_seconds + 60}s;
    }}

    location / {{
        proxy_pass http://ocsc_app;
    }}
}}
"""


def nginx_config(plan: Plan, *, mime_types: Path | None, run_as_root: bool) -> str:
    """A whole nginx configuration for the local cluster: everything under plan.var."""
    var = plan.var
    temp = var / "nginx-temp"
    site = nginx_site(
        upstreams=[f"{HOST}:{port}" for port in plan.app_ports],
        listen=f"{HOST}:{plan.port}",
        static_root=plan.static_root,
        upload_max_bytes=plan.upload_max_bytes,
        live_stream_seconds=plan.live_stream_seconds,
    )
    return f"""\
# The local cluster's nginx (deploy/cluster.py writes this file at each start).
{"user root;" if run_as_root else ""}
daemon off;
worker_processes 1;
# Each request in flight holds two connections (the client's and the app server's), each
# live stream too: 1024 refused new ones (500s) at 500 benchmark users.
worker_rlimit_nofile {WORKER_CONNECTIONS * 2};
pid {var}/nginx.pid;
error_log {var}/logs/nginx-error.log warn;

events {{
    worker_connections {WORKER_CONNECTIONS};
}}

http {{
    {f"include {mime_types};" if mime_types else ""}
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    keepalive_timeout 65s;
    server_tokens off;
    gzip on;
    gzip_types text/css application/javascript application/json image/svg+xml;

    log_format upstreams '$remote_addr [$time_local] "$request" $status $body_bytes_sent '
                         '$request_time upstream=$upstream_addr upstream_status=$upstream_status';
    access_log {var}/logs/nginx-access.log upstreams;

    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;

{_indent(site, 4)}
}}
"""


def _indent(text: str, spaces: int) -> str:
    pad = " " * spaces
    return "\n".join(pad + line if line else line for line in text.splitlines())


def write_nginx_config(plan: Plan, nginx: str) -> Path:
    (plan.var / "logs").mkdir(parents=True, exist_ok=True)
    (plan.var / "nginx-temp").mkdir(parents=True, exist_ok=True)
    path = plan.var / "nginx.conf"
    path.write_text(
        nginx_config(plan, mime_types=nginx_mime_types(nginx), run_as_root=os.geteuid() == 0)
    )
    return path


def nginx_command(nginx: str, plan: Plan, config: Path) -> list[str]:
    return [
        nginx,
        "-p",
        str(plan.var),
        "-c",
        str(config),
        "-e",
        str(plan.var / "logs" / "nginx-error.log"),
    ]


def start_nginx(plan: Plan, nginx: str | None = None) -> Child:
    """Write plan.var/nginx.conf, check it (nginx -t) and start nginx in the foreground."""
    nginx = nginx or nginx_binary()
    config = write_nginx_config(plan, nginx)
    command = nginx_command(nginx, plan, config)
    checked = subprocess.run([*command, "-t", "-q"], capture_output=True, text=True, check=False)  # noqa: S603
    if checked.returncode != 0:
        raise ClusterError(f"nginx refuses {config}:\n{(checked.stderr + checked.stdout).strip()}")
    # SIGTERM: nginx's fast shutdown (SIGQUIT would wait for every open live stream).
    return start("nginx", command, os.environ, log=plan.var / "logs" / "nginx-error.log")


# The whole cluster ------------------------------------------------------------------------


def prepare(plan: Plan, env: Mapping[str, str]) -> None:
    """The database (created if missing, migrated, the demo catalog if new) and the static
    files nginx serves."""
    check_postgresql(plan.database_url)
    if ensure_database(plan.database_url):
        print(f"Created the database {database_name(plan.database_url)}.")
    manage(env, "migrate", "--no-input", "-v", "0")
    manage(env, "collectstatic", "--no-input", "-v", "0")
    if catalog_is_empty(plan.database_url):
        manage(env, "setup_demo")


@dataclass
class Cluster:
    plan: Plan
    children: list[Child] = field(default_factory=list)

    def start_all(self, env: Mapping[str, str], nginx: str) -> None:
        plan = self.plan
        logs = plan.var / "logs"
        for number, port in enumerate(plan.app_ports, start=1):
            self.children.append(
                start_app_server(
                    port,
                    env,
                    log=logs / f"app-{number}.log",
                    processes=plan.app_processes,
                    name=f"app server {number} ({HOST}:{port})",
                )
            )
        for child, port in zip(self.children, plan.app_ports, strict=True):
            wait_listening(child, port)
        self.children.append(start_nginx(plan, nginx))
        wait_listening(self.children[-1], plan.port, timeout=10)
        for number in range(1, plan.workers + 1):
            self.children.append(start(f"worker {number}", worker_command(), env))
        self.children.append(start("timers", timers_command(), env))

    def stop_all(self) -> None:
        """nginx first (no new requests), then the app servers (they finish the requests they
        have), the workers (the task in hand) and the timers, together."""
        nginx = [child for child in self.children if child.name == "nginx"]
        for child in nginx:
            child.stop(timeout=5)
        for child in self.children:
            child.signal(child.stop_signal)
        for child in self.children:
            child.stop(timeout=APP_GRACEFUL_SECONDS + 5)

    def watch(self) -> int:
        """Until Ctrl-C (0), or until nginx or the last app server stops (1)."""
        reported: set[str] = set()
        while True:
            time.sleep(0.5)
            for child in self.children:
                if not child.running() and child.name not in reported:
                    reported.add(child.name)
                    print(
                        f"{child.name} exited (code {child.popen.returncode})"
                        + (f"; see {child.log}" if child.log else ""),
                        file=sys.stderr,
                    )
            apps = [c for c in self.children if c.name.startswith("app server")]
            nginx = next(c for c in self.children if c.name == "nginx")
            if not nginx.running() or not any(c.running() for c in apps):
                print("The cluster cannot serve any more: stopping it.", file=sys.stderr)
                return 1


def count(number: int, thing: str) -> str:
    plural = "es" if thing.endswith("s") else "s"
    return f"{number} {thing}{'' if number == 1 else plural}"


def run(environ: Mapping[str, str]) -> int:
    plan = plan_from_env(environ)
    nginx = nginx_binary(environ)
    check_ports_free([plan.port, *plan.app_ports])
    env = app_env(plan, environ)
    prepare(plan, env)
    cluster = Cluster(plan)

    def interrupted(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    try:
        cluster.start_all(env, nginx)
        apps = ", ".join(f"{HOST}:{port}" for port in plan.app_ports)
        print(
            f"\nOCSC cluster: {plan.url}/\n"
            f"  nginx in front of {count(plan.app_servers, 'app server')} ({apps}) of "
            f"{count(plan.app_processes, 'process')} each; "
            f"{count(plan.workers, 'task worker')}; the timers\n"
            f"  database {redacted(plan.database_url)}; logs in {plan.var / 'logs'}\n"
            "  Ctrl-C stops everything.\n",
            flush=True,
        )
        return cluster.watch()
    except KeyboardInterrupt:
        return 0
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the stop
        print("Stopping the cluster…", file=sys.stderr)
        cluster.stop_all()


def print_site(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="deploy/cluster.py nginx-site",
        description="Print nginx's upstream and server blocks for OCSC, for "
        "/etc/nginx/conf.d/ocsc.conf (docs/deploy.md).",
    )
    parser.add_argument(
        "--upstream", action="append", required=True, help="an app server, host:port (repeat)"
    )
    parser.add_argument("--listen", default="80", help="nginx's listen parameters (default: 80)")
    parser.add_argument("--server-name", default="_")
    parser.add_argument("--static-root", type=Path, required=True, help="STATIC_ROOT")
    parser.add_argument("--upload-max-bytes", type=int, default=10 * 1024 * 1024)
    parser.add_argument("--live-stream-seconds", type=int, default=300)
    parser.add_argument(
        "--certificate", type=Path, help="TLS: ssl_certificate (with --listen '443 ssl')"
    )
    parser.add_argument("--certificate-key", type=Path, help="TLS: ssl_certificate_key")
    args = parser.parse_args(argv)
    if bool(args.certificate) != bool(args.certificate_key):
        parser.error("--certificate and --certificate-key go together")
    print(
        nginx_site(
            upstreams=args.upstream,
            listen=args.listen,
            server_name=args.server_name,
            static_root=args.static_root,
            upload_max_bytes=args.upload_max_bytes,
            live_stream_seconds=args.live_stream_seconds,
            certificate=args.certificate,
            certificate_key=args.certificate_key,
        ),
        end="",
    )
    return 0


def main(argv: Sequence[str] = sys.argv[1:]) -> int:
    try:
        if argv and argv[0] == "nginx-site":
            return print_site(argv[1:])
        if argv:
            print(__doc__, file=sys.stderr)
            return 2
        return run(os.environ)
    except ClusterError as exc:
        print(f"cluster: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
