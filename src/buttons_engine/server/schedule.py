"""Cron triggers inside ``buttons serve`` (CONTRACT 12.1): a scheduler task on the server's loop.

Every ``TICK`` the cron triggers are read from the buttons (so a trigger added, changed or removed
while the server runs takes effect without a restart). A trigger seen for the first time is only
scheduled, never fired at once; when its time comes it is fired through ``Api.fire`` (the press
service, counted among the presses in flight: a fire that finds them all taken is skipped and
logged) and scheduled again from that moment. ``@every D`` runs every D from when it was first
seen; cron expressions run in the local time zone.
"""

from __future__ import annotations

import threading
import time

import anyio

from ..services import presses
from ..services import triggers as service
from .app import Api, log

TICK = 1.0  # seconds between looks at the schedule


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
        raw_args = trigger.get("args")
        args = {str(k): str(v) for k, v in raw_args.items()} if isinstance(raw_args, dict) else {}
        source = f"cron {trigger.get('schedule')} ({trigger.get('id')})"
        cancel = threading.Event()
        if not self.api.inflight.enter(cancel):
            log(f"{source}: {button} skipped: too many presses are running")
            return
        self.api.fire(presses.PressRequest(button, args=args, cancel=cancel), cancel, source)
