"""The dependency audit (.ci/audit.py) against a copy of PyPI's JSON API on loopback: it fails on a
known vulnerability, on a package it could not check and on an unreachable source, and passes
only what it checked or what .ci/audit-ignore.txt accepts with a reason."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.conftest import PROJECT, free_port

VULN = {"id": "GHSA-aaaa-bbbb-cccc", "aliases": ["CVE-2099-1", "PYSEC-2099-1"], "fixed_in": [], "withdrawn": None}
TWIN = {"id": "PYSEC-2099-1", "aliases": ["CVE-2099-1", "GHSA-aaaa-bbbb-cccc"], "fixed_in": [], "withdrawn": None}
OLD = {"id": "GHSA-old", "aliases": [], "fixed_in": ["1.0"], "withdrawn": "2099-01-01T00:00:00"}
PROJECTS = {
    "vulnerable": {"info": {"version": "1.0"}, "vulnerabilities": [VULN, TWIN, OLD]},
    "clean": {"info": {"version": "3.1"}, "vulnerabilities": []},
    "newer": {"info": {"version": "2.0"}, "vulnerabilities": []},
}


@pytest.fixture(scope="module")
def pypi():
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # noqa: ANN002
            pass

        def do_GET(self) -> None:  # noqa: N802
            parts = self.path.strip("/").split("/")  # pypi/<name>/json; per-release URLs are not served
            data = PROJECTS.get(parts[1]) if len(parts) == 3 and parts[2] == "json" else None
            body = json.dumps(data).encode() if data else b""
            self.send_response(200 if data else 404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def audit(base: str, tmp_path, ignore: str, *dists: str) -> subprocess.CompletedProcess:
    (tmp_path / "ignore.txt").write_text(ignore, encoding="utf-8")
    args = [sys.executable, str(PROJECT / ".ci" / "audit.py"), "--base-url", base,
            "--ignore", str(tmp_path / "ignore.txt"), *[a for d in dists for a in ("--dist", d)]]
    return subprocess.run(args, capture_output=True, text=True, timeout=60)


def test_a_known_vulnerability_fails(pypi, tmp_path):
    done = audit(pypi, tmp_path, "", "vulnerable==1.0", "clean==3.1")
    assert done.returncode == 1
    assert "KNOWN VULNERABILITIES (1)" in done.stderr and "vulnerable==1.0: GHSA-aaaa-bbbb-cccc" in done.stderr
    assert "GHSA-old" not in done.stderr + done.stdout, "a withdrawn advisory does not count"
    assert "Checked 2 of 2 packages" in done.stdout


def test_an_accepted_vulnerability_passes_and_is_named(pypi, tmp_path):
    done = audit(pypi, tmp_path, "# reasons\nCVE-2099-1 only the server is affected\n", "vulnerable==1.0")
    assert done.returncode == 0, done.stderr
    assert "accepted: vulnerable==1.0: GHSA-aaaa-bbbb-cccc" in done.stdout


def test_a_package_it_cannot_check_fails_unless_accepted(pypi, tmp_path):
    done = audit(pypi, tmp_path, "", "newer==1.5", "missing==0.1", "clean==3.1")
    assert done.returncode == 1
    assert "DEPENDENCY AUDIT INCOMPLETE: 2 packages" in done.stderr
    assert "newer==1.5 (latest is 2.0)" in done.stderr and "missing==0.1 (not on the index)" in done.stderr
    ignore = "unchecked newer==1.5 capped by a dependency\nunchecked missing==0.1 a local build\n"
    done = audit(pypi, tmp_path, ignore + "unchecked gone==9 no longer installed\n", "newer==1.5", "missing==0.1")
    assert done.returncode == 0, done.stderr
    assert "remove from .ci/audit-ignore.txt: gone==9" in done.stdout


def test_an_unreachable_source_fails_loudly(tmp_path):
    done = audit(f"http://127.0.0.1:{free_port()}", tmp_path, "", "clean==3.1")
    assert done.returncode == 2 and "DEPENDENCY AUDIT NOT RUN" in done.stderr


def test_an_acceptance_needs_a_reason(pypi, tmp_path):
    done = audit(pypi, tmp_path, "CVE-2099-1\n", "vulnerable==1.0")
    assert done.returncode == 1 and "needs a reason" in done.stderr


def test_the_projects_own_ignore_list_gives_a_reason_for_every_line():
    lines = (PROJECT / ".ci" / "audit-ignore.txt").read_text(encoding="utf-8").splitlines()
    for line in lines:
        words = line.split()
        if words and not words[0].startswith("#"):
            assert len(words) >= (4 if words[0] == "unchecked" else 3), line
