"""Run HTTP-button presses inside an isolated network namespace (used by test_http_netns.py).

Started as ``unshare -rn python http_netns_helper.py`` with a JSON job on stdin. The namespace
has only a loopback interface, so nothing can leave the machine. On it the helper sets up:

* ``PUBLIC`` (93.184.216.34), an address outside every blocked range that stands in for a
  public server. It is *not* an interface address (those are blocked as the machine's own):
  it is reached through a local route for its /24 (``ip route add local ... dev lo``, "AnyIP"),
  so the kernel delivers connections to it here without assigning it to an interface.
* ``OWN`` (45.33.32.156), a public address assigned to ``lo``: the machine's own address,
  which the SSRF defence must refuse like loopback.

A recording server listens on 0.0.0.0:8080, each press in the job runs the real ``buttons``
console script, and the result (with the requests each press caused) is printed as JSON.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from http_support import RecordingServer

PUBLIC = "93.184.216.34"
PUBLIC_ROUTE = "93.184.216.0/24"
OWN = "45.33.32.156"
PORT = 8080


def main() -> int:
    job = json.load(sys.stdin)
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    subprocess.run(["ip", "route", "add", "local", PUBLIC_ROUTE, "dev", "lo"], check=True)
    subprocess.run(["ip", "addr", "add", f"{OWN}/32", "dev", "lo"], check=True)
    server = RecordingServer("0.0.0.0", PORT).start()  # noqa: S104 - an isolated namespace
    results = []
    try:
        for press in job["presses"]:
            env = dict(job["env"])
            env.update(press.get("env", {}))
            before = len(server.requests)
            proc = subprocess.run(
                [job["buttons"], *press["argv"]],
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
                stdin=subprocess.DEVNULL,
            )
            time.sleep(0.05)
            with server.lock:
                requests = [dict(r) for r in server.requests[before:]]
            results.append(
                {
                    "returncode": proc.returncode,
                    "stdout": proc.stdout,
                    "stderr": proc.stderr,
                    "requests": requests,
                }
            )
    finally:
        server.stop()
    json.dump(results, sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
