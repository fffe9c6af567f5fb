import os
from typing import Any

from django.core.management.base import CommandError
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV, run_with_reloader
from django_tasks_db.management.commands import db_worker

from ocsc.notify.listen import DispatchListener
from ocsc.notify.tasks import dispatch_listened
from ocsc.taskqueue import Worker


class Command(db_worker.Command):
    help = (
        "Run the background tasks (notifications, deliveries) from the database queue: "
        "django-tasks-db's worker and options, taking each task with one statement "
        "(ocsc/taskqueue.py). Several workers share the queue safely on PostgreSQL, where "
        "one of them also dispatches the Events it hears of by NOTIFY (ocsc/notify/listen.py)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        self.configure_logging(int(options["verbosity"]))
        if options["exclude_queues"]:
            raise CommandError("--exclude-queues is not supported: name the queues to run")
        worker = Worker(
            queue_names=options["queue_name"].split(","),
            interval=options["interval"],
            batch=options["batch"],
            backend_name=options["backend_name"],
            startup_delay=options["startup_delay"],
            max_tasks=options["max_tasks"],
            worker_id=options["worker_id"],
            excluded_queue_names=[],
            listeners=[DispatchListener()] if dispatch_listened() else [],
        )
        if options["reload"] and not options["batch"]:
            if os.environ.get(DJANGO_AUTORELOAD_ENV) == "true":  # the reloader's child
                worker.configure_signals()
            run_with_reloader(worker.run)
        else:
            worker.configure_signals()
            worker.run()
