"""The docs' walk-throughs, run as written: README's service part, docs/service.md, then
docs/operations_night.md, in order, against a real ``placement serve --seed-demo`` (what
``make serve`` starts) on a fresh database.

How a doc is read (the conventions a doc writer follows):

- every fenced ```` ```sh ```` block runs, in order, in one bash session started from the
  repository root, with ``set -euo pipefail``; a block right after the line
  ``<!-- docs-test: skip (...) -->`` does not (it starts a server, or needs a machine of its
  own), and says why;
- the base URL ``http://127.0.0.1:8000`` becomes the test server's; tokens come from the
  docs' own ``placement users token ...`` commands, on the same database
  (``PLACEMENT_DB_PATH``), exactly as a reader in a second terminal gets them;
- every ``curl`` must answer 2xx, unless the comment line that follows the command
  announces another status: ``# -> 409 ...``; an announced status that does not come is a
  failure too.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.api.builders import free_port, wait_ready

ROOT = Path(__file__).resolve().parents[2]
#: the walk-throughs, in the order a newcomer reads them
DOCS = ("README.md", "docs/service.md", "docs/operations_night.md")
BASE_URL = "http://127.0.0.1:8000"
SKIP = "<!-- docs-test: skip"
FENCE = re.compile(r"^```(\S*)[^\n]*\n(.*?)^```\s*$", re.MULTILINE | re.DOTALL)
ANNOUNCED = re.compile(r"^\s*# -> (\d{3})\b")
COMMAND = re.compile(r"^\s*(curl |[A-Za-z_]+=\$\(curl |\.venv/bin/placement )")

#: every curl of the docs goes through this: the status checked against the announced one
PRELUDE = r"""
set -euo pipefail
curl() {
  local out code body expect="${EXPECT:-}"
  out=$(command curl -sS -w '\n%{http_code}' "$@") || {
    echo "$DOCLINE: curl could not reach the service: $*" >>"$DOCS_LOG"; exit 1; }
  code=${out##*$'\n'}
  body=${out%$'\n'*}
  printf '%s\n' "$body"
  printf '%s %s %s\n' "$DOCLINE" "$code" "$body" >>"$DOCS_TRANSCRIPT"
  if [ -n "$expect" ]; then
    [ "$code" = "$expect" ] && return 0
    echo "$DOCLINE: the doc announces $expect, the service answered $code: $body" >>"$DOCS_LOG"
    exit 1
  fi
  case $code in
    2??) ;;
    *) echo "$DOCLINE: $code (not announced): $body" >>"$DOCS_LOG"; exit 1;;
  esac
}
"""


@dataclass(frozen=True)
class Block:
    """One fenced shell block of a doc: where it starts, and its lines."""

    doc: str
    line: int  # of the block's first line in the doc, 1-based
    text: str


def shell_blocks(doc: str) -> list[Block]:
    """The ``sh`` blocks of ``doc`` that run (not marked skip), in order."""
    text = (ROOT / doc).read_text(encoding="utf-8")
    blocks = []
    for m in FENCE.finditer(text):
        if m.group(1) != "sh":
            continue
        before = text[: m.start()].rstrip("\n").rsplit("\n", 1)[-1]
        if before.startswith(SKIP):
            continue
        first_line = text.count("\n", 0, m.start(2)) + 1
        blocks.append(Block(doc, first_line, m.group(2)))
    return blocks


def script_of(block: Block, base_url: str) -> str:
    """The block as the test runs it: the base URL replaced, each command tagged with its
    doc line, an announced status set before the command and cleared after it."""
    lines = block.text.replace(BASE_URL, base_url).split("\n")
    out: list[str] = []
    last_command: tuple[int, str] | None = None  # its index in ``out``, its doc line
    for i, line in enumerate(lines):
        where = f"{block.doc}:{block.line + i}"
        if COMMAND.match(line):
            last_command = (len(out), where)
            out.append(f"DOCLINE='{where}'; EXPECT=")
        announced = ANNOUNCED.match(line)
        out.append(line)
        if announced and not announced.group(1).startswith("2"):
            assert last_command is not None, f"{where}: a status announced before any command"
            index, command_line = last_command
            out[index] = f"DOCLINE='{command_line}'; EXPECT={announced.group(1)}"
            out.append("EXPECT=")
    return "\n".join(out)


def test_block_conventions_are_read_as_documented() -> None:
    block = Block("x.md", 10, "U=http://127.0.0.1:8000\ncurl -s $U/a\n# -> 404 no such thing\n")
    script = script_of(block, "http://127.0.0.1:9")
    assert "U=http://127.0.0.1:9" in script
    assert "DOCLINE='x.md:11'; EXPECT=404\ncurl -s $U/a\n# -> 404 no such thing\nEXPECT=" in script


@pytest.mark.slow
def test_readme_and_walkthroughs_run_against_make_serve(tmp_path: Path) -> None:
    """Every command of the docs, in order, against a fresh ``placement serve --seed-demo``."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "PLACEMENT_DB_PATH": str(tmp_path / "placement.db"),
        "PLACEMENT_SCHEDULER_TICK_SECONDS": "1",
    }
    placement = str(Path(sys.executable).parent / "placement")
    log = tmp_path / "server.log"
    with log.open("w") as server_out:
        server = subprocess.Popen(
            [placement, "serve", "--seed-demo", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=server_out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_ready([url])
        failures = tmp_path / "failures.txt"
        failures.touch()
        script = PRELUDE + "\n".join(script_of(b, url) for d in DOCS for b in shell_blocks(d))
        (tmp_path / "walkthrough.sh").write_text(script)
        ran = subprocess.run(
            ["bash", str(tmp_path / "walkthrough.sh")],
            cwd=ROOT,
            env={
                **env,
                "DOCS_LOG": str(failures),
                "DOCS_TRANSCRIPT": str(tmp_path / "transcript.txt"),
                "PATH": _path_with_venv(),
            },
            capture_output=True,
            text=True,
            timeout=600,
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
    problems = failures.read_text()
    assert ran.returncode == 0 and not problems, (
        f"{problems or 'exit code ' + str(ran.returncode)}\n"
        f"--- stderr (last lines)\n{ran.stderr[-3000:]}\n--- stdout (last lines)\n"
        f"{ran.stdout[-3000:]}\n--- server log\n{log.read_text()[-2000:]}"
    )


def _path_with_venv() -> str:
    """The docs call ``.venv/bin/...``; the tests' own interpreter comes first on PATH."""
    return f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"


def _run_block(text: str, url: str, tmp_path: Path) -> tuple[int, str]:
    """Run one doc block as the walk-through test does; its exit code and failures."""
    failures = tmp_path / "failures.txt"
    failures.write_text("")
    script = PRELUDE + script_of(Block("doc.md", 1, text), url)
    ran = subprocess.run(
        ["bash", "-c", script],
        env={
            **os.environ,
            "DOCS_LOG": str(failures),
            "DOCS_TRANSCRIPT": str(tmp_path / "transcript.txt"),
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    return ran.returncode, failures.read_text()


def test_a_doc_step_that_breaks_fails_and_an_announced_status_passes(tmp_path: Path) -> None:
    # A server that answers 404 to everything: a doc that expects success fails, naming its
    # line; one that announces the 404 passes; one that announces a 409 it does not get fails.
    import http.server
    import threading

    class NotFound(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server convention
            self.send_response(404)
            self.end_headers()
            self.wfile.write(b'{"detail": "not found"}')

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), NotFound)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        code, failures = _run_block("curl -s http://127.0.0.1:8000/x\necho after", url, tmp_path)
        assert code != 0 and failures.startswith("doc.md:1: 404 (not announced)")
        code, failures = _run_block(
            "curl -s http://127.0.0.1:8000/x\n# -> 404 gone\ncurl -s http://127.0.0.1:8000/y\n",
            url,
            tmp_path,
        )
        assert code != 0 and failures.startswith("doc.md:3: 404 (not announced)")
        code, failures = _run_block("curl -s http://127.0.0.1:8000/x\n# -> 404\n", url, tmp_path)
        assert (code, failures) == (0, "")
        code, failures = _run_block(
            "V=$(curl -s http://127.0.0.1:8000/x)\n# -> 409 taken\n", url, tmp_path
        )
        assert code != 0 and "announces 409, the service answered 404" in failures
    finally:
        server.shutdown()
