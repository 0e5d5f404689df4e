"""The server's sessions: one :class:`PlaygroundSession` per browser tab, its play loop and its listeners.

A :class:`SessionStore` holds at most ``max_sessions`` sessions, each in a :class:`Slot` with an
asyncio lock (one request or one training chunk at a time), the time of its last use, the
queues of its open event streams and, while it plays, a background task that trains in short
chunks on a worker thread (``asyncio.to_thread(session.train_for, 0.05)``) and publishes a
snapshot after each. The event loop itself never trains, so requests stay quick while a session
plays. Each event stream reads from a queue that keeps only the newest snapshot: a slow client
skips snapshots instead of slowing the training down.

A session unused for ``ttl`` seconds with no open event stream is dropped by :meth:`SessionStore.reap`
(the store runs it periodically once :meth:`SessionStore.start` was called): its play loop stops and
nothing keeps the session alive any more.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Callable
from typing import Any

__all__ = ["SessionStore", "Slot", "UnknownSession", "TooManySessions"]

log = logging.getLogger("dendrite.playground")

TRAIN_CHUNK_S = 0.05  # seconds of training between two snapshots of a playing session
MIN_PUBLISH_INTERVAL_S = 0.05  # at most 20 snapshots a second per session


class UnknownSession(KeyError):
    """No session has this id (it never existed, was deleted, or expired).

    Example:
        >>> str(UnknownSession("ab12"))
        'no such session (it may have expired): ab12'
    """

    def __str__(self) -> str:
        return f"no such session (it may have expired): {self.args[0]}"


class TooManySessions(RuntimeError):
    """The store already holds its maximum number of sessions.

    Example:
        >>> str(TooManySessions(32))
        'too many playground sessions (32 open); close a tab or wait for idle ones to expire'
    """

    def __str__(self) -> str:
        return (f"too many playground sessions ({self.args[0]} open); close a tab or wait for idle ones "
                f"to expire")


class Slot:
    """One session in the store: the session, its lock, last use, listeners and play task.

    Example:
        >>> slot = Slot("ab12", session=object(), now=0.0)
        >>> slot.id, slot.playing, slot.last_used
        ('ab12', False, 0.0)
    """

    def __init__(self, slot_id: str, session: Any, now: float):
        self.id = slot_id
        self.session = session
        self.lock = asyncio.Lock()  # one request or one training chunk at a time
        self.last_used = now
        self.listeners: set[asyncio.Queue] = set()
        self.play_task: asyncio.Task | None = None
        self.playing = False  # what the page is told; the loop stops at its next chunk when False
        self.revision = 0  # snapshots taken so far: a page keeps the highest it has seen

    def snapshot_now(self, include_points: bool = False) -> dict:
        """The session's snapshot with its ``revision``: call it holding the lock (``SessionStore.run``).

        Snapshots are taken one at a time under the session's lock, so a higher revision always
        shows a state at least as new. A page gets snapshots two ways, as answers to its requests
        and on the event stream, and they can arrive out of order (a step's answer after the reset
        that followed it): the page keeps the one with the highest revision.

        Example:
            >>> class Fixed:
            ...     def snapshot(self, include_points=False):
            ...         return {"epoch": 3}
            >>> slot = Slot("ab12", session=Fixed(), now=0.0)
            >>> slot.snapshot_now(), slot.snapshot_now()
            ({'epoch': 3, 'revision': 1}, {'epoch': 3, 'revision': 2})
        """
        snapshot = self.session.snapshot(include_points)
        self.revision += 1
        snapshot["revision"] = self.revision
        return snapshot

    def publish(self, snapshot: dict | None) -> None:
        """Give ``snapshot`` to every event stream, replacing one it has not sent yet (``None`` ends them).

        Example:
            >>> slot = Slot("ab12", session=object(), now=0.0)
            >>> queue = asyncio.Queue(maxsize=1); slot.listeners.add(queue)
            >>> slot.publish({"epoch": 1}); slot.publish({"epoch": 2})
            >>> queue.get_nowait()
            {'epoch': 2}
        """
        for queue in self.listeners:
            with contextlib.suppress(asyncio.QueueEmpty):
                queue.get_nowait()  # an unsent older snapshot is stale: keep only the newest
            queue.put_nowait(snapshot)


def _default_factory(config: dict | None):
    from dendrite.playground.session import PlaygroundSession

    return PlaygroundSession(config)


class SessionStore:
    """The server's sessions by id, with limits, expiry and play loops (all methods run on the event loop).

    ``factory(config)`` builds a session (default :class:`~dendrite.playground.session.PlaygroundSession`).
    ``ttl``: seconds a session may sit unused with no event stream before :meth:`reap` drops it.

    Example:
        >>> import asyncio
        >>> async def demo():
        ...     store = SessionStore(ttl=900, max_sessions=2)
        ...     slot = await store.create({"layers": []})
        ...     snapshot = await store.snapshot(slot)
        ...     await store.delete(slot.id)
        ...     return snapshot["epoch"], snapshot["playing"], len(store)
        >>> asyncio.run(demo())
        (0, False, 0)
    """

    def __init__(self, *, ttl: float = 900, max_sessions: int = 32,
                 factory: Callable[[dict | None], Any] | None = None,
                 clock: Callable[[], float] = time.monotonic):
        if not ttl > 0:
            raise ValueError(f"session ttl must be > 0 seconds, got {ttl!r}")
        if not (isinstance(max_sessions, int) and max_sessions >= 1):
            raise ValueError(f"max_sessions must be a whole number >= 1, got {max_sessions!r}")
        self.ttl, self.max_sessions = float(ttl), max_sessions
        self.factory = factory or _default_factory
        self.clock = clock
        self._slots: dict[str, Slot] = {}
        self._reaper: asyncio.Task | None = None

    def __len__(self) -> int:
        return len(self._slots)

    def __contains__(self, slot_id: str) -> bool:
        return slot_id in self._slots

    # ---- lifetime -------------------------------------------------------------------------------

    async def create(self, config: dict | None = None) -> Slot:
        """A new session built from ``config`` (validated by the session: ``ConfigError`` on bad input).

        Raises :class:`TooManySessions` when the store is full even after dropping expired sessions.
        """
        if len(self._slots) >= self.max_sessions:
            await self.reap()
        if len(self._slots) >= self.max_sessions:
            raise TooManySessions(len(self._slots))
        session = await asyncio.to_thread(self.factory, config)  # builds data and model: off the loop
        if len(self._slots) >= self.max_sessions:  # others were created while this one was built
            raise TooManySessions(len(self._slots))
        slot_id = secrets.token_hex(8)
        slot = self._slots[slot_id] = Slot(slot_id, session, self.clock())
        return slot

    def get(self, slot_id: str) -> Slot:
        """The session ``slot_id``, marked as used now; :class:`UnknownSession` when there is none.

        Example:
            >>> import asyncio
            >>> async def demo():
            ...     store = SessionStore()
            ...     slot = await store.create({"layers": []})
            ...     try:
            ...         store.get("no-such-id")
            ...     except UnknownSession as error:
            ...         return store.get(slot.id) is slot, type(error).__name__
            >>> asyncio.run(demo())
            (True, 'UnknownSession')
        """
        slot = self._slots.get(slot_id)
        if slot is None:
            raise UnknownSession(slot_id)
        slot.last_used = self.clock()
        return slot

    async def delete(self, slot_id: str) -> None:
        """Stop the session's play loop, end its event streams and forget it (:class:`UnknownSession`)."""
        slot = self._slots.pop(slot_id, None)
        if slot is None:
            raise UnknownSession(slot_id)
        await self._stop(slot)
        slot.publish(None)

    async def reap(self, now: float | None = None) -> list[str]:
        """Drop the sessions idle for more than ``ttl`` seconds with no open event stream; their ids."""
        now = self.clock() if now is None else now
        expired = [slot_id for slot_id, slot in self._slots.items()
                   if not slot.listeners and now - slot.last_used > self.ttl]
        for slot_id in expired:
            if slot_id in self._slots:
                await self.delete(slot_id)
        return expired

    def start(self) -> None:
        """Run :meth:`reap` periodically on the running event loop (the app's startup calls this).

        Example:
            >>> import asyncio
            >>> async def demo():
            ...     store = SessionStore(ttl=0.2)
            ...     store.start()
            ...     slot = await store.create({"layers": []})
            ...     while slot.id in store:  # left idle beyond ttl: the reaper drops it
            ...         await asyncio.sleep(0.01)
            ...     await store.shutdown()
            ...     return len(store)
            >>> asyncio.run(demo())
            0
        """
        if self._reaper is None:
            self._reaper = asyncio.create_task(self._reap_forever())

    async def _reap_forever(self) -> None:
        interval = min(max(self.ttl / 4, 0.05), 30.0)
        while True:
            await asyncio.sleep(interval)
            await self.reap()

    def end_streams(self) -> None:
        """End every open event stream (the server is stopping: it waits for open responses to end).

        Example:
            >>> import asyncio
            >>> async def demo():
            ...     store = SessionStore()
            ...     slot = await store.create({"layers": []})
            ...     queue = store.listen(slot)
            ...     store.end_streams()
            ...     return queue.get_nowait(), slot.id in store  # None ends a stream; the session stays
            >>> asyncio.run(demo())
            (None, True)
        """
        for slot in self._slots.values():
            slot.publish(None)

    async def shutdown(self) -> None:
        """Cancel the reaper and every play loop, end every event stream, forget every session."""
        tasks = [slot.play_task for slot in self._slots.values() if slot.play_task is not None]
        if self._reaper is not None:
            tasks.append(self._reaper)
            self._reaper = None
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for slot in self._slots.values():
            slot.playing, slot.play_task = False, None
            slot.publish(None)
        self._slots.clear()

    # ---- work on a session ----------------------------------------------------------------------

    async def run(self, slot: Slot, method: Callable, *args: Any) -> Any:
        """``method(*args)`` on a worker thread while holding the session's lock; its result."""
        async with slot.lock:
            result = await asyncio.to_thread(method, *args)
        slot.last_used = self.clock()
        return result

    async def snapshot(self, slot: Slot, include_points: bool = False) -> dict:
        """The session's snapshot with the server's keys ``session`` and ``playing``."""
        snapshot = await self.run(slot, slot.snapshot_now, include_points)
        snapshot["session"], snapshot["playing"] = slot.id, slot.playing
        return snapshot

    async def changed(self, slot: Slot, include_points: bool = False) -> dict:
        """Snapshot the session after a change, tell its event streams, and return the snapshot."""
        snapshot = await self.snapshot(slot, include_points)
        if slot.listeners:
            slot.publish({key: value for key, value in snapshot.items() if key != "points"})
        return snapshot

    def listen(self, slot: Slot) -> asyncio.Queue:
        """A queue that receives the session's snapshots (newest only; ``None`` when the session ends).

        Example:
            >>> import asyncio
            >>> async def demo():
            ...     store = SessionStore()
            ...     slot = await store.create({"layers": []})
            ...     queue = store.listen(slot)
            ...     await store.changed(slot)  # a change reaches every listener
            ...     snapshot = queue.get_nowait()
            ...     await store.delete(slot.id)  # and so does the session's end, as None
            ...     return snapshot["epoch"], queue.get_nowait()
            >>> asyncio.run(demo())
            (0, None)
        """
        queue: asyncio.Queue = asyncio.Queue(maxsize=1)
        slot.listeners.add(queue)
        return queue

    def unlisten(self, slot: Slot, queue: asyncio.Queue) -> None:
        """Stop sending to ``queue`` (its event stream closed); the session counts as used now.

        Example:
            >>> import asyncio
            >>> async def demo():
            ...     store = SessionStore()
            ...     slot = await store.create({"layers": []})
            ...     queue = store.listen(slot)
            ...     store.unlisten(slot, queue)
            ...     await store.changed(slot)
            ...     return queue.empty(), len(slot.listeners)
            >>> asyncio.run(demo())
            (True, 0)
        """
        slot.listeners.discard(queue)
        slot.last_used = self.clock()

    # ---- playing --------------------------------------------------------------------------------

    def play(self, slot: Slot) -> None:
        """Start the session's play loop (nothing when it plays already).

        Example:
            >>> import asyncio
            >>> async def demo():
            ...     store = SessionStore()
            ...     slot = await store.create({"layers": [], "points": 100})
            ...     queue = store.listen(slot)
            ...     store.play(slot)
            ...     snapshot = await queue.get()  # published after a chunk of training
            ...     await store.pause(slot)
            ...     await store.shutdown()
            ...     return snapshot["playing"], snapshot["steps"] > 0, slot.playing
            >>> asyncio.run(demo())
            (True, True, False)
        """
        slot.playing = True
        if slot.play_task is None or slot.play_task.done():
            slot.play_task = asyncio.create_task(self._play_loop(slot), name=f"play {slot.id}")

    async def pause(self, slot: Slot) -> None:
        """Stop the play loop after its current training chunk (safe while a step runs: it waits)."""
        await self._stop(slot)

    async def _stop(self, slot: Slot) -> None:
        slot.playing = False
        task, slot.play_task = slot.play_task, None
        if task is not None and task is not asyncio.current_task():
            # Not cancelled: a cancelled await on to_thread would release the lock while the worker
            # thread still trains; letting the chunk (<= TRAIN_CHUNK_S) finish keeps one owner.
            with contextlib.suppress(Exception):
                await task

    async def _play_loop(self, slot: Slot) -> None:
        try:
            await self._play(slot)
        except Exception:  # a bug, not the user's input: keep the server up, stop this loop, say so
            log.exception("the play loop of session %s failed", slot.id)
            slot.playing = False
            if slot.listeners:
                with contextlib.suppress(Exception):
                    snapshot = await self.snapshot(slot)  # playing is False by now
                    snapshot["error"] = "training failed; see the server log"
                    slot.publish(snapshot)

    async def _play(self, slot: Slot) -> None:
        last_publish = 0.0
        while slot.playing:
            async with slot.lock:
                if not slot.playing:
                    break
                await asyncio.to_thread(slot.session.train_for, TRAIN_CHUNK_S)
            if not slot.listeners:
                await asyncio.sleep(0)  # let requests in between chunks
                continue
            wait = last_publish + MIN_PUBLISH_INTERVAL_S - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            last_publish = time.monotonic()
            slot.publish(await self.snapshot(slot))
