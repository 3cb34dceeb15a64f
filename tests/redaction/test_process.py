"""The redactor as a process sees it: no network, no logging changes, no chat server imported.

Run in a fresh interpreter whose sockets refuse to connect.
"""

from __future__ import annotations

import json
import sys

from tests.harness.processes import ROOT, run

SCRIPT = r"""
import json, logging, socket, sys
def refuse(*args, **kwargs):
    raise OSError("network used")
socket.socket.connect = refuse
socket.create_connection = refuse
root = logging.getLogger()
before = (root.level, list(root.handlers))
import redaction
from redaction import Redactor
r = Redactor()
out = r.redact("mail lisa@hotmail.com of kijk op https://linktr.ee/lisa_x of lisa-x.nl/foto")
import tldextract
tldextract.extract("forums.bbc.co.uk")
print(json.dumps({"out": out, "root_same": before == (root.level, list(root.handlers)),
                  "chatserver": any(m.startswith("chatserver") for m in sys.modules),
                  "deduce": "deduce" in sys.modules}))
"""


def test_offline_quiet_and_standalone() -> None:
    done = run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True,
               timeout=90, check=True)
    facts = json.loads(done.stdout.strip().splitlines()[-1])
    assert facts["out"] == "mail [E-MAIL] of kijk op [URL] of [URL]"
    assert facts["root_same"] and not facts["chatserver"] and not facts["deduce"]
    assert len(done.stdout.strip().splitlines()) == 1  # nothing printed but our own line


def test_command_line_redacts() -> None:
    done = run([sys.executable, "-m", "redaction", "redact", "ik ben Daan uit Ede"], cwd=ROOT,
               capture_output=True, text=True, timeout=90, check=True)
    assert done.stdout.strip() == "ik ben [NAAM] uit [PLAATS]"
