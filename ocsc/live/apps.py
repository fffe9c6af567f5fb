from django.apps import AppConfig


class LiveConfig(AppConfig):
    name = "ocsc.live"
    label = "live"
    verbose_name = "Live updates"

    def ready(self) -> None:
        from ocsc.cases.signals import event_committed
        from ocsc.live.broker import broker

        event_committed.connect(broker.on_event_committed, weak=False, dispatch_uid="ocsc.live")
