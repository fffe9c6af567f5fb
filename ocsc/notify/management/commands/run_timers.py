import signal
import time
from argparse import ArgumentParser
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections, connection

from ocsc.notify.timers import run_timers


class Command(BaseCommand):
    help = (
        "Run the periodic work beside the worker (`manage.py run_worker`): dispatch events "
        "left undispatched, resume lost deliveries, time out citizens' steps, escalate late "
        "steps, send reminders and the daily digests; then sleep and do it again. Safe to "
        "run in several processes at once."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--once", action="store_true", help="Run every timer once and exit.")
        parser.add_argument(
            "--interval",
            type=float,
            default=None,
            help="Seconds between runs (default: NOTIFY_TIMER_SECONDS).",
        )

    @staticmethod
    def _fresh_connections() -> None:
        """Drop broken or expired connections between runs, as a request would (not inside a
        caller's transaction: --once called from a test or a script)."""
        if not connection.in_atomic_block:
            close_old_connections()

    def handle(self, *args: Any, once: bool, interval: float | None, **options: Any) -> None:
        pause = settings.NOTIFY_TIMER_SECONDS if interval is None else interval
        verbosity = int(options.get("verbosity", 1))
        running = True

        def stop(signum: int, frame: FrameType | None) -> None:
            nonlocal running
            running = False

        if not once:
            signal.signal(signal.SIGTERM, stop)
            signal.signal(signal.SIGINT, stop)
            if verbosity:
                self.stdout.write(f"Timers running every {pause:g} s.")
        while True:
            self._fresh_connections()
            results = run_timers()
            self._fresh_connections()
            done = {name: count for name, count in results.items() if count}
            if verbosity > 1 or (verbosity and done):
                summary = ", ".join(f"{name} {count}" for name, count in done.items())
                self.stdout.write(f"timers: {summary or 'nothing to do'}")
            if once or not running:
                return
            slept = 0.0
            while running and slept < pause:
                time.sleep(min(0.2, pause - slept))
                slept += 0.2
            if not running:
                return
