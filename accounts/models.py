import contextlib

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.national_id import national_id_masked
from accounts.phone import normalize_phone, phone_masked, validate_phone
from accounts.provinces import Province


class Language(models.TextChoices):
    ZH_HANS = "zh-hans", "简体中文"
    EN = "en", "English"


class UserManager(BaseUserManager):
    use_in_migrations = True

    def get_by_natural_key(self, username):
        # Whatever form the number was typed in, log in the normalised one.
        with contextlib.suppress(ValidationError):  # an unparseable number matches nobody
            username = normalize_phone(username)
        return self.get(**{self.model.USERNAME_FIELD: username})

    def create_user(self, phone, password=None, **extra):
        user = self.model(phone=normalize_phone(phone), **extra)
        if user.email:
            user.email = self.normalize_email(user.email)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, phone, password=None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(phone, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """Customers and staff alike log in with a mainland mobile number."""

    phone = models.CharField(
        _("mobile number"),
        max_length=14,
        unique=True,
        validators=[validate_phone],
        help_text=_("Stored as +86 followed by 11 digits."),
    )
    email = models.EmailField(_("email"), blank=True)
    preferred_language = models.CharField(
        _("preferred language"), max_length=8, choices=Language.choices, default=Language.ZH_HANS
    )
    is_staff = models.BooleanField(_("staff status"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    joined_at = models.DateTimeField(_("joined at"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "phone"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(phone__regex=r"^\+861[3-9][0-9]{9}$"),
                name="user_phone_e164_mainland",
            )
        ]

    def __str__(self):
        # Masked: every foreign-key display, admin log row, message and log line shows this.
        return phone_masked(self.phone)

    def get_short_name(self):
        # The admin's "Welcome, …" header, on every page (and every screenshot) of it.
        return phone_masked(self.phone)

    def clean(self):
        super().clean()
        if self.phone:
            self.phone = normalize_phone(self.phone)


class KycStatus(models.TextChoices):
    PENDING = "PENDING", _("Pending")
    VERIFIED = "VERIFIED", _("Verified")
    REJECTED = "REJECTED", _("Rejected")


class CustomerProfile(models.Model):
    user = models.OneToOneField(User, on_delete=models.PROTECT, related_name="profile")
    real_name = models.CharField(_("real name"), max_length=64)
    national_id_hash = models.CharField(_("national ID hash"), max_length=64, unique=True)
    national_id_last4 = models.CharField(_("national ID, last four"), max_length=4)
    province_code = models.CharField(_("province"), max_length=2, choices=Province.choices)
    kyc_status = models.CharField(
        _("KYC status"), max_length=16, choices=KycStatus.choices, default=KycStatus.PENDING
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("customer profile")
        verbose_name_plural = _("customer profiles")

    def __str__(self):
        return f"{self.real_name} ({national_id_masked(self.national_id_last4)})"


class LoginEvent(models.Model):
    """One row per successful login; the risk engine reads these (shared IPs, new devices)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="login_events")
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent_hash = models.CharField(_("user-agent hash"), max_length=64)
    device_id = models.CharField(_("device id"), max_length=64)
    is_new_device = models.BooleanField(_("new device"), default=False)
    occurred_at = models.DateTimeField(_("at"), db_index=True)

    class Meta:
        verbose_name = _("login event")
        verbose_name_plural = _("login events")
        indexes = [
            models.Index(fields=["ip_address", "occurred_at"], name="loginevent_ip_time"),
            models.Index(fields=["user", "device_id"], name="loginevent_user_device"),
        ]

    def __str__(self):
        return f"{self.user} @ {self.occurred_at:%Y-%m-%d %H:%M} from {self.ip_address}"


class PiiField(models.TextChoices):
    PHONE = "PHONE", _("mobile number")


class PiiReveal(models.Model):
    """One staff member saw one customer's full number, and why (written by `pii_reveal`).

    Append-only: rows are written by the service and only read in the admin (auditors)."""

    actor = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="pii_reveals_made", verbose_name=_("staff")
    )
    user = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="pii_reveals", verbose_name=_("customer")
    )
    field = models.CharField(_("field"), max_length=16, choices=PiiField.choices)
    reason = models.TextField(_("reason"))
    revealed_at = models.DateTimeField(_("revealed at"), db_index=True)

    class Meta:
        verbose_name = _("personal data reveal")
        verbose_name_plural = _("personal data reveals")
        permissions = [("reveal_pii", _("Can see a customer's full mobile number"))]

    def __str__(self):
        return f"{self.actor} → {self.user}: {self.field} @ {self.revealed_at:%Y-%m-%d %H:%M}"


class SecondFactorReset(models.Model):
    """A superuser removed a staff member's second factor (written by `second_factor_reset`)."""

    actor = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="second_factor_resets_made"
    )
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="second_factor_resets")
    devices_removed = models.PositiveSmallIntegerField(_("devices removed"))
    reset_at = models.DateTimeField(_("reset at"))

    class Meta:
        verbose_name = _("second factor reset")
        verbose_name_plural = _("second factor resets")

    def __str__(self):
        return f"{self.actor} reset {self.user} @ {self.reset_at:%Y-%m-%d %H:%M}"
