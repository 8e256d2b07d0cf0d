"""The customer API under /api/v1/appeals/: the portal's operations, errors with stable codes."""

import pytest
from knox.models import AuthToken
from rest_framework.test import APIClient

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
from testkit import reload
from testkit.credit import open_account
from testkit.people import officer

pytestmark = pytest.mark.django_db
BASE = "/api/v1/appeals/"


def api_for(user) -> APIClient:
    client = APIClient()
    _token, raw = AuthToken.objects.create(user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    return client


def test_anonymous_requests_are_refused():
    assert APIClient().get(BASE).status_code == 401


def test_a_customer_appeals_a_cut_with_json_and_reads_it_back():
    account = open_account()
    change = cut(account, "3000.00")
    api = api_for(account.customer)

    response = api.post(
        BASE,
        {"kind": "limit_change", "target_id": change.pk, "reason": "My income rose."},
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["type"] == "LIMIT_DECREASE"
    assert body["status"] == "SUBMITTED"
    assert body["target_id"] == change.pk
    assert [entry["code"] for entry in body["timeline"]] == ["submit"]
    assert api.get(f"{BASE}{body['id']}/").json()["reason"] == "My income rose."


def test_a_restoration_with_files_through_multipart_and_the_file_download():
    account = open_account()
    freeze(account)
    api = api_for(account.customer)

    response = api.post(
        BASE,
        {
            "kind": "RESTORATION",
            "target_id": account.pk,
            "reason": "Payslips for three months are attached here.",
            "files": [pdf("a.pdf"), pdf("b.pdf")],
        },
        format="multipart",
    )

    assert response.status_code == 201, response.json()
    attachments = response.json()["attachments"]
    assert [a["name"] for a in attachments] == ["a.pdf", "b.pdf"]
    download = api.get(attachments[0]["download_url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF_BYTES


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ({"kind": "freeze", "reason": "x", "target_id": None}, 400, "invalid_input"),
        ({"kind": "restoration", "reason": "too short"}, 400, "appeal_reason_too_short"),
        ({"kind": "limit_change", "reason": "x", "target_id": 10**9}, 404, "not_found"),
        ({"kind": "freeze", "reason": "x", "files": "renamed"}, 400, "attachment_type_refused"),
    ],
    ids=["missing-target", "short-restoration", "unknown-target", "renamed-exe"],
)
def test_refusals_carry_a_stable_code_and_write_nothing(payload, status, code):
    account = open_account()
    freeze(account)
    data = {k: v for k, v in {"target_id": account.pk, **payload}.items() if v is not None}
    if data.get("files") == "renamed":
        data["files"] = [renamed_exe()]
    response = api_for(account.customer).post(BASE, data, format="multipart")
    assert response.status_code == status, response.json()
    assert response.json()["code"] == code
    assert not Appeal.objects.exists()


def test_the_daily_limit_answers_429_and_an_open_appeal_409():
    account = open_account()
    changes = [cut(account, a) for a in ("9000.00", "8000.00", "7000.00", "6000.00")]
    api = api_for(account.customer)
    for change in changes[:3]:
        api.post(BASE, {"kind": "limit_change", "target_id": change.pk, "reason": "x"})

    again = api.post(BASE, {"kind": "limit_change", "target_id": changes[0].pk, "reason": "x"})
    fourth = api.post(BASE, {"kind": "limit_change", "target_id": changes[3].pk, "reason": "x"})

    assert (again.status_code, again.json()["code"]) == (409, "appeal_already_open")
    assert (fourth.status_code, fourth.json()["code"]) == (429, "appeal_rate_limited")


def test_answer_message_and_withdraw():
    appeal = frozen_appeal()
    reviewer = officer()
    in_review(appeal, reviewer)
    services.appeal_request_info(appeal=appeal, actor=reviewer, note="Which network?", now=NOW)
    api = api_for(appeal.customer)

    answered = api.post(
        f"{BASE}{appeal.pk}/answer/",
        {"text": "Campus Wi-Fi.", "files": [pdf("letter.pdf")]},
        format="multipart",
    )
    assert answered.status_code == 200, answered.json()
    assert answered.json()["status"] == "IN_REVIEW"
    assert answered.json()["attachments"][0]["name"] == "letter.pdf"

    written = api.post(f"{BASE}{appeal.pk}/messages/", {"body": "Thanks!"}, format="json")
    assert written.status_code == 201

    withdrawn = api.post(f"{BASE}{appeal.pk}/withdraw/")
    assert withdrawn.json()["status"] == "WITHDRAWN"
    again = api.post(f"{BASE}{appeal.pk}/withdraw/")
    assert (again.status_code, again.json()["code"]) == (409, "appeal_transition_refused")


def test_the_list_holds_only_my_appeals_with_a_bounded_number_of_queries(
    django_assert_max_num_queries,
):
    account = open_account()
    mine = [submit(account, "limit_change", cut(account, a)) for a in ("9000.00", "8000.00")]
    frozen_appeal()  # someone else's
    api = api_for(account.customer)

    with django_assert_max_num_queries(6):
        response = api.get(BASE)

    body = response.json()
    assert body["count"] == 2
    assert {row["id"] for row in body["results"]} == {a.pk for a in mine}


def test_another_customers_appeal_and_files_are_not_found_through_the_api():
    theirs = frozen_appeal(files=[pdf()])
    their_file = theirs.attachments.get()
    account = open_account()
    freeze(account)
    mine = submit(account, "freeze", files=[pdf()])
    api = api_for(account.customer)

    for method, url in (
        ("get", f"{BASE}{theirs.pk}/"),
        ("get", f"{BASE}{theirs.pk}/files/{their_file.pk}/"),
        ("get", f"{BASE}{mine.pk}/files/{their_file.pk}/"),
        ("post", f"{BASE}{theirs.pk}/answer/"),
        ("post", f"{BASE}{theirs.pk}/messages/"),
        ("post", f"{BASE}{theirs.pk}/withdraw/"),
    ):
        response = getattr(api, method)(url, {"text": "x", "body": "x"}, format="json")
        assert response.status_code == 404, url
        assert response.json()["code"] == "not_found"
    assert reload(theirs).status == AppealStatus.SUBMITTED
    assert api.get(f"{BASE}{theirs.pk + 10**6}/").status_code == 404


def test_the_schema_documents_the_appeal_endpoints(client):
    schema = client.get("/api/schema/").content.decode()
    assert "/api/v1/appeals/" in schema
    assert "/api/v1/appeals/{id}/answer/" in schema or "/api/v1/appeals/{pk}/answer/" in schema
