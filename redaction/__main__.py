"""Command line: `python -m redaction evaluate FILE.jsonl [-v]` and `python -m redaction redact TEXT`.

Evaluation prints the scores of GUIDELINES.md with a JSON line last.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m redaction")
    commands = parser.add_subparsers(dest="command", required=True)
    ev = commands.add_parser("evaluate", help="score the redactor on an annotated JSONL file")
    ev.add_argument("file", type=Path)
    ev.add_argument("-v", "--verbose", action="store_true", help="list every miss and false positive")
    rd = commands.add_parser("redact", help="print the redacted text")
    rd.add_argument("text", nargs="+")
    args = parser.parse_args(argv)

    from redaction.engine import Redactor

    redactor = Redactor()
    if args.command == "redact":
        print(redactor.redact(" ".join(args.text)))
        return 0

    from redaction.evaluate import evaluate, report

    redactor.analyze("warm-up: ik ben Sanne uit Utrecht, 06-12345678")

    def spans(text: str) -> list[tuple[int, int, str]]:
        return [(r.start, r.end, r.entity_type) for r in redactor.analyze(text)]

    scores = evaluate(args.file, spans)
    print(report(scores, verbose=args.verbose))
    return 0


if __name__ == "__main__":
    sys.exit(main())
