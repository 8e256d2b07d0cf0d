"""Customer portal: appeal from a link, my appeals, detail, answer, write, withdraw, files."""

from datetime import timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse

from appeals import services
from appeals.models import Appeal, AppealStatus
from appeals.tests.factories import (
    NOW,
    PDF_BYTES,
    cut,
    freeze,
    frozen_appeal,
    in_review,
    pdf,
    renamed_exe,
    submit,
)
from credit.models import LimitChange
from testkit import reload
from testkit.credit import open_account
from testkit.people import officer

pytestmark = pytest.mark.django_db


def logged_in(client, user):
    client.force_login(user)
    return client


def test_pages_need_a_login(client):
    appeal = frozen_appeal()
    for url in (
        reverse("appeals:list"),
        reverse("appeals:new") + "?kind=freeze&target=1",
        reverse("appeals:detail", args=[appeal.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_frozen_customer_appeals_from_the_link_with_a_pdf_and_sees_it_in_my_appeals(client):
    account = open_account()
    freeze(account)
    logged_in(client, account.customer)

    form = client.get(reverse("appeals:new"), {"kind": "freeze", "target": account.pk})
    assert form.status_code == 200
    assert f'value="{account.pk}"' in form.content.decode()

    response = client.post(
        reverse("appeals:new"),
        {
            "kind": "freeze",
            "target": account.pk,
            "reason": "The rule misfired: I share a campus network.",
            "files": [pdf("student-card.pdf")],
        },
    )

    appeal = Appeal.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("appeals:detail", args=[appeal.pk])
    assert appeal.attachments.get().original_name == "student-card.pdf"
    listing = client.get(reverse("appeals:list")).content.decode()
    assert f"#{appeal.pk}" in listing
    detail = client.get(reverse("appeals:detail", args=[appeal.pk])).content.decode()
    assert "student-card.pdf" in detail
    assert "The rule misfired" in detail


def test_a_refused_submission_shows_the_reason_and_writes_nothing(client):
    account = open_account()
    freeze(account)
    logged_in(client, account.customer)

    response = client.post(
        reverse("appeals:new"),
        {"kind": "freeze", "target": account.pk, "reason": "see file", "files": [renamed_exe()]},
    )

    assert response.status_code == 200
    assert "is not a PDF, JPEG or PNG file" in response.content.decode()
    assert not Appeal.objects.exists()


def test_a_decision_that_cannot_be_appealed_shows_why_without_a_form(client):
    account = open_account()
    logged_in(client, account.customer)
    response = client.get(reverse("appeals:new"), {"kind": "freeze", "target": account.pk})
    assert response.status_code == 200
    body = response.content.decode()
    assert "not frozen" in body and 'name="reason"' not in body


def test_answering_a_request_for_information_with_a_file(client):
    appeal = frozen_appeal()
    reviewer = officer()
    in_review(appeal, reviewer)
    services.appeal_request_info(
        appeal=appeal, actor=reviewer, note="Your ID card, please.", now=NOW
    )
    logged_in(client, appeal.customer)

    detail = client.get(reverse("appeals:detail", args=[appeal.pk])).content.decode()
    assert "Your ID card, please." in detail
    response = client.post(
        reverse("appeals:answer", args=[appeal.pk]),
        {"text": "Here it is.", "files": [pdf("id.pdf")]},
    )

    assert response.status_code == 302
    appeal = reload(appeal)
    assert appeal.status == AppealStatus.IN_REVIEW
    assert appeal.attachments.get().original_name == "id.pdf"


def test_writing_and_withdrawing(client):
    appeal = frozen_appeal()
    logged_in(client, appeal.customer)

    client.post(reverse("appeals:message", args=[appeal.pk]), {"body": "Any news?"})
    client.post(reverse("appeals:withdraw", args=[appeal.pk]))

    appeal = reload(appeal)
    assert appeal.messages.get().body == "Any news?"
    assert appeal.status == AppealStatus.WITHDRAWN
    # Withdrawing twice: a clear message, no error page.
    response = client.post(reverse("appeals:withdraw", args=[appeal.pk]), follow=True)
    assert response.status_code == 200


def test_the_customer_sees_the_rejection_reason_but_not_the_internal_note(client):
    appeal = frozen_appeal()
    services.appeal_decide(
        appeal=appeal,
        actor=officer(),
        outcome=AppealStatus.REJECTED,
        note="INTERNAL: device fingerprint matches a fraud ring",
        customer_reason="Our security review found activity we cannot accept.",
        now=NOW + timedelta(hours=1),
    )
    logged_in(client, appeal.customer)

    body = client.get(reverse("appeals:detail", args=[appeal.pk])).content.decode()

    assert "Our security review found activity we cannot accept." in body
    assert "INTERNAL" not in body


def test_the_customer_downloads_their_own_file_as_an_attachment(client):
    account = open_account()
    freeze(account)
    appeal = submit(account, "freeze", files=[pdf("proof.pdf")])
    attachment = appeal.attachments.get()
    logged_in(client, account.customer)

    response = client.get(reverse("appeals:attachment", args=[appeal.pk, attachment.pk]))

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF_BYTES
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]


def test_my_appeals_and_the_detail_page_take_a_bounded_number_of_queries(
    client, django_assert_max_num_queries
):
    account = open_account()
    changes = [cut(account, amount) for amount in ("9000.00", "8000.00", "7000.00")]
    appeals = [submit(account, "limit_change", c, files=[pdf()]) for c in changes]
    for appeal in appeals:
        services.appeal_message_add(appeal=appeal, author=account.customer, body="hi", now=NOW)
    logged_in(client, account.customer)

    with django_assert_max_num_queries(8):
        assert client.get(reverse("appeals:list")).status_code == 200
    with django_assert_max_num_queries(14):
        assert client.get(reverse("appeals:detail", args=[appeals[0].pk])).status_code == 200


# --- the "appeal this" template tag ------------------------------------------------------


def render_link(user, target_type, target):
    request = RequestFactory().get("/")
    request.user = user
    template = Template("{% load appeals %}{% appeal_link target_type target %}")
    return template.render(
        Context({"request": request, "target_type": target_type, "target": target})
    )


def test_the_link_points_to_the_prefilled_form_and_disappears_once_an_appeal_is_open():
    account = open_account()
    freeze(account)

    html = render_link(account.customer, "freeze", account.pk)
    assert f"/appeals/new/?kind=freeze&amp;target={account.pk}" in html

    submit(account, "freeze")
    assert render_link(account.customer, "freeze", account.pk).strip() == ""
    # A restoration appeal on the same account is a different decision.
    assert "kind=restoration" in render_link(account.customer, "RESTORATION", account.pk)


def test_the_link_is_shown_only_for_limit_decreases():
    account = open_account("5000.00")
    opening = LimitChange.objects.get(account=account)
    decrease = cut(account, "3000.00")
    assert render_link(account.customer, "limit_change", opening).strip() == ""
    assert "kind=limit_change" in render_link(account.customer, "limit_change", decrease)


def test_the_links_of_a_whole_history_cost_one_query(django_assert_num_queries):
    account = open_account("10000.00")
    changes = [cut(account, f"{9000 - 500 * i}.00") for i in range(10)]
    request = RequestFactory().get("/")
    request.user = account.customer
    template = Template(
        "{% load appeals %}{% for c in changes %}{% appeal_link 'limit_change' c %}{% endfor %}"
    )
    # The content type is cached per process after the first page (a flush clears the cache).
    ContentType.objects.get_for_model(LimitChange)
    with django_assert_num_queries(1):
        html = template.render(Context({"request": request, "changes": changes}))
    assert html.count("Appeal this") + html.count("申诉") >= 10


# --- isolation: another customer's appeal or file is a 404, however it is asked for ------


def test_another_customers_appeal_pages_and_actions_are_not_found(client):
    appeal = frozen_appeal(files=[pdf()])
    attachment = appeal.attachments.get()
    logged_in(client, open_account().customer)

    for url in (
        reverse("appeals:detail", args=[appeal.pk]),
        reverse("appeals:attachment", args=[appeal.pk, attachment.pk]),
    ):
        assert client.get(url).status_code == 404
    for url in (
        reverse("appeals:answer", args=[appeal.pk]),
        reverse("appeals:message", args=[appeal.pk]),
        reverse("appeals:withdraw", args=[appeal.pk]),
    ):
        assert client.post(url, {"text": "x", "body": "x"}).status_code == 404
    assert reload(appeal).status == AppealStatus.SUBMITTED
    assert not appeal.messages.exists()
    assert f"#{appeal.pk}" not in client.get(reverse("appeals:list")).content.decode()


def test_guessing_attachment_ids_and_file_names_finds_nothing(client):
    theirs = frozen_appeal(files=[pdf()])
    their_file = theirs.attachments.get()
    account = open_account()
    freeze(account)
    mine = submit(account, "freeze", files=[pdf()])
    logged_in(client, account.customer)

    # Their file id under my appeal id, and ids that do not exist.
    for appeal_pk, attachment_pk in (
        (mine.pk, their_file.pk),
        (theirs.pk, their_file.pk),
        (mine.pk, their_file.pk + 1000),
    ):
        url = reverse("appeals:attachment", args=[appeal_pk, attachment_pk])
        assert client.get(url).status_code == 404, url
    # The stored name is nowhere served.
    for path in (
        f"/{their_file.file.name}",
        f"/media/{their_file.file.name}",
        f"/appeals/{their_file.file.name}",
        f"/static/{their_file.file.name}",
        f"/appeals/{mine.pk}/files/{their_file.file.name}",
    ):
        assert client.get(path).status_code == 404, path


def test_appealing_another_customers_decision_through_the_form_is_not_found(client):
    theirs = open_account()
    their_cut = cut(theirs, "100.00")
    logged_in(client, open_account().customer)

    assert (
        client.get(
            reverse("appeals:new"), {"kind": "limit_change", "target": their_cut.pk}
        ).status_code
        == 404
    )
    response = client.post(
        reverse("appeals:new"),
        {"kind": "limit_change", "target": their_cut.pk, "reason": "mine now"},
    )
    assert response.status_code == 404
    assert not Appeal.objects.exists()
