"""How long an SMS is, in the segments operators bill and phones reassemble.

A text made only of GSM-7 characters (the GSM 03.38 basic set; `^{}[]~|€\\` count twice)
fits 160 characters in one SMS; longer texts are split into parts of 153, because each part
spends 7 characters' room on the concatenation header. Any other character (Chinese, emoji)
switches the whole text to UCS-2: 70 characters in one SMS, 67 per part when concatenated,
counted in UTF-16 code units (an emoji outside the BMP counts two).
"""

import math

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")

GSM7_SINGLE, GSM7_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67


def is_gsm7(text: str) -> bool:
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text)


def sms_length(text: str) -> tuple[str, int]:
    """The encoding ("GSM-7" or "UCS-2") and the length in that encoding's units."""
    if is_gsm7(text):
        return "GSM-7", sum(2 if ch in GSM7_EXTENSION else 1 for ch in text)
    return "UCS-2", len(text.encode("utf-16-le")) // 2


def sms_segments(text: str) -> int:
    """How many SMS the text is sent as (0 for an empty text)."""
    encoding, length = sms_length(text)
    single, part = (GSM7_SINGLE, GSM7_PART) if encoding == "GSM-7" else (UCS2_SINGLE, UCS2_PART)
    if length <= single:
        return 1 if length else 0
    return math.ceil(length / part)
