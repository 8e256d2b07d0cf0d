"""SMS splitting: GSM-7 160 / 153 per part, UCS-2 (Chinese) 70 / 67 per part."""

import pytest

from notifications.sms import sms_length, sms_segments


@pytest.mark.parametrize(
    ("length", "segments"),
    [(0, 0), (1, 1), (70, 1), (71, 2), (134, 2), (135, 3), (201, 3), (202, 4)],
)
def test_a_chinese_text_is_one_sms_up_to_70_characters_then_parts_of_67(length, segments):
    assert sms_segments("额" * length) == segments


@pytest.mark.parametrize(
    ("length", "segments"), [(160, 1), (161, 2), (306, 2), (307, 3), (459, 3), (460, 4)]
)
def test_a_gsm7_text_is_one_sms_up_to_160_characters_then_parts_of_153(length, segments):
    assert sms_segments("a" * length) == segments


def test_one_chinese_character_makes_the_whole_text_ucs2():
    text = "a" * 69 + "元"

    assert sms_length(text) == ("UCS-2", 70)
    assert sms_segments(text + "b") == 2


def test_the_yuan_sign_and_accented_letters_are_gsm7_but_the_euro_counts_twice():
    assert sms_length("¥1,234.50 é") == ("GSM-7", 11)
    assert sms_length("€5 [x]") == ("GSM-7", 9)
    assert sms_segments("€" * 80) == 1
    assert sms_segments("€" * 81) == 2


def test_an_emoji_counts_two_ucs2_units():
    assert sms_length("👍") == ("UCS-2", 2)
    assert sms_segments("👍" * 35) == 1
    assert sms_segments("👍" * 36) == 2
