from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "ocsc.notify"
    label = "notify"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from ocsc.cases.signals import event_committed
        from ocsc.notify.tasks import on_event_committed

        event_committed.connect(on_event_committed, weak=False, dispatch_uid="ocsc.notify")
