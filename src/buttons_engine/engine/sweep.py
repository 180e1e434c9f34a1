"""Finding and ending every process of one press: freeze, rescan, kill.

A press's processes are its main child's subtree plus the orphans this engine adopted that
belong to the press (``engine/active_presses.py`` decides which). Killing them one scan at a time
does not work against a process that keeps forking: ``fork(); parent exits; child setsid()``
has a new pid and a new session every generation, and a fork bomb outruns any kill loop.

So the sweep **freezes** first: every process found gets SIGSTOP, and a stopped process cannot
fork. A fork already in progress when the signal arrives may still complete (since Linux 5.1 only
a fatal signal restarts it), so the sweep waits until each frozen process is seen *stopped*
(state ``T``) and only then trusts a scan: its children, created before it stopped, are in the
process table by then. The press is scanned again until two such scans in a row find nothing
new; then every frozen process gets SIGKILL, and the adopted ones are reaped.

Orphans are looked at first in every round (they are this process's own children: one small
file per thread to read), because that is where a hopping process spends the moment between
two generations.
"""

from __future__ import annotations

import os
import time

from . import proctree

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .active_presses import ActivePresses, PressEntry
if TYPE_CHECKING:
    import signal
else:  # the C module: ``signal`` builds IntEnums at import, pulling ``enum`` onto the press path
    import _signal as signal

FREEZE_BUDGET = 10.0  # seconds one freeze may take before it kills what it has (never reached in tests)
QUIET_ROUNDS = 2  # scans in a row that must find nothing new
SETTLE_LIMIT = 0.25  # how long to wait for a frozen process to show as stopped


def press_processes(registry: ActivePresses, entry: PressEntry) -> list[tuple[int, int, str]]:
    """Every live process of the press: (pid, pgid, state), main child included."""
    tab = proctree.table()
    me = os.getpid()
    others = registry.main_children() - {entry.child_pid}
    roots = [entry.child_pid] if entry.child_pid in tab else []
    for pid, (ppid, _pg, _st) in tab.items():
        if ppid == me and pid != entry.child_pid and pid not in others and registry.owns(entry, pid):
            roots.append(pid)
    return proctree.subtree(tab, roots)


def leftovers(registry: ActivePresses, entry: PressEntry) -> list[int]:
    """Live processes of the press other than its main child."""
    return [p for p, _pg, st in press_processes(registry, entry) if p != entry.child_pid and st != "Z"]


def freeze_and_kill(registry: ActivePresses, entry: PressEntry, *, spare_group: int = 0) -> int:
    """SIGSTOP every process of the press until a rescan finds nothing new, then SIGKILL them all.

    ``spare_group``: leave the processes of this group alone (the main group, while it has its
    SIGTERM grace). Returns how many processes were killed.
    """
    with registry.freezing:
        return _freeze_and_kill(registry, entry, spare_group)


def _freeze_and_kill(registry: ActivePresses, entry: PressEntry, spare_group: int) -> int:
    frozen: set[int] = set()
    quiet = 0
    settle_by = 0.0
    give_up = time.monotonic() + FREEZE_BUDGET
    while quiet < QUIET_ROUNDS and time.monotonic() < give_up:
        # Observed before this round's scan: every frozen process has really stopped (or is gone).
        # A vfork parent cannot stop while its (frozen) child holds its memory: wait a little, not more.
        settled = all(_stopped_or_gone(pid) for pid in frozen)
        if settled:
            settle_by = 0.0
        elif not settle_by:
            settle_by = time.monotonic() + SETTLE_LIMIT
        elif time.monotonic() >= settle_by:
            settled = True
        new = _freeze_adopted(registry, entry, frozen, spare_group)
        for pid, pgid, state in press_processes(registry, entry):
            # The main child is ended through its group (and reaped by the supervisor), not here.
            if (
                pid in frozen
                or state == "Z"
                or pid == entry.child_pid
                or (spare_group and pgid == spare_group)
            ):
                continue
            if _kill(pid, signal.SIGSTOP):
                frozen.add(pid)
                new += 1
        quiet = quiet + 1 if not new and settled else 0
        if not new and not settled:
            time.sleep(0.002)  # a frozen process is still on its way to the stop (finishing a fork)
    for pid in frozen:
        _kill(pid, signal.SIGKILL)
    _await_death(frozen)
    registry.reap_adopted()
    return len(frozen)


def terminate(registry: ActivePresses, entry: PressEntry, grace: float) -> int:
    """End what is left of a press after its main child exited: SIGTERM, ``grace``, then freeze and kill."""
    if registry.nothing_left(entry):
        return 0
    victims = leftovers(registry, entry)
    if victims and grace > 0:
        for pid in victims:
            _kill(pid, signal.SIGTERM)
        end = time.monotonic() + grace
        while time.monotonic() < end:
            registry.reap_adopted()
            if not leftovers(registry, entry):
                break
            time.sleep(0.05)
    killed = freeze_and_kill(registry, entry)
    signal_group(entry.pgid, signal.SIGKILL)
    registry.reap_adopted()
    return killed or len(victims)


def signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _freeze_adopted(registry: ActivePresses, entry: PressEntry, frozen: set[int], spare_group: int) -> int:
    """Stop this process's unknown children first, ask whose they are afterwards; returns how
    many were frozen, plus those seen exiting (their marks could not be read).

    A hopping orphan can fork and exit in less time than it takes to read its environment and
    descriptors; stopped, it stays put while it is looked at. One that belongs to another press
    (or to the spared group) is continued at once; one that was already stopped is left stopped.
    Only one freeze runs at a time in this process (``registry.freezing``), so a press never
    continues a process that another press's sweep has just frozen.
    """
    registry.reap_adopted()  # a hopper leaves a zombie per generation: keep the list short
    kids = proctree.own_children()
    if not kids:
        return 0
    new = 0
    for pid in kids - registry.main_children() - frozen:
        row = proctree.stat(pid)
        if row is None or row[2] == "Z":
            new += 1  # it just exited: whatever it forked is becoming ours now
            continue
        was_stopped = row[2] in ("T", "t")
        if not was_stopped and not _kill(pid, signal.SIGSTOP):
            new += 1
            continue
        row = proctree.stat(pid) or row
        if registry.owns(entry, pid) and not (spare_group and row[1] == spare_group):
            frozen.add(pid)
            new += 1
            continue
        if not was_stopped:
            _kill(pid, signal.SIGCONT)
        after = proctree.stat(pid)
        if after is None or after[2] in ("Z", "X"):
            # It was exiting: its marks were already gone, and a child it forked is only now
            # becoming ours. Not a quiet round.
            new += 1
    return new


def _stopped_or_gone(pid: int) -> bool:
    row = proctree.stat(pid)
    return row is None or row[2] in ("T", "t", "Z", "X")


def _kill(pid: int, sig: int) -> bool:
    try:
        os.kill(pid, sig)
        return True
    except (ProcessLookupError, PermissionError):
        return False


def _await_death(pids: set[int], limit: float = 1.0) -> None:
    """Wait (briefly) until SIGKILLed processes are gone or zombies, so a caller sees them dead."""
    end = time.monotonic() + limit
    pending = set(pids)
    while pending and time.monotonic() < end:
        pending = {p for p in pending if (row := proctree.stat(p)) is not None and row[2] != "Z"}
        if pending:
            time.sleep(0.005)
