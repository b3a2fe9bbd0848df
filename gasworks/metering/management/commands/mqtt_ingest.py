from django.conf import settings
from django.core.management.base import BaseCommand

from gasworks.metering.mqtt import TOPIC, Consumer


class Command(BaseCommand):
    help = "Store signed smart meter readings published on gasworks/meters/<serial>/readings (QoS 1)."

    def add_arguments(self, parser):
        parser.add_argument("--url", default=settings.MQTT_URL)
        parser.add_argument("--client-id", default="gasworks-ingest")
        parser.add_argument("--topic", default=TOPIC)
        parser.add_argument("--max-messages", type=int, default=None)
        parser.add_argument("--idle-exit", type=float, default=None, help="stop after this many idle seconds")

    def handle(self, *args, url, client_id, topic, max_messages, idle_exit, **options):
        consumer = Consumer(url, client_id, topic)
        self.stdout.write(f"listening on {url} {topic} as {client_id}")
        done = consumer.run(max_messages=max_messages, idle_exit=idle_exit)
        self.stdout.write(f"processed {done} messages, {consumer.dead_letters} of them dead-lettered")
