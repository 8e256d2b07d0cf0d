"""Arrange helpers for appeal tests: accounts, cuts and freezes go through the credit services."""

from datetime import timedelta
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile

from appeals import services
from conftest import shanghai
from core.reasons import ReasonCode
from credit.models import CreditAccount, FreezeReason, LimitChange, LimitChangeKind
from credit.services import account_freeze, limit_set
from testkit.credit import open_account

D = Decimal
NOW = shanghai(2026, 3, 10, 10, 0)
REASON = "The review used old data; my salary went up last month."


def cut(account: CreditAccount, to, *, now=None) -> LimitChange:
    """A rescoring cut, as the nightly run would apply it."""
    return limit_set(
        account=account,
        new_base_limit=D(to),
        kind=LimitChangeKind.RESCORE,
        reason_codes=[ReasonCode.RESCORE, ReasonCode.LATE_REPAYMENTS],
        now=now or NOW - timedelta(days=1),
    )


def freeze(account: CreditAccount, *, now=None) -> CreditAccount:
    return account_freeze(
        account=account, reason=FreezeReason.RISK_RULE, now=now or NOW - timedelta(days=1)
    )


# --- files ----------------------------------------------------------------------------------

PDF_BYTES = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG_BYTES = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 40
JPEG_BYTES = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01" + b"\x00" * 40 + b"\xff\xd9"
EXE_BYTES = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 60 + b"PE\x00\x00"


def upload(name: str, content: bytes, content_type: str = "application/pdf"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def pdf(name="income-proof.pdf", size: int | None = None):
    body = PDF_BYTES if size is None else PDF_BYTES + b"0" * (size - len(PDF_BYTES))
    return upload(name, body)


def png(name="statement.png"):
    return upload(name, PNG_BYTES, "image/png")


def jpeg(name="photo.jpg"):
    return upload(name, JPEG_BYTES, "image/jpeg")


def renamed_exe(name="income-proof.pdf"):
    return upload(name, EXE_BYTES, "application/pdf")


def file_bytes(attachment) -> bytes:
    with attachment.file.open("rb") as handle:
        return handle.read()


# --- appeals --------------------------------------------------------------------------------


def submit(account: CreditAccount, kind="freeze", target=None, *, reason=REASON, files=(), now=NOW):
    target_id = account.pk if target is None else target.pk
    return services.appeal_submit(
        customer=account.customer,
        kind=kind,
        target_id=target_id,
        reason=reason,
        files=files,
        now=now,
    )


def frozen_appeal(*, base_limit="10000.00", now=NOW, files=()):
    account = open_account(base_limit)
    freeze(account)
    return submit(account, "freeze", now=now, files=files)


def cut_appeal(*, base_limit="10000.00", to="4000.00", now=NOW):
    account = open_account(base_limit)
    change = cut(account, to)
    return submit(account, "limit_change", change, now=now), change


def in_review(appeal, reviewer, *, now=NOW):
    return services.appeal_assign(appeal=appeal, actor=reviewer, now=now)
