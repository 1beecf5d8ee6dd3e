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


def linked(code: str, track_url: str) -> str:
    """To a caller whose request repeats one already being handled (a follower)."""
    return (f"Phản ánh của bạn trùng với phản ánh {display_code(code)} đang được xử lý. "
            f"Kết quả sẽ được gửi tới bạn qua SMS. Theo dõi tại {track_url}")


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


# ---- 115: a hospital's emergency desk and the supervisors ----------------------------------

MAX_ALERT_SEGMENTS = 4  # a desk or supervisor alert: the facts, never a wall of text


def desk_alert(code: str, priority: str, what: str, where: str) -> str:
    """A hospital desk's SMS about a case dispatched to it: where first, it matters most."""
    head = f"115 chuyển ca cấp cứu {display_code(code)} ({priority}) tới quý BV. "
    facts = f"Tại: {where.rstrip(' .')}. Tình trạng: {what.rstrip(' .;')}."
    return fit(head + " ".join(facts.split()), MAX_ALERT_SEGMENTS,
               " Xác nhận trên màn hình trực hoặc bấm 1 khi 115 gọi.")


def supervisor_escalation(code: str, failures: int, next_hospital: str | None, where: str) -> str:
    """A supervisor's SMS when a 115 case needs a person: hospitals stayed silent or none is left."""
    going = f"đang chuyển {next_hospital}" if next_hospital else "không còn bệnh viện phù hợp"
    head = f"115 CẦN GIÁM SÁT: ca {display_code(code)}, {failures} BV không xác nhận, {going}. "
    return fit(head + " ".join(f"Tại: {where.rstrip(' .')}.".split()), MAX_ALERT_SEGMENTS)


# SLA escalation (tickets/escalation.py): to a contact point's or hospital's lead, and to supervisors.
_CLOCK_VI = {"first_response": "tiếp nhận", "acknowledgement": "xác nhận điều phối", "resolution": "giải quyết"}


def escalation(code: str, line: str, clock: str, trigger: str, due: str | None, unit: str | None,
               notify: str) -> str:
    """The SLA alert for a lead ("đề nghị xử lý ngay") or a supervisor ("đề nghị đôn đốc")."""
    subject = "Ca cấp cứu 115" if line == "115" else "Phản ánh 1022"
    state = "sắp quá hạn" if trigger == "warning" else "đã quá hạn"
    text = f"[SLA] {subject} {display_code(code)}"
    if notify == "supervisor":
        text += f" ({unit})" if unit else " (chưa giao đơn vị)"
    text += f" {state} {_CLOCK_VI.get(clock, clock)}"
    if due:
        text += f" (hạn {due})"
    text += ". Đề nghị xử lý ngay." if notify == "lead" else ". Đề nghị đôn đốc."
    return fit(text, 3)
