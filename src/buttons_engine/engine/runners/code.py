"""The code runner: ``<interpreter> <abs path of main.*>`` under the supervisor (CONTRACT 7.2)."""

from __future__ import annotations

import os

from ...errors import Cancelled, PressTimeout, RuntimeMissing, ScriptError, ValidationError
from .. import limits as _limits
from .. import supervisor
from ..args import env_name
from ..capture import Capture
from ..outcome import Invocation, Outcome
from ..runtimes import runtime_for


class CodeRunner:
    def run(self, inv: Invocation) -> Outcome:
        runtime = inv.spec.runtime
        rt = runtime_for(runtime)
        if rt is None:
            return Outcome.failure(RuntimeMissing(f"unsupported runtime: {runtime}"))
        try:
            interpreter = rt.interpreter()
        except RuntimeMissing as exc:
            return Outcome.failure(exc)
        script = os.path.join(inv.button_dir, rt.filename)
        if not os.path.isfile(script):
            return Outcome.failure(ScriptError(f"code file not found: {script}"))

        env = dict(os.environ)
        env.update(inv.env_extra)
        for key, value in inv.spec.env.items():
            if not key or "=" in key or "\0" in key or "\0" in value:
                problem = "cannot be passed to a process (empty name, '=' or NUL)"
                return Outcome.failure(ValidationError(f"button.json env entry {key!r} {problem}"))
            env[key] = value
        for k, v in inv.args.items():
            env[env_name(k)] = v
        if inv.progress_path:
            env["BUTTONS_PROGRESS_PATH"] = inv.progress_path

        req = supervisor.ProcessRequest(
            argv=[interpreter, script],
            env=env,
            press_id=inv.press_id,
            timeout=inv.timeout,
            preexec=_limits.preexec_for(inv.limits),
            stdout=Capture(chunk_filter=inv.filter_factory()),
            stderr=Capture(chunk_filter=inv.filter_factory()),
            on_output=inv.on_output,
            cancel=inv.cancel,
            hold_fds=inv.hold_fds,
        )
        res = supervisor.run(req)
        if res.spawn_error is not None:
            return Outcome.failure(ScriptError(res.spawn_error))
        out = Outcome(
            status="ok",
            exit_code=res.exit_code,
            stdout=req.stdout.text(),
            stderr=req.stderr.text(),
            stdout_dropped=req.stdout.dropped,
            stderr_dropped=req.stderr.dropped,
        )
        if res.cancelled:
            if res.interrupted_by:
                import signal

                note = f"interrupted: the engine received {signal.Signals(res.interrupted_by).name}"
            else:
                note = "cancelled: the press was ended before it finished"
            out.stderr = _append(out.stderr, note)
            return out.fail(Cancelled(note), exit_code=-1)
        if res.timed_out:
            note = f"timed out after {_fmt_secs(inv.timeout)}"
            if not out.stderr.strip():
                out.stderr = note
            return out.fail(PressTimeout(note), exit_code=-1)
        if res.signal is not None:
            out.exit_code = -1
        if res.exit_code != 0 or res.signal is not None:
            note = f"exit code {res.exit_code}"
            hit = _limits.diagnose(inv.limits, res.signal, out.stderr[-4096:], res.exit_code)
            if hit:
                out.limit_exceeded = hit
                note = _limits.describe(hit, inv.limits)
                out.stderr = _append(out.stderr, note)
            elif res.signal is not None:
                note = f"killed by signal {res.signal}"
                out.stderr = _append(out.stderr, note)
            out.fail(ScriptError(note))
        return out


def _append(text: str, note: str) -> str:
    return (text.rstrip("\n") + "\n" if text else "") + note


def _fmt_secs(t: float) -> str:
    return f"{int(t)}s" if float(t).is_integer() else f"{t:g}s"
