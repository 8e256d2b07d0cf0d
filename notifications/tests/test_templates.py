"""Every event × channel × language has a template; notices render in the recipient's language."""

import re

import pytest
from django.template import TemplateDoesNotExist
from django.utils import translation

from core.events import EventType
from notifications.catalogue import POLICIES
from notifications.channels import CHANNELS
from notifications.models import Channel
from notifications.rendering import notice_render
from notifications.sms import sms_segments
from notifications.templatetags import notification_text

LANGUAGES = ["zh-hans", "en"]
CASES = [
    (event, channel, language)
    for event, policy in POLICIES.items()
    for channel in policy.channels
    for language in LANGUAGES
]
CJK = re.compile(r"[\u4e00-\u9fff]")


def test_every_event_type_has_a_policy_with_at_least_one_channel():
    assert set(POLICIES) == set(EventType)
    assert all(policy.channels for policy in POLICIES.values())
    # Legally required notices cannot be switched off: only marketing is opt-out.
    assert [e for e, p in POLICIES.items() if p.marketing] == [EventType.MARKETING]
    assert [e for e, p in POLICIES.items() if p.urgent] == [
        EventType.LOGIN_CODE,
        EventType.VERIFICATION_CODE,
    ]


@pytest.mark.parametrize(("event", "channel", "language"), CASES)
def test_every_template_exists_and_renders_with_the_events_variables(event, channel, language):
    notice = notice_render(
        channel=channel,
        template_key=event.lower(),
        language=language,
        context=POLICIES[event].sample,
    )

    assert notice.body
    assert "{{" not in notice.body and "{%" not in notice.body
    if not CHANNELS[channel].has_subject:
        assert notice.subject == "" and "\n" not in notice.body
    else:
        assert notice.subject and "\n" not in notice.subject
    if language == "en":
        # No Chinese of our own in English texts (the sample's merchant names are Chinese).
        sample_text = "".join(str(v) for v in POLICIES[event].sample.values())
        assert set(CJK.findall(notice.subject + notice.body)) <= set(CJK.findall(sample_text))
    else:
        assert CJK.search(notice.body)


@pytest.mark.parametrize(
    ("event", "language"),
    [(e, lang) for e, p in POLICIES.items() if Channel.SMS in p.channels for lang in LANGUAGES],
)
def test_sms_texts_are_short(event, language):
    notice = notice_render(
        channel=Channel.SMS,
        template_key=event.lower(),
        language=language,
        context=POLICIES[event].sample,
    )

    # Chinese texts fit one SMS (70 characters); English ones one GSM-7 SMS unless a Chinese
    # name in the sample forces UCS-2, and never more than two parts.
    assert sms_segments(notice.body) <= (1 if language == "zh-hans" else 2)


def test_a_notice_renders_in_each_language_with_its_own_formats():
    context = POLICIES[EventType.DUE_IN_3_DAYS].sample

    zh = notice_render(
        channel=Channel.SMS, template_key="due_in_3_days", language="zh-hans", context=context
    )
    en = notice_render(
        channel=Channel.SMS, template_key="due_in_3_days", language="en", context=context
    )

    assert zh.body == "【信用付】您有账单¥1,326.40将于3月13日到期，请提前备好资金，按时还款。"
    assert en.body == (
        "[Credit line] ¥1,326.40 is due on March 13. Please have the money ready and repay on time."
    )


def test_an_unsupported_language_falls_back_to_chinese():
    notice = notice_render(
        channel=Channel.SMS,
        template_key="login_code",
        language="fr",
        context={"code": "123456", "minutes": 5},
    )

    assert notice.body.startswith("【信用付】您的登录验证码是123456")


def test_reasons_are_worded_in_the_notices_language():
    context = POLICIES[EventType.LIMIT_CUT].sample

    en = notice_render(
        channel=Channel.IN_APP, template_key="limit_cut", language="en", context=context
    )

    assert "Why: Recent repayments were late; You are using most of your limit." in en.body


def test_texts_are_not_html_escaped():
    notice = notice_render(
        channel=Channel.IN_APP,
        template_key="marketing",
        language="en",
        context={"headline": "Tom & Jerry's <sale>", "body": "x"},
    )

    assert notice.subject == "Tom & Jerry's <sale>"


def test_a_template_in_an_earlier_directory_overrides_the_shipped_one(settings, tmp_path):
    override = tmp_path / "notifications" / "sms"
    override.mkdir(parents=True)
    (override / "login_code.en.txt").write_text("Code {{ code }}\n")
    engine = settings.TEMPLATES[0]
    settings.TEMPLATES = [{**engine, "DIRS": [tmp_path, *engine["DIRS"]]}]

    notice = notice_render(
        channel=Channel.SMS, template_key="login_code", language="en", context={"code": "654321"}
    )

    assert notice.body == "Code 654321"


def test_a_missing_template_raises():
    with pytest.raises(TemplateDoesNotExist):
        notice_render(channel=Channel.SMS, template_key="nothing", language="en", context={})


@pytest.mark.parametrize(
    ("filter_name", "value", "language", "expected"),
    [
        ("money", "1234.5", "en", "¥1,234.50"),
        ("money", "-600.00", "zh-hans", "-¥600.00"),
        ("percent", "0.142100", "en", "14.21%"),
        ("day", "2026-03-13", "zh-hans", "3月13日"),
        ("day", "2026-03-13", "en", "March 13"),
        ("day", "2026-06-30T16:30:00+00:00", "zh-hans", "7月1日"),  # 00:30 in Shanghai
        ("moment", "2026-03-10T01:41:00+00:00", "en", "March 10 09:41"),
        ("positive", "0.00", "en", False),
        ("positive", "0.01", "en", True),
    ],
)
def test_notice_filters(filter_name, value, language, expected):
    with translation.override(language):
        assert getattr(notification_text, filter_name)(value) == expected


@pytest.mark.parametrize("channel", [Channel.SMS, Channel.EMAIL, Channel.IN_APP])
def test_a_repayment_from_the_credit_balance_says_so_in_both_languages(channel):
    context = {**POLICIES[EventType.REPAYMENT_RECEIVED].sample, "from_credit_balance": True}
    texts = {
        language: notice_render(
            channel=channel, template_key="repayment_received", language=language, context=context
        )
        for language in LANGUAGES
    }

    assert "credit balance paid ¥407.20" in texts["en"].subject + texts["en"].body
    assert "余额已自动抵扣" in texts["zh-hans"].subject + texts["zh-hans"].body
    assert "received" not in texts["en"].body
    if channel == Channel.SMS:
        assert sms_segments(texts["zh-hans"].body) == 1
