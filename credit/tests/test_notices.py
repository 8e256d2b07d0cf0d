"""The one builder of limit and status notice contexts (services, servicing close, risk runs)."""

from decimal import Decimal

from core.events import EventType
from core.reasons import ReasonCode, reason_texts
from credit.services.notices import limit_notice, status_notice_context

D = Decimal


def notice(old: str, new: str, **extra):
    return limit_notice(
        old_limit=D(old),
        new_limit=D(new),
        available=D("100.00"),
        reason_codes=[ReasonCode.RESCORE],
        limit_change_id=7,
        **extra,
    )


def test_a_limit_notice_says_cut_or_raised_with_the_reasons_in_words_and_one_key_per_change():
    event, context, key = notice("1000.00", "600.00")
    assert (event, key) == (EventType.LIMIT_CUT, "limit-change:7")
    assert context == {
        "old_limit": "1000.00",
        "new_limit": "600.00",
        "available": "100.00",
        "reason_codes": [ReasonCode.RESCORE],
        "reasons": [str(text) for text in reason_texts([ReasonCode.RESCORE])],
        "limit_change_id": 7,
        "appeal_url": "/appeals/new/?kind=limit_change&target=7",
    }
    raised = notice("600.00", "1000.00")
    assert raised[0] == EventType.LIMIT_RAISED
    assert "appeal_url" not in raised[1]


def test_no_limit_notice_when_the_usable_limit_did_not_move():
    assert notice("1000.00", "1000.00") is None


def test_a_caller_announcing_many_changes_passes_the_words_it_already_has():
    assert notice("1000.00", "600.00", reasons=["cached"])[1]["reasons"] == ["cached"]


def test_a_status_notice_carries_the_status_reasons_and_numbers_as_text():
    context = status_notice_context(
        status="FROZEN",
        reason_codes=[ReasonCode.OVERDUE],
        available=D("-5.00"),
        effective_limit=D("995.00"),
    )
    assert context == {
        "status": "FROZEN",
        "reason_codes": [ReasonCode.OVERDUE],
        "reasons": [str(text) for text in reason_texts([ReasonCode.OVERDUE])],
        "available": "-5.00",
        "effective_limit": "995.00",
    }
