"""What the hotline says to callers by SMS, in Vietnamese, sized to SMS segments."""

from __future__ import annotations

from tickets.codes import display_code

# GSM 03.38 basic alphabet. Anything outside it (every Vietnamese diacritic) makes the
# whole message UCS-2, where a segment holds 70 characters instead of 160.
_GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENDED = set("^{}\\[~]|€")
MAX_ANSWER_SEGMENTS = 5  # an answer longer than this is cut and points to the status page


def segments(text: str) -> tuple[str, int]:
    """The encoding ("GSM-7" or "UCS-2") and the number of SMS segments ``text`` takes."""
    if all(c in _GSM7 or c in _GSM7_EXTENDED for c in text):
        units = sum(2 if c in _GSM7_EXTENDED else 1 for c in text)
        single, multi, encoding = 160, 153, "GSM-7"
    else:
        units = len(text.encode("utf-16-le")) // 2  # an emoji is two UTF-16 units
        single, multi, encoding = 70, 67, "UCS-2"
    if units <= single:
        return encoding, 1
    return encoding, -(-units // multi)


def fit(text: str, max_segments: int, tail: str = "") -> str:
    """``text`` cut at a word boundary so that ``text + tail`` fits in ``max_segments``."""
    if segments(text + tail)[1] <= max_segments:
        return text + tail
    words = text.split(" ")
    while words and segments(" ".join(words) + "…" + tail)[1] > max_segments:
        words.pop()
    return " ".join(words) + "…" + tail


def tracking(code: str, track_url: str) -> str:
    return (f"Tổng đài 1022 Bình Dương đã tiếp nhận phản ánh của bạn. Mã tra cứu: "
            f"{display_code(code)}. Theo dõi tại {track_url}")


def answer(code: str, resolution: str, track_url: str) -> str:
    head = f"Phản ánh {display_code(code)} đã được trả lời: "
    return fit(head + " ".join(resolution.split()), MAX_ANSWER_SEGMENTS, f" Chi tiết: {track_url}")


def survey(code: str) -> str:
    return (f"Bạn có hài lòng với kết quả xử lý phản ánh {display_code(code)}? "
            "Trả lời 1 = hài lòng, 2 = chưa hài lòng.")


def reply_to_caller(code: str, body: str, track_url: str) -> str:
    return fit(f"Về phản ánh {display_code(code)}: " + " ".join(body.split()), MAX_ANSWER_SEGMENTS,
               f" Chi tiết: {track_url}")


def follow_up_received(code: str) -> str:
    return f"Đã nhận thông tin bổ sung cho phản ánh {display_code(code)}. Cảm ơn bạn."


def survey_thanks(satisfied: bool) -> str:
    if satisfied:
        return "Cảm ơn bạn đã đánh giá. Tổng đài 1022 Bình Dương luôn sẵn sàng hỗ trợ."
    return ("Cảm ơn bạn đã phản hồi. Phản ánh đã được chuyển lại để xem xét; "
            "cán bộ sẽ liên hệ với bạn.")
