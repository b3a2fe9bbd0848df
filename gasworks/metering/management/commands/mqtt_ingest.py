import threading

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from gasworks.metering.mqtt import TOPIC, Consumer


class Command(BaseCommand):
    help = (
        "Store signed smart meter readings published on gasworks/meters/<serial>/readings (QoS 1). "
        "Several processes share the work with --share GROUP, each with its own stable --client-id."
    )

    def add_arguments(self, parser):
        parser.add_argument("--url", default=settings.MQTT_URL)
        parser.add_argument("--client-id", default="gasworks-ingest")
        parser.add_argument("--topic", default=TOPIC)
        parser.add_argument(
            "--share",
            default=settings.MQTT_SHARE_GROUP,
            help="MQTT 5 shared subscription group (env MQTT_SHARE_GROUP); each message goes to one member",
        )
        parser.add_argument(
            "--session-expiry", type=int, default=None, help="seconds the broker keeps the session"
        )
        parser.add_argument("--max-messages", type=int, default=None)
        parser.add_argument("--idle-exit", type=float, default=None, help="stop after this many idle seconds")

    def handle(self, *args, url, client_id, topic, share, session_expiry, max_messages, idle_exit, **options):
        extra = {"session_expiry": session_expiry} if session_expiry is not None else {}
        try:
            consumer = Consumer(url, client_id, topic, share=share, **extra)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"listening on {url} {consumer.topic} as {client_id}")
        threading.Thread(target=self._say_when_subscribed, args=(consumer,), daemon=True).start()
        done = consumer.run(max_messages=max_messages, idle_exit=idle_exit)
        self.stdout.write(f"processed {done} messages, {consumer.dead_letters} of them dead-lettered")

    def _say_when_subscribed(self, consumer: Consumer) -> None:
        # A supervisor (or a test) knows from this line that messages published now reach us.
        if consumer.ready.wait(60):
            self.stdout.write("subscribed")
            self.stdout.flush()
