"""Dependency audit: fail on any known vulnerability in the installed packages, and fail when it
cannot check, rather than pass quietly.

pip-audit is the tool of record, but it needs PyPI's per-release JSON API
(pypi.org/pypi/<name>/<version>/json).  Where that is unreachable and only the per-project API
answers (as on the build machines here, whose mirror serves pypi.org/pypi/<name>/json), this
script falls back to that API: its `vulnerabilities` list is for the project's latest release, so
an installed package at the latest release is checked exactly, and any other is reported as not
checked.  Accepted advisories and packages accepted as unchecked are listed, each with a reason,
in .ci/audit-ignore.txt.

Exit status: 0 all checked (or accepted) and clean; 1 a known vulnerability or a package that
could not be checked; 2 no advisory source reachable.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import importlib.metadata
import json
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

ROOT = Path(__file__).resolve().parent.parent
IGNORE = ROOT / ".ci" / "audit-ignore.txt"
PROJECT = "lgo-rag"  # this project itself, installed editable: not a dependency


@dataclass
class Accepted:
    advisories: dict[str, str] = field(default_factory=dict)  # advisory id -> reason
    unchecked: dict[str, str] = field(default_factory=dict)  # "name==version" -> reason


def read_accepted(path: Path) -> Accepted:
    """`ID reason` or `unchecked name==version reason` lines; a line without a reason is an error."""
    accepted = Accepted()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        words = line.split(maxsplit=2) if line.strip() and not line.lstrip().startswith("#") else []
        if not words:
            continue
        if words[0] == "unchecked":
            if len(words) < 3:
                sys.exit(f"{path}:{number}: 'unchecked name==version' needs a reason after it")
            name, _, version = words[1].partition("==")
            accepted.unchecked[f"{canonicalize_name(name)}=={version}"] = words[2]
        else:
            reason = line.split(maxsplit=1)[1:] or [""]
            if not reason[0].strip():
                sys.exit(f"{path}:{number}: advisory {words[0]} needs a reason after it")
            accepted.advisories[words[0]] = reason[0].strip()
    return accepted


def installed() -> dict[str, str]:
    dists = {canonicalize_name(d.metadata["Name"]): d.version for d in importlib.metadata.distributions()}
    dists.pop(PROJECT, None)
    return dists


def fetch_json(url: str, timeout: float = 20.0) -> dict | None:
    """The JSON at `url`; None for 404; raises OSError when the source cannot be reached."""
    for attempt in range(3):
        try:
            with urllib.request.urlopen(url, timeout=timeout) as reply:
                return json.load(reply)
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return None
            if attempt == 2:
                raise OSError(f"HTTP {exc.code} from {url}") from None
        except (urllib.error.URLError, TimeoutError) as exc:
            if attempt == 2:
                raise OSError(f"{url}: {getattr(exc, 'reason', exc)}") from None
    return None


def same_version(a: str, b: str) -> bool:
    try:
        return Version(a) == Version(b)
    except InvalidVersion:
        return a == b


def per_release_api(base: str, dists: dict[str, str]) -> bool:
    """Does the source answer for a release other than the latest (what pip-audit needs)?"""
    for name, version in sorted(dists.items())[:3]:
        try:
            if fetch_json(f"{base}/pypi/{name}/{version}/json", timeout=10) is not None:
                return True
        except OSError:
            return False
    return False


@dataclass
class Report:
    checked: int = 0
    found: list[str] = field(default_factory=list)
    accepted: list[str] = field(default_factory=list)
    unchecked: list[str] = field(default_factory=list)
    unchecked_accepted: list[str] = field(default_factory=list)
    used: set[str] = field(default_factory=set)  # accepted advisory ids that matched


def audit_latest(base: str, dists: dict[str, str], accepted: Accepted) -> Report:
    """Check each package against its project's advisories, where it is at the latest release."""
    def get(name: str) -> tuple[str, dict | None]:
        return name, fetch_json(f"{base}/pypi/{name}/json")

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = dict(pool.map(get, sorted(dists)))
    report = Report()
    for name, version in sorted(dists.items()):
        data = answers[name]
        latest = (data or {}).get("info", {}).get("version")
        if data is None or not same_version(latest, version):
            why = "not on the index" if data is None else f"latest is {latest}"
            key = f"{name}=={version}"
            (report.unchecked_accepted if key in accepted.unchecked else report.unchecked).append(f"{key} ({why})")
            continue
        report.checked += 1
        seen: set[str] = set()
        for vuln in data.get("vulnerabilities") or []:
            ids = {vuln["id"], *(vuln.get("aliases") or [])}
            if vuln.get("withdrawn") or ids & seen:  # PyPI lists a PYSEC and a GHSA for one CVE
                continue
            seen |= ids
            line = f"{name}=={version}: {vuln['id']} ({', '.join(sorted(ids - {vuln['id']}))})"
            used = ids & set(accepted.advisories)
            report.used |= used
            (report.accepted if used else report.found).append(line)
    return report


def run_pip_audit(accepted: Accepted) -> int:
    ignores = [arg for vuln in accepted.advisories for arg in ("--ignore-vuln", vuln)]
    command = [sys.executable, "-m", "pip_audit", "--strict", "--skip-editable", "--progress-spinner", "off"]
    return subprocess.call(command + ignores)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", default="https://pypi.org", help="the PyPI JSON API's host")
    parser.add_argument("--ignore", type=Path, default=IGNORE, help="accepted advisories and unchecked packages")
    parser.add_argument("--dist", action="append", metavar="NAME==VERSION",
                        help="audit these instead of the running environment's packages")
    args = parser.parse_args(argv)
    accepted = read_accepted(args.ignore)
    dists = dict(d.split("==", 1) for d in args.dist) if args.dist else installed()
    dists = {canonicalize_name(k): v for k, v in dists.items()}
    base = args.base_url.rstrip("/")
    if base == "https://pypi.org" and not args.dist and per_release_api(base, dists):
        return run_pip_audit(accepted)
    print("pip-audit cannot run here: PyPI's per-release API does not answer. Falling back to the "
          "per-project API, which lists advisories for each project's latest release only.")
    try:
        report = audit_latest(base, dists, accepted)
    except OSError as exc:
        print(f"DEPENDENCY AUDIT NOT RUN: no advisory source is reachable ({exc}).", file=sys.stderr)
        return 2
    return summarise(report, accepted, len(dists))


def summarise(report: Report, accepted: Accepted, total: int) -> int:
    print(f"Checked {report.checked} of {total} packages against PyPI's advisories; "
          f"{len(report.accepted)} accepted advisories (see .ci/audit-ignore.txt), "
          f"{len(report.unchecked_accepted)} packages accepted as unchecked.")
    for line in report.accepted:
        print(f"  accepted: {line}")
    used = {u.split(" ")[0] for u in report.unchecked_accepted}
    for stale in [*(set(accepted.advisories) - report.used), *(set(accepted.unchecked) - used)]:
        print(f"  not needed any more, remove from .ci/audit-ignore.txt: {stale}")
    if report.found:
        print(f"KNOWN VULNERABILITIES ({len(report.found)}):", file=sys.stderr)
        for line in report.found:
            print(f"  {line}", file=sys.stderr)
    if report.unchecked:
        print(f"DEPENDENCY AUDIT INCOMPLETE: {len(report.unchecked)} packages could not be checked here "
              "(upgrade them to the latest release, run pip-audit where PyPI's per-release API answers, "
              "or accept them in .ci/audit-ignore.txt with a reason):", file=sys.stderr)
        for line in report.unchecked:
            print(f"  {line}", file=sys.stderr)
    return 1 if report.found or report.unchecked else 0


if __name__ == "__main__":
    sys.exit(main())
