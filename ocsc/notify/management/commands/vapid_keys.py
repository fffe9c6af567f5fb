from typing import Any

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Make a key pair for web push (VAPID) and print it as the two settings to put in "
        "the environment, VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        import base64

        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec

        def b64(data: bytes) -> str:
            return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

        key = ec.generate_private_key(ec.SECP256R1())
        private = key.private_numbers().private_value.to_bytes(32, "big")
        public = key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        self.stdout.write(f"VAPID_PUBLIC_KEY={b64(public)}\nVAPID_PRIVATE_KEY={b64(private)}\n")
