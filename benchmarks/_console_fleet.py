"""Many Socket.IO consoles for the fan-out benchmark, spread over several processes.

Why not python-socketio's client: 500 of its ``AsyncClient`` in one process decode every
frame through several layers of Python on one core, one after another, so the 500th console
"hears" an event long after its frame arrived — the harness, not the server, then sets the
figure. These consoles speak just enough of the protocol (Engine.IO 4 over a WebSocket,
Socket.IO 5 on the default namespace: open, connect with auth, ping/pong, events) and are
spread over ``processes`` processes, so each process has ~100 frames to read per event.

Arrival is stamped with ``time.time()`` as soon as a frame is read, before anything else;
the event's payload carries ``sent`` (the emitter's ``time.time()``, same machine, same
clock), so delivery = arrival − sent.

    with ConsoleFleet(base, 500, "bench", auth={"token": ...}) as fleet:
        fleet.expect_round(r, emit)   # emit one event, wait until every console has it
        delays, missed = fleet.results()
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import time
from collections.abc import Callable
from multiprocessing.connection import Connection

import aiohttp

CONNECT_BATCH = 25  # connections opened at once per process (the server accepts one by one)


async def _console(http: aiohttp.ClientSession, url: str, auth: dict | None, event: str,
                   arrivals: dict[int, list[float]], on_round: Callable[[int], None],
                   connected: asyncio.Future) -> None:
    """One console: handshake, then stamp every ``event`` until the socket closes."""
    prefix = f'42["{event}",'
    try:
        async with http.ws_connect(url, heartbeat=None, autoping=True) as ws:
            opening = await ws.receive_str()  # Engine.IO open: 0{"sid": ..., "pingInterval": ...}
            if not opening.startswith("0"):
                raise ConnectionError(f"unexpected Engine.IO open {opening[:80]!r}")
            await ws.send_str("40" + (json.dumps(auth) if auth else ""))
            reply = await ws.receive_str()
            if not reply.startswith("40"):
                raise ConnectionError(f"Socket.IO connect refused: {reply[:80]!r}")
            connected.set_result(True)
            async for message in ws:
                now = time.time()
                data = message.data
                if data == "2":  # Engine.IO ping: answer, or the server drops us
                    await ws.send_str("3")
                elif isinstance(data, str) and data.startswith(prefix):
                    payload = json.loads(data[2:])[1]
                    got = arrivals.setdefault(payload["round"], [])
                    got.append(now - payload["sent"])
                    on_round(payload["round"])
    except Exception as error:  # noqa: BLE001 - reported to the parent as a failed connection
        if not connected.done():
            connected.set_exception(error)


async def _process_main(conn: Connection, base: str, count: int, event: str, auth: dict | None) -> None:
    url = base.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    arrivals: dict[int, list[float]] = {}
    loop = asyncio.get_running_loop()

    def on_round(r: int) -> None:
        if len(arrivals[r]) == count:
            conn.send(("done", r))

    async with aiohttp.ClientSession() as http:
        tasks, failures = [], 0
        for start in range(0, count, CONNECT_BATCH):
            batch = [loop.create_future() for _ in range(min(CONNECT_BATCH, count - start))]
            tasks += [asyncio.create_task(_console(http, url, auth, event, arrivals, on_round, f)) for f in batch]
            for outcome in await asyncio.gather(*batch, return_exceptions=True):
                failures += outcome is not True
        conn.send(("ready", count - failures))
        await loop.run_in_executor(None, conn.recv)  # "stop"
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    conn.send(("results", arrivals))


def _process(conn: Connection, base: str, count: int, event: str, auth: dict | None) -> None:
    asyncio.run(_process_main(conn, base, count, event, auth))


class ConsoleFleet:
    """``consoles`` connected consoles over ``processes`` processes (context manager)."""

    def __init__(self, base: str, consoles: int, event: str, *, auth: dict | None = None,
                 processes: int = 5, ready_timeout: float = 120) -> None:
        self.consoles = consoles
        context = multiprocessing.get_context("spawn")
        shares = [consoles // processes + (i < consoles % processes) for i in range(processes)]
        self._pipes: list[Connection] = []
        self._children = []
        for share in (s for s in shares if s):
            parent, child = context.Pipe()
            process = context.Process(target=_process, args=(child, base, share, event, auth), daemon=True)
            process.start()
            self._pipes.append(parent)
            self._children.append(process)
        self._ready_timeout = ready_timeout
        self._results: dict[int, list[float]] = {}

    def __enter__(self) -> ConsoleFleet:
        connected = 0
        for pipe in self._pipes:
            if not pipe.poll(self._ready_timeout):
                raise TimeoutError("consoles did not connect in time")
            kind, n = pipe.recv()
            connected += n
        if connected != self.consoles:
            raise ConnectionError(f"only {connected} of {self.consoles} consoles connected")
        return self

    def expect_round(self, r: int, emit: Callable[[int], None], timeout: float = 10) -> None:
        """Emit round ``r`` and wait until every process has it on all its consoles (or timeout)."""
        emit(r)
        waiting = set(range(len(self._pipes)))
        deadline = time.monotonic() + timeout
        while waiting and time.monotonic() < deadline:
            for i in list(waiting):
                pipe = self._pipes[i]
                while pipe.poll(0.001):
                    kind, value = pipe.recv()
                    if kind == "done" and value == r:
                        waiting.discard(i)

    def results(self, rounds: int) -> tuple[list[float], int]:
        """Stop every console; delivery times (seconds) of every round, and deliveries missed."""
        merged: dict[int, list[float]] = {}
        for pipe in self._pipes:
            pipe.send("stop")
        for pipe in self._pipes:
            while True:
                kind, value = pipe.recv()
                if kind == "results":
                    for r, delays in value.items():
                        merged.setdefault(r, []).extend(delays)
                    break
        delays = [d for r in range(rounds) for d in merged.get(r, [])]
        missed = sum(self.consoles - len(merged.get(r, [])) for r in range(rounds))
        return delays, missed

    def __exit__(self, *exc) -> None:
        for process in self._children:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
