"""No outbound network at all: the app's main flows work in a network namespace without interfaces,
and no process of the app even tries to reach another computer.

One run covers both: ``unshare -n`` (a new network namespace: only a loopback device, which is
brought up so that the browser-mode server can answer on 127.0.0.1) with every Python process of the
run audited (a ``sitecustomize`` adds an audit hook that logs each socket connect, send, bind and name
lookup). The flows: CLI add, list, summary, report (PDF), import (CSV, OFX, QIF), export (CSV, XLSX),
backups; then ``serve``: the page, a script it loads, the health check, and a hostile cross-origin
WebSocket attempt (refused, and it must not make the server look anything up on the internet).
Where ``unshare -n`` is not allowed (no root / CAP_SYS_ADMIN), the audited run alone is done.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from reliability_helpers import NETWORK_AUDIT, bank_files, outbound, record_figures

HELPERS = Path(__file__).resolve().with_name("reliability_helpers.py")


def netns_unavailable() -> str:
    """Empty if ``unshare -n`` works here, else why not."""
    if sys.platform != "linux" or not shutil.which("unshare"):
        return "needs Linux with unshare(1)"
    probe = subprocess.run(["unshare", "-n", "true"], capture_output=True, text=True, timeout=30)
    if probe.returncode != 0:
        return f"unshare -n is not allowed here (needs root or CAP_SYS_ADMIN): {probe.stderr.strip()}"
    return ""


def import_files() -> list[str]:
    """One real bank file of each format (ones with transactions in them)."""
    wanted = ("chase_checking.csv", "checking.ofx", "test.qif")
    return [str(p) for name in wanted for p in bank_files() if p.name == name][:3]


def test_main_flows_work_offline_and_nothing_reaches_for_the_network(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(NETWORK_AUDIT, encoding="utf-8")
    audit = tmp_path / "network-audit.jsonl"
    work = tmp_path / "work"
    work.mkdir()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        "ET_NETWORK_AUDIT": str(audit),
        "EXPENSE_TRACKER_LOG_DIR": str(tmp_path / "logs"),
    }
    files = import_files()
    flows = [sys.executable, str(HELPERS), "flows", str(tmp_path / "data"), str(work), *files]
    reason = netns_unavailable()
    if reason:
        command = flows
    else:
        script = 'ip link set lo up 2>/dev/null || true; ip -o link > "$0/links.txt" 2>&1; exec "$@"'
        command = ["unshare", "-n", "sh", "-c", script, str(work), *flows]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads((work / "flows.json").read_text(encoding="utf-8"))

    for name, result in results.items():
        if isinstance(result, dict) and "code" in result and name not in ("page", "script", "health", "serve"):
            assert result["code"] == 0, (name, result)
    assert sorted(r["note"] for r in json.loads(results["list"]["out"])) == ["", "offline ✓"]
    assert results["serve url"].startswith("http://127.0.0.1:"), results
    assert results["page"] == {"code": 200, "html": True, "bytes": results["page"]["bytes"]}
    assert results["script"]["code"] == 200
    assert results["health"] == {"code": 200, "body": "ok"}
    assert results["hostile websocket"]["status_line"].split()[1] in ("400", "403"), results["hostile websocket"]
    assert results["serve"]["code"] == 0, results["serve"]
    assert (work / "report.pdf").read_bytes().startswith(b"%PDF")
    assert (work / "all.xlsx").stat().st_size > 0

    events = [json.loads(line) for line in audit.read_text(encoding="utf-8").splitlines()] if audit.exists() else []
    assert events, "the audit hook saw nothing: it was not installed"
    reaching_out = outbound(events)
    assert not reaching_out, "processes of the app reached for the network:\n" + "\n".join(map(str, reaching_out))
    links = (work / "links.txt").read_text() if (work / "links.txt").exists() else ""
    if not reason:
        assert [line.split(":")[1].strip() for line in links.splitlines() if line.strip()] == ["lo"], links
    record_figures(
        "offline",
        {
            "network_namespace": "unshare -n (loopback only)" if not reason else f"not available: {reason}",
            "flows": sorted(k for k in results if k != "serve url"),
            "audited_socket_events": len(events),
            "non_loopback_attempts": len(reaching_out),
        },
    )
