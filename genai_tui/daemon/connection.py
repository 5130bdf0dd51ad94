"""One client of the daemon: who it is (the same user, or refused), what it watches, and an
outbox that never lets a slow client slow the daemon or lose an end."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import struct
from collections import deque
from collections.abc import Mapping
from typing import Any

from genai_tui.daemon.codec import encode, event_to_wire
from genai_tui.jobs.events import Event

MAX_WAITING = 10_000
"""Messages a client may leave unread before it is let go (it is stuck, not slow)."""


def peer_uid(sock: socket.socket | None) -> int | None:
    """The user id of the process at the other end of a Unix socket (Linux SO_PEERCRED)."""
    if sock is None or not hasattr(socket, "SO_PEERCRED"):
        return None
    raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", raw)
    return int(uid)


def same_user(writer: asyncio.StreamWriter) -> bool:
    """Whether the peer runs as this daemon's user (the socket is 0600 too; this is the check
    that holds when a folder's permissions were loosened by hand)."""
    uid = peer_uid(writer.get_extra_info("socket"))
    return uid is None or uid == os.getuid()


class Connection:
    """A connected client: its subscriptions and its outbox, written by one sender task."""

    def __init__(self, writer: asyncio.StreamWriter, number: int) -> None:
        self.writer = writer
        self.number = number
        self.watch_all = False
        self.watching: set[str] = set()
        self.known: set[str] = set()
        """Jobs this client has been told about (their info goes first)."""
        self.kind = "client"
        self._outbox: deque[Mapping[str, Any] | Event] = deque()
        self._ready = asyncio.Event()
        self._sender = asyncio.create_task(self._send_all())
        self.closed = False

    def watches(self, job_id: str) -> bool:
        """Whether this client gets the job's events."""
        return self.watch_all or job_id in self.watching

    def send(self, message: Mapping[str, Any]) -> None:
        """Queue a reply or notice."""
        self._put(message)

    def send_event(self, event: Event) -> None:
        """Queue an event; a high-rate one replaces an older one of its kind still waiting."""
        if self._outbox and event.replaceable:
            last = self._outbox[-1]
            if (
                isinstance(last, Event)
                and type(last) is type(event)
                and last.job_id == event.job_id
                and event.supersedes(last)
            ):
                self._outbox[-1] = event
                return
        self._put(event)

    def _put(self, item: Mapping[str, Any] | Event) -> None:
        if self.closed:
            return
        if len(self._outbox) >= MAX_WAITING:
            self.close()
            return
        self._outbox.append(item)
        self._ready.set()

    async def _send_all(self) -> None:
        try:
            while True:
                await self._ready.wait()
                self._ready.clear()
                while self._outbox:
                    item = self._outbox.popleft()
                    message = (
                        {"op": "event", "event": event_to_wire(item)}
                        if isinstance(item, Event)
                        else item
                    )
                    self.writer.write(encode(message))
                    await self.writer.drain()
        except (ConnectionError, OSError, asyncio.CancelledError):
            self.closed = True

    async def flush(self, timeout: float = 2.0) -> None:
        """Wait (briefly) until the outbox is written: before the daemon leaves."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                while self._outbox and not self.closed:
                    await asyncio.sleep(0.01)

    def close(self) -> None:
        """Let the client go."""
        self.closed = True
        self._sender.cancel()
        with contextlib.suppress(Exception):
            self.writer.close()
