"""The code runner: ``<interpreter> <abs path of main.*>`` under the supervisor (CONTRACT 7.2)."""

from __future__ import annotations

import os

from ...errors import RuntimeMissing
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
            return Outcome.failure("RUNTIME_MISSING", f"unsupported runtime: {runtime}")
        try:
            interpreter = rt.interpreter()
        except RuntimeMissing as exc:
            return Outcome.failure("RUNTIME_MISSING", exc.message)
        script = os.path.join(inv.button_dir, rt.filename)
        if not os.path.isfile(script):
            return Outcome.failure("SCRIPT_ERROR", f"code file not found: {script}")

        env = dict(os.environ)
        env.update(inv.env_extra)
        for key, value in inv.spec.env.items():
            if not key or "=" in key or "\0" in key or "\0" in value:
                return Outcome.failure(
                    "VALIDATION_ERROR",
                    f"button.json env entry {key!r} cannot be passed to a process (empty name, '=' or NUL)",
                )
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
        )
        res = supervisor.run(req)
        if res.spawn_error is not None:
            return Outcome.failure("SCRIPT_ERROR", res.spawn_error)
        out = Outcome(
            status="ok",
            exit_code=res.exit_code,
            stdout=req.stdout.text(),
            stderr=req.stderr.text(),
            stdout_dropped=req.stdout.dropped,
            stderr_dropped=req.stderr.dropped,
        )
        if res.cancelled:
            out.status, out.error_type, out.exit_code = "error", "CANCELLED", -1
            if res.interrupted_by:
                import signal

                note = f"interrupted: the engine received {signal.Signals(res.interrupted_by).name}"
            else:
                note = "cancelled: the press was ended before it finished"
            out.stderr = (out.stderr.rstrip("\n") + "\n" if out.stderr else "") + note
            return out
        if res.timed_out:
            out.status, out.error_type, out.exit_code = "timeout", "TIMEOUT", -1
            if not out.stderr.strip():
                out.stderr = f"timed out after {_fmt_secs(inv.timeout)}"
            return out
        if res.signal is not None:
            out.exit_code = -1
        if res.exit_code != 0 or res.signal is not None:
            out.status, out.error_type = "error", "SCRIPT_ERROR"
            hit = _limits.diagnose(inv.limits, res.signal, out.stderr[-4096:], res.exit_code)
            if hit:
                out.limit_exceeded = hit
                note = _limits.describe(hit, inv.limits)
                out.stderr = (out.stderr.rstrip("\n") + "\n" if out.stderr else "") + note
            elif res.signal is not None:
                out.stderr = (
                    out.stderr.rstrip("\n") + "\n" if out.stderr else ""
                ) + f"killed by signal {res.signal}"
        return out


def _fmt_secs(t: float) -> str:
    return f"{int(t)}s" if float(t).is_integer() else f"{t:g}s"
