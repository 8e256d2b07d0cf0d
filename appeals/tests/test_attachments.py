"""Attachments: recognised by content, limited in number and size, stored privately."""

import hashlib
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.urls import reverse

from appeals import services
from appeals.errors import AttachmentTooLarge, AttachmentTypeRefused, TooManyAttachments
from appeals.models import Appeal, AppealAttachment
from appeals.tests.factories import (
    NOW,
    PDF_BYTES,
    file_bytes,
    freeze,
    in_review,
    jpeg,
    pdf,
    png,
    renamed_exe,
    submit,
    upload,
)
from testkit.credit import open_account
from testkit.people import officer

pytestmark = pytest.mark.django_db
MB = 1024 * 1024
RESTORATION_REASON = "My salary doubled; the contract and payslips are attached."


def restoration(files, account=None):
    account = account or open_account()
    freeze(account)
    return submit(account, "restoration", reason=RESTORATION_REASON, files=files)


def stored_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_pdf_jpeg_and_png_are_kept_under_random_names_in_private_storage(private_storage):
    appeal = restoration([pdf("工资证明.pdf"), jpeg("id card.JPG"), png("bank.png")])

    attachments = list(appeal.attachments.order_by("pk"))
    assert [(a.original_name, a.content_type) for a in attachments] == [
        ("工资证明.pdf", "application/pdf"),
        ("id card.JPG", "image/jpeg"),
        ("bank.png", "image/png"),
    ]
    for attachment in attachments:
        name = attachment.file.name
        # 128 random bits and the extension of what the content is; nothing else.
        assert re.fullmatch(r"appeals/[0-9a-f]{32}\.(pdf|jpg|png)", name), name
        assert Path(default_storage.path(name)).is_relative_to(private_storage)
        assert attachment.uploaded_by == appeal.customer and attachment.created_at == NOW
    assert file_bytes(attachments[0]) == PDF_BYTES
    assert attachments[0].sha256 == hashlib.sha256(PDF_BYTES).hexdigest()


def test_private_storage_is_outside_every_served_folder():
    location = Path(settings.STORAGES["default"]["OPTIONS"]["location"]).resolve()
    served = [Path(p).resolve() for p in settings.STATICFILES_DIRS]
    if settings.STATIC_ROOT:
        served.append(Path(settings.STATIC_ROOT).resolve())
    for folder in served:
        assert not location.is_relative_to(folder)
    assert not getattr(settings, "MEDIA_URL", "").strip("/")  # nothing serves media


@pytest.mark.parametrize(
    "bad",
    [
        renamed_exe("income-proof.pdf"),
        upload("payslip.png", b"\x7fELF\x02\x01\x01" + b"\x00" * 50, "image/png"),
        upload("script.pdf", b"#!/bin/sh\nrm -rf /\n", "application/pdf"),
        upload("page.jpg", b"<html><script>alert(1)</script></html>", "image/jpeg"),
        upload("empty.pdf", b"", "application/pdf"),
    ],
    ids=["renamed-exe", "elf-as-png", "script-as-pdf", "html-as-jpeg", "empty"],
)
def test_a_file_that_is_not_really_pdf_jpeg_or_png_is_refused_and_nothing_is_written(
    bad, private_storage
):
    account = open_account()
    freeze(account)

    with pytest.raises(AttachmentTypeRefused) as refused:
        submit(account, "restoration", reason=RESTORATION_REASON, files=[pdf(), bad])

    assert bad.name in str(refused.value.message)
    assert not Appeal.objects.exists() and not AppealAttachment.objects.exists()
    assert stored_files(private_storage) == []


def test_a_file_over_5_mb_is_refused_and_exactly_5_mb_is_accepted(private_storage):
    account = open_account()
    freeze(account)
    with pytest.raises(AttachmentTooLarge):
        submit(
            account,
            "restoration",
            reason=RESTORATION_REASON,
            files=[pdf("big.pdf", size=5 * MB + 1)],
        )
    assert stored_files(private_storage) == []

    appeal = submit(
        account, "restoration", reason=RESTORATION_REASON, files=[pdf("ok.pdf", size=5 * MB)]
    )
    assert appeal.attachments.get().size == 5 * MB


def test_six_files_are_refused_five_are_accepted(private_storage):
    account = open_account()
    freeze(account)
    with pytest.raises(TooManyAttachments):
        submit(
            account,
            "restoration",
            reason=RESTORATION_REASON,
            files=[pdf(f"{i}.pdf") for i in range(6)],
        )
    assert stored_files(private_storage) == []

    appeal = submit(
        account,
        "restoration",
        reason=RESTORATION_REASON,
        files=[pdf(f"{i}.pdf") for i in range(5)],
    )
    assert appeal.attachments.count() == 5
    assert len(stored_files(private_storage)) == 5


def test_the_five_file_limit_counts_files_already_on_the_appeal():
    appeal = restoration([pdf(f"{i}.pdf") for i in range(4)])
    reviewer = officer()
    in_review(appeal, reviewer)
    services.appeal_request_info(appeal=appeal, actor=reviewer, note="More?", now=NOW)

    with pytest.raises(TooManyAttachments):
        services.appeal_answer(
            appeal=appeal,
            customer=appeal.customer,
            text="Two more.",
            files=[pdf("5.pdf"), pdf("6.pdf")],
            now=NOW,
        )
    assert appeal.attachments.count() == 4
    assert not appeal.messages.filter(author=appeal.customer).exists()

    services.appeal_answer(
        appeal=appeal, customer=appeal.customer, text="One more.", files=[png()], now=NOW
    )
    answer = appeal.messages.get(author=appeal.customer)
    assert appeal.attachments.count() == 5
    assert appeal.attachments.get(content_type="image/png").message == answer


def test_the_limits_are_settings(settings):
    settings.APPEALS_MAX_ATTACHMENTS = 1
    settings.APPEALS_MAX_ATTACHMENT_BYTES = 100
    account = open_account()
    freeze(account)
    with pytest.raises(TooManyAttachments):
        submit(account, "restoration", reason=RESTORATION_REASON, files=[pdf(), pdf()])
    with pytest.raises(AttachmentTooLarge):
        submit(account, "restoration", reason=RESTORATION_REASON, files=[pdf(size=101)])


def test_the_display_name_loses_paths_and_control_characters():
    appeal = restoration([pdf("../../etc/passwd\x00\n.pdf")])
    assert appeal.attachments.get().original_name == "passwd.pdf"


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        (lambda: pdf("poly.html"), "poly.pdf"),
        (lambda: pdf("report"), "report.pdf"),
        (lambda: pdf("scan.PDF"), "scan.PDF"),
        (lambda: png("photo.jpg"), "photo.png"),
        (lambda: jpeg("photo.jpeg"), "photo.jpeg"),
        (lambda: jpeg("page.svg"), "page.jpg"),
        (lambda: pdf("x" * 200 + ".html"), "x" * 146 + ".pdf"),
    ],
)
def test_the_kept_name_takes_the_extension_of_what_the_file_is(private_storage, sent, kept):
    appeal = restoration([sent()])
    attachment = appeal.attachments.get()
    assert attachment.original_name == kept
    assert attachment.file.name.endswith(attachment.extension)


def test_a_pdf_named_html_is_downloaded_as_a_pdf_never_as_html(private_storage, client):
    appeal = restoration([pdf("poly.html")])
    attachment = appeal.attachments.get()
    client.force_login(appeal.customer)
    response = client.get(reverse("appeals:attachment", args=[appeal.pk, attachment.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="poly.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "html" not in response["Content-Disposition"]


def test_a_file_kept_before_the_rule_still_downloads_under_its_types_extension(
    private_storage, client
):
    appeal = restoration([pdf("old.pdf")])
    attachment = appeal.attachments.get()
    AppealAttachment.objects.filter(pk=attachment.pk).update(original_name="old.html")
    client.force_login(appeal.customer)
    response = client.get(reverse("appeals:attachment", args=[appeal.pk, attachment.pk]))
    assert response["Content-Disposition"] == 'attachment; filename="old.pdf"'
