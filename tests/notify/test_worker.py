"""The real worker processes (`manage.py run_worker`, `manage.py run_timers`) against a database
they share with this test: on SQLite a file copied from the test database, on PostgreSQL the
test database itself.

- the fault test: the worker is killed (SIGKILL) in the middle of a batch while the SMS
  aggregator holds one of its requests; a new worker and the timers take over, and every
  message is delivered exactly once, counted at a fake aggregator on loopback;
- the demo: the worker prints a demo action's SMS on the console.
"""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection
from pytest_django.fixtures import Settings

from ocsc.accounts.models import User
from ocsc.cases.models import Application, Event
from ocsc.notify.models import DeliveryAttempt, Notification
from tests.notify.gateways import fake_aggregator
from tests.personas import People, upload, water_connection

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]
DATABASE_TASKS = {"default": {"BACKEND": "ocsc.taskqueue.DatabaseBackend", "QUEUES": ["default"]}}


class SharedDatabase:
    """The test database as other processes reach it."""

    def __init__(self, folder: Path) -> None:
        self.sqlite = connection.vendor == "sqlite"
        self.folder = folder
        self.file = folder / "shared.sqlite3"

    def logs(self) -> str:
        """What the processes printed (each to its own file: a pipe nobody reads would stop
        a process that fills it), for a failure's message."""
        return "\n".join(
            f"--- {log.name}\n{log.read_text()[-3000:]}"
            for log in sorted(self.folder.glob("*.log"))
        )

    def url(self) -> str:
        if self.sqlite:
            return f"sqlite:///{self.file}"
        db = connection.settings_dict
        password = f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else ""
        return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"

    def share(self) -> None:
        """Before the processes start: on SQLite, copy the in-memory test database to a file."""
        if self.sqlite:
            connection.ensure_connection()
            with sqlite3.connect(self.file) as target:
                connection.connection.backup(target)
            target.close()

    def unsent(self) -> int:
        """Notifications the processes have not marked sent yet."""
        if not self.sqlite:
            return Notification.objects.exclude(status="sent").count()
        with sqlite3.connect(self.file) as shared:
            query = "SELECT count(*) FROM notify_notification WHERE status != 'sent'"
            count: int = shared.execute(query).fetchone()[0]
        shared.close()
        return count

    def take_back(self) -> None:
        """After they stop: on SQLite, read their work back into the test database."""
        if self.sqlite:
            source = sqlite3.connect(self.file)
            source.backup(connection.connection)
            source.close()


Start = Callable[..., subprocess.Popen[str]]


@contextmanager
def processes(database: SharedDatabase, **env: str) -> Iterator[Start]:
    """Start manage.py commands against the shared database; stop them all at the end."""
    started: list[subprocess.Popen[str]] = []
    environment = {
        **os.environ,
        "DEBUG": "1",
        "DATABASE_URL": database.url(),
        "PYTHONUNBUFFERED": "1",
        "LOG_LEVEL": "WARNING",
        **env,
    }
    environment.pop("TASKS_BACKEND", None)  # the database backend, as in production

    def start(*command: str) -> subprocess.Popen[str]:
        log = database.folder / f"{len(started) + 1}-{command[0]}.log"
        with log.open("w") as output:
            process = subprocess.Popen(  # noqa: S603 - our own manage.py
                [sys.executable, "manage.py", *command],
                cwd=ROOT,
                env=environment,
                stdout=output,
                stderr=subprocess.STDOUT,
                text=True,
                start_new_session=True,
            )
        started.append(process)
        return process

    try:
        yield start
    finally:
        for process in started:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in started:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def worker(start: Start) -> subprocess.Popen[str]:
    return start("run_worker", "--no-reload", "--no-startup-delay", "--interval", "0.05")


def citizens(people: People, count: int) -> list[User]:
    more = [
        User.objects.create_user(f"0345{n:07d}", name=f"Citizen {n}", language="en")
        for n in range(count - 2)
    ]
    return [people.ayesha, people.bilal, *more]


def apply_for(people: People, citizen: User) -> Application:
    documents = {"cnic_copy": upload(citizen), "affidavit": upload(citizen)}
    return water_connection(people, citizen=citizen, documents=documents)


def wait_for(condition: Callable[[], bool], *, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_a_worker_killed_mid_batch_loses_nothing_and_sends_nothing_twice(
    people: People, settings: Settings, tmp_path: Path
) -> None:
    settings.TASKS = DATABASE_TASKS  # actions queue their reactions for the worker processes
    applications = [apply_for(people, citizen) for citizen in citizens(people, 8)]
    assert not Notification.objects.exists()  # queued as tasks, not yet dispatched
    database = SharedDatabase(tmp_path)
    database.share()

    with (
        fake_aggregator(hold_request=4) as aggregator,
        processes(
            database,
            SMS_GATEWAY="ocsc.notify.sms.HttpGateway",
            SMS_HTTP_URL=aggregator.url,
            SMS_HTTP_TOKEN="secret-token",
            NOTIFY_SEND_LEASE_SECONDS="1.5",
            NOTIFY_LOST_AFTER_SECONDS="1.5",
            NOTIFY_SWEEP_AFTER_SECONDS="1",
        ) as start,
    ):
        first = worker(start)
        start("run_timers", "--interval", "0.2")
        reached = aggregator.holding.wait(timeout=20)
        assert reached, f"the worker never reached the 4th SMS\n{database.logs()}"
        os.killpg(first.pid, signal.SIGKILL)  # mid-batch, mid-send: the 4th SMS in doubt
        first.wait(timeout=5)
        aggregator.release.set()
        worker(start)
        wait_for(lambda: len(aggregator.delivered) >= 8, seconds=20, what="all 8 SMS")
        wait_for(lambda: database.unsent() == 0, seconds=10, what="all marked sent")
        time.sleep(0.5)  # a duplicate, if the design allowed one, would arrive now
    database.take_back()

    sms = {str(n.uuid): n for n in Notification.objects.filter(channel="sms")}
    assert len(sms) == len(applications) == 8
    assert set(aggregator.delivered) == set(sms)  # every SMS delivered, each once
    for reference, fields in aggregator.delivered.items():
        assert (fields["to"], fields["text"]) == (sms[reference].address[1:], sms[reference].body)
        assert fields["authorization"] == "Bearer secret-token"
    handed_over = Counter(request["reference"] for request in aggregator.requests)
    [(in_doubt, twice)] = [(ref, count) for ref, count in handed_over.items() if count > 1]
    assert twice == 2 and len(aggregator.requests) == 9  # only the SMS in doubt, same reference
    assert {n.status for n in Notification.objects.all()} == {"sent"}
    attempts = DeliveryAttempt.objects.filter(notification=sms[in_doubt]).order_by("number")
    assert [(a.number, a.ok, a.error.split(":")[0]) for a in attempts] == [
        (1, False, "in doubt"),
        (2, True, ""),
    ]
    assert not Event.objects.filter(dispatched_at__isnull=True).exists()


def test_the_demo_worker_prints_an_action_s_sms_on_the_console(
    people: People, settings: Settings, tmp_path: Path
) -> None:
    settings.TASKS = DATABASE_TASKS
    water_connection(people)
    database = SharedDatabase(tmp_path)
    database.share()

    with processes(database) as start:
        demo = start("run_worker", "--no-reload", "--no-startup-delay", "--batch")
        demo.wait(timeout=30)
    output = database.logs()
    assert demo.returncode == 0, output
    assert "[SMS to +923001111111] آپ کی درخواست موصول ہو گئی ہے۔ ٹریکنگ نمبر: MDN-26-000001" in (
        output
    )
