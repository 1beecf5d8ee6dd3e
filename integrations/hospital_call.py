"""What a hospital's emergency desk hears when 115 calls it about a case, in Vietnamese.

Pure builders, like ``integrations.twiml``: plain values in (the case as strings, URLs), TwiML
out. The desk hears the case twice; pressing 1 acknowledges it, any other key hears it again.
``simulate_answer`` plays the desk's side for a demo (`flask --app wsgi simulate-desk`).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Protocol

from twilio.twiml.voice_response import Gather, VoiceResponse

from integrations.simulator import Post, SimulatedCall
from integrations.twiml import DEFAULT_VOICE, LANGUAGE

READINGS = 2  # the case is read this many times before the call says goodbye
MAX_WRONG_KEYS = 3  # then goodbye: the console and the SMS still carry the case
PROMPT = "Bấm phím 1 để xác nhận tiếp nhận."
WRONG_KEY = "Phím vừa bấm không đúng."
NO_ANSWER = ("Tổng đài 115 chưa nhận được xác nhận. Xin vui lòng xác nhận trên màn hình trực cấp cứu. "
             "Xin cảm ơn.")
UNKNOWN = "Xin lỗi, không tìm thấy ca cấp cứu này. Xin vui lòng gọi lại tổng đài 115."
TROUBLE = ("Xin lỗi, hệ thống đang gặp sự cố. Xin vui lòng xem ca cấp cứu trên màn hình trực "
           "hoặc gọi lại tổng đài 115.")


class Case(Protocol):
    """The facts read to the desk (``tickets.hospital_alerts.CaseFacts``)."""

    code: str
    priority: str
    what: str
    where: str
    hospital: str


def spell(code: str) -> str:
    """A tracking code read character by character, in its two groups: "A B C D, E F G H"."""
    return f"{' '.join(code[:4])}, {' '.join(code[4:])}"


def announcement(case: Case) -> str:
    what, where = case.what.rstrip(" .;"), case.where.rstrip(" .;")
    return (f"Tổng đài cấp cứu 115 thông báo: có ca cấp cứu mức độ {case.priority}, điều phối tới "
            f"{case.hospital}. Tình trạng: {what}. Địa điểm: {where}. Mã ca: {spell(case.code)}.")


def acknowledged(case: Case) -> str:
    return f"Đã ghi nhận {case.hospital} tiếp nhận ca cấp cứu mã {spell(case.code)}. Xin cảm ơn."


def went_elsewhere(case: Case, other: str | None) -> str:
    where = f"cho {other}" if other else "cho bệnh viện khác"
    return (f"Ca cấp cứu mã {spell(case.code)} đã được chuyển {where} vì quá thời gian xác nhận. "
            "Quý vị không cần tiếp nhận ca này. Xin cảm ơn.")


def late_recorded(case: Case, other: str | None) -> str:
    return "Xác nhận của quý vị đã được ghi lại. " + went_elsewhere(case, other)


def already_acknowledged(case: Case) -> str:
    return f"Ca cấp cứu mã {spell(case.code)} đã được xác nhận tiếp nhận trước đó. Xin cảm ơn."


def closed(case: Case) -> str:
    return f"Ca cấp cứu mã {spell(case.code)} đã kết thúc hoặc đã được hủy. Không cần xử lý thêm. Xin cảm ơn."


class DeskCall:
    """Builds the desk call's answers with one voice."""

    def __init__(self, voice: str = DEFAULT_VOICE):
        self.voice = voice

    def _say(self, target, text: str) -> None:
        target.say(text, voice=self.voice, language=LANGUAGE)

    def announce(self, case: Case, action: str, *, prefix: str | None = None) -> str:
        """The case, read READINGS times, each inside a one-key Gather posting to ``action``;
        with no key pressed the call says goodbye."""
        r = VoiceResponse()
        for reading in range(READINGS):
            g = Gather(input="dtmf", num_digits=1, action=action, method="POST", timeout=5)
            lead = prefix if reading == 0 and prefix else ("Xin nhắc lại." if reading else "")
            self._say(g, f"{lead} {announcement(case)}".strip())
            self._say(g, PROMPT)
            r.append(g)
        self._say(r, NO_ANSWER)
        r.hangup()
        return str(r)

    def goodbye(self, text: str) -> str:
        r = VoiceResponse()
        self._say(r, text)
        r.hangup()
        return str(r)


def said(document: str) -> str:
    """What a TwiML answer says aloud (empty for an answer that is not TwiML)."""
    if not document.lstrip().startswith("<"):
        return ""
    root = ET.fromstring(document)  # noqa: S314 - the hotline's own answer, not outside input
    return " ".join((say.text or "").strip() for say in root.iter("Say")).strip()


def simulate_answer(sim: SimulatedCall, post: Post, alert_id: int, digits: str = "1") -> list[tuple[str, int, str]]:
    """Answer a desk call as the desk would, for a demo: it rings, the desk hears the case,
    presses ``digits`` and hangs up. Returns each (path, HTTP status, what was said)."""

    def params(**extra: str) -> dict[str, str]:
        return sim.params(Direction="outbound-api", **extra)

    query = f"?alert={alert_id}"
    steps = [(f"/twilio/dispatch/status{query}", params(CallStatus="ringing")),
             (f"/twilio/dispatch/announce{query}", params(CallStatus="in-progress")),
             (f"/twilio/dispatch/ack{query}", params(CallStatus="in-progress", Digits=digits)),
             (f"/twilio/dispatch/status{query}", params(CallStatus="completed", CallDuration="40"))]
    answers = []
    for path, form in steps:
        status, body = post(path, form)
        answers.append((path, status, said(body) if status == 200 else ""))
    return answers
