from typing import Any, ClassVar

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone

from ocsc.accounts.identity import normalize_cnic, normalize_phone


class Language(models.TextChoices):
    EN = "en", "English"
    UR = "ur", "اردو"
    PS = "ps", "پښتو"


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, phone: str, password: str | None = None, **extra: Any) -> "User":
        user = self.model(phone=normalize_phone(phone), **extra)
        if extra.get("cnic"):
            user.cnic = normalize_cnic(extra["cnic"])
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()  # citizens sign in with a one-time code
        user.save(using=self._db)
        return user

    def create_superuser(self, phone: str, password: str | None = None, **extra: Any) -> "User":
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(phone, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person: a citizen, an official, or both. Signs in by phone number."""

    phone = models.CharField(
        "mobile number", max_length=16, unique=True, help_text="E.164, e.g. +923001234567"
    )
    name = models.CharField(max_length=150, blank=True)
    cnic = models.CharField("CNIC", max_length=15, blank=True, help_text="XXXXX-XXXXXXX-X")
    email = models.EmailField(blank=True)
    language = models.CharField(max_length=2, choices=Language.choices, default=Language.EN)
    is_staff = models.BooleanField(default=False, help_text="May sign in to the admin site.")
    is_monitor = models.BooleanField(
        "provincial monitor",
        default=False,
        help_text="Reads every organization's applications and figures; changes nothing.",
    )
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "phone"
    REQUIRED_FIELDS: ClassVar[list[str]] = ["name"]

    class Meta:
        ordering = ["name", "phone"]

    def __str__(self) -> str:
        return f"{self.name} ({self.phone})" if self.name else self.phone

    def get_full_name(self) -> str:
        return self.name

    def get_short_name(self) -> str:
        return self.name.split(" ")[0] if self.name else self.phone


class Posting(models.Model):
    """A user holding a role in one organization, optionally for part of its area."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="postings")
    organization = models.ForeignKey(
        "catalog.Organization", on_delete=models.PROTECT, related_name="postings"
    )
    role = models.ForeignKey("catalog.Role", on_delete=models.PROTECT, related_name="postings")
    jurisdiction = models.ForeignKey(
        "catalog.Jurisdiction",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="postings",
        help_text="Limits the posting to this area and below; empty for the whole organization.",
    )
    starts_on = models.DateField(default=timezone.localdate)
    ends_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["organization", "role", "user"]
        indexes = [models.Index(fields=["organization", "role"])]

    def __str__(self) -> str:
        return f"{self.user} — {self.role.code} at {self.organization.code}"


class OneTimeCode(models.Model):
    """A sign-in code sent by SMS: six digits, stored hashed, short-lived, few tries."""

    phone = models.CharField(max_length=16, db_index=True)
    code_hash = models.CharField(max_length=128)
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"code for {self.phone} at {self.created_at:%Y-%m-%d %H:%M}"


class ApiToken(models.Model):
    """A bearer token for the mobile app or another client: shown once, stored hashed."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, default="mobile app")
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8, help_text="The first characters, to tell tokens apart")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name}) of {self.user}"


class PasswordFailure(models.Model):
    """A wrong password, kept a while to slow down guessing."""

    phone = models.CharField(max_length=16)
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["phone", "created_at"])]

    def __str__(self) -> str:
        return f"failed password for {self.phone}"


class TotpDevice(models.Model):
    """An authenticator app registered by an official for two-factor sign-in."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="totp")
    secret = models.CharField(max_length=64)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    last_counter = models.BigIntegerField(default=0, help_text="No code is accepted twice")

    def __str__(self) -> str:
        return f"authenticator of {self.user}"
