"""Cron and watch triggers inside ``buttons serve`` (CONTRACT 12.1): tasks on the server's loop.

Cron (:class:`Scheduler`):

Every ``TICK`` the cron triggers are read from the buttons (so a trigger added, changed or removed
while the server runs takes effect without a restart). A trigger seen for the first time is only
scheduled, never fired at once; when its time comes it is fired through ``Api.fire`` (the press
service, counted among the presses in flight: a fire that finds them all taken is skipped and
logged) and scheduled again from that moment. ``@every D`` runs every D from when it was first
seen; cron expressions run in the local time zone.

Watch (:class:`Watcher`): file-system events (inotify, through ``watchfiles``), not polling. Every
``TICK`` the watch triggers are read; the folders holding their files are watched (a folder that
does not exist yet is picked up once it does). A file created, written or replaced fires its
triggers once per burst of events (``DEBOUNCE_MS``); a deletion does not. Nothing fires at start.
Relative paths are relative to the directory the server was started in.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time

import anyio

from ..services import presses
from ..services import triggers as service
from .app import Api, log

TICK = 1.0  # seconds between looks at the triggers
DEBOUNCE_MS = 300  # events this close together are one change


class Scheduler:
    def __init__(self, api: Api) -> None:
        self.api = api
        self.next: dict[tuple[str, str, str], float] = {}  # (button, id, schedule) -> epoch seconds

    async def run(self) -> None:
        while True:
            try:
                found = await anyio.to_thread.run_sync(service.cron_triggers, self.api.layout)
            except Exception as exc:  # a data dir that cannot be read now may be readable next tick
                log(f"cron: cannot read the triggers: {exc!r}")
                found = []
            self.tick(found, time.time())
            await anyio.sleep(TICK)

    def tick(self, found: list[tuple[str, dict[str, object]]], now: float) -> None:
        seen = set()
        for button, trigger in found:
            key = (button, str(trigger.get("id", "")), str(trigger.get("schedule", "")))
            seen.add(key)
            due = self.next.get(key)
            if due is None:
                self.next[key] = service.next_fire(key[2], now)
                continue
            if now < due:
                continue
            self.next[key] = service.next_fire(key[2], now)
            self.fire(button, trigger)
        for key in set(self.next) - seen:
            del self.next[key]

    def fire(self, button: str, trigger: dict[str, object]) -> None:
        fire(self.api, button, trigger, f"cron {trigger.get('schedule')} ({trigger.get('id')})")


def fire(api: Api, button: str, trigger: dict[str, object], source: str) -> None:
    """Press ``button`` with the trigger's args in the background, if a press slot is free."""
    raw_args = trigger.get("args")
    args = {str(k): str(v) for k, v in raw_args.items()} if isinstance(raw_args, dict) else {}
    cancel = threading.Event()
    if not api.inflight.enter(cancel):
        log(f"{source}: {button} skipped: too many presses are running")
        return
    api.fire(presses.PressRequest(button, args=args, cancel=cancel), cancel, source)


Watched = dict[str, list[tuple[str, dict[str, object]]]]  # absolute file path -> (button, trigger)


class Watcher:
    def __init__(self, api: Api) -> None:
        self.api = api
        self.files: Watched = {}
        self.dirs: frozenset[str] = frozenset()
        self.task: asyncio.Task[None] | None = None

    async def run(self) -> None:
        try:
            while True:
                try:
                    found = await anyio.to_thread.run_sync(service.watch_triggers, self.api.layout)
                except Exception as exc:
                    log(f"watch: cannot read the triggers: {exc!r}")
                    found = []
                files: Watched = {}
                for button, trigger in found:
                    files.setdefault(os.path.abspath(str(trigger["path"])), []).append((button, trigger))
                self.files = files
                dirs = frozenset(d for d in {os.path.dirname(p) for p in files} if os.path.isdir(d))
                if dirs != self.dirs:
                    await self._stop()
                    self.dirs = dirs
                    if dirs:
                        self.task = asyncio.get_running_loop().create_task(self._watch(dirs))
                await anyio.sleep(TICK)
        finally:
            await self._stop()

    async def _stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
            self.task = None

    async def _watch(self, dirs: frozenset[str]) -> None:
        from watchfiles import Change, awatch

        try:
            async for changes in awatch(
                *sorted(dirs), watch_filter=None, debounce=DEBOUNCE_MS, recursive=False
            ):
                self.changed({path for change, path in changes if change != Change.deleted})
        except Exception as exc:  # e.g. a watched folder removed, or inotify limits reached
            log(f"watch: stopped watching {', '.join(sorted(dirs))}: {exc!r}")
            self.dirs = frozenset()  # watched again on the next look

    def changed(self, paths: set[str]) -> None:
        for path in sorted(paths):
            for button, trigger in self.files.get(os.path.abspath(path), []):
                fire(self.api, button, trigger, f"watch {trigger.get('path')} ({trigger.get('id')})")
