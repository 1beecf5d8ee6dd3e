"""TwiML documents the hotline answers Twilio with, in Vietnamese.

Pure builders: they take plain values (URLs, menu entries, texts) and return XML strings,
so the flows can be read and tested without a web server.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import wraps
from typing import TypeVar

from twilio.twiml.voice_response import Dial, Gather, VoiceResponse

LANGUAGE = "vi-VN"
# The basic man/woman voices are not documented to speak Vietnamese; a Google vi-VN one is.
DEFAULT_VOICE = "Google.vi-VN-Wavenet-A"
QUEUE_1022 = "operators-1022"
QUEUE_115 = "dispatch-115"


@dataclass(frozen=True)
class MenuEntry:
    digit: str
    category: str
    label_vi: str
    speech_keywords: tuple[str, ...]


F = TypeVar("F", bound=Callable[..., str])


def _reused(method: F) -> F:
    """Build a document once per voice and arguments: the menu and the queue are the same
    for every call (fixed prompts, fixed URLs), and building one costs more than the rest of
    answering. Arguments that cannot be a key (a list of entries) are built every time."""
    cache: dict = {}

    @wraps(method)
    def wrapper(self: Voice, *args, **kwargs) -> str:
        key = (self.voice, args, tuple(sorted(kwargs.items())))
        try:
            return cache[key]
        except TypeError:
            return method(self, *args, **kwargs)
        except KeyError:
            pass
        if len(cache) >= 256:  # the URLs come from settings: a few keys; never grow without bound
            cache.clear()
        document = cache[key] = method(self, *args, **kwargs)
        return document

    return wrapper  # type: ignore[return-value]


class Voice:
    """Builds responses with one voice, so every prompt sounds the same."""

    def __init__(self, voice: str = DEFAULT_VOICE):
        self.voice = voice

    def _say(self, target, text: str) -> None:
        target.say(text, voice=self.voice, language=LANGUAGE)

    @_reused
    def menu(self, entries: Sequence[MenuEntry], action: str, fallback: str) -> str:
        """Greeting and category menu; no answer falls through to ``fallback``."""
        r = VoiceResponse()
        g = Gather(input="dtmf speech", action=action, method="POST", language=LANGUAGE,
                   num_digits=1, timeout=6, speech_timeout="auto", action_on_empty_result=False,
                   hints=", ".join(k for e in entries for k in e.speech_keywords[:2]))
        self._say(g, "Tổng đài 1022 tỉnh Bình Dương xin kính chào quý khách. "
                     "Cuộc gọi có thể được ghi âm để phục vụ quý khách tốt hơn.")
        self._say(g, " ".join(f"Để phản ánh về {e.label_vi}, nhấn phím {e.digit}." for e in entries))
        r.append(g)
        r.redirect(fallback, method="POST")
        return str(r)

    @_reused
    def queue(self, name: str, wait_url: str, action: str, intro: str | None = None) -> str:
        """Into the waiting queue for the next free person."""
        r = VoiceResponse()
        if intro:
            self._say(r, intro)
        r.enqueue(name, wait_url=wait_url, wait_url_method="POST", action=action, method="POST")
        return str(r)

    def waiting(self, position: int | None, emergency: bool) -> str:
        """What a waiting caller hears, repeated by Twilio while they wait."""
        r = VoiceResponse()
        if emergency:
            self._say(r, "Xin giữ máy, điều phối viên cấp cứu sẽ nghe máy ngay.")
        elif position and position > 1:
            self._say(r, f"Quý khách đang ở vị trí số {position}. Xin vui lòng giữ máy.")
        else:
            self._say(r, "Tổng đài viên sẽ nghe máy ngay. Xin vui lòng giữ máy.")
        r.pause(length=8)
        return str(r)

    def leave_queue(self) -> str:
        r = VoiceResponse()
        r.leave()
        return str(r)

    def voicemail(self, reason: str, action: str, recording_callback: str) -> str:
        """Record a message; the caller will be called back."""
        r = VoiceResponse()
        self._say(r, reason + " Xin quý khách để lại lời nhắn sau tiếng bíp, "
                              "chúng tôi sẽ gọi lại. Nhấn phím thăng để kết thúc.")
        r.record(action=action, method="POST", max_length=120, finish_on_key="#", play_beep=True,
                 recording_status_callback=recording_callback,
                 recording_status_callback_event="completed", recording_status_callback_method="POST")
        return str(r)

    def goodbye(self, text: str) -> str:
        r = VoiceResponse()
        self._say(r, text)
        r.hangup()
        return str(r)

    def dial(self, number: str, intro: str) -> str:
        r = VoiceResponse()
        self._say(r, intro)
        r.dial(number, timeout=30)
        return str(r)

    @staticmethod
    def bridge_from_queue(name: str, bridged_url: str) -> str:
        """An operator's or dispatcher's own call: connect it to the longest-waiting caller."""
        r = VoiceResponse()
        d = Dial()
        d.queue(name, url=bridged_url, method="POST")
        r.append(d)
        return str(r)


def empty() -> str:
    """Nothing to do: the answer for callbacks that do not control the call."""
    return str(VoiceResponse())
