"""Command line: `python -m redaction evaluate FILE.jsonl [-v] [--profile research]`, `redact`
and `train-name-model` (rebuilds the shipped name model).

Evaluation prints the scores of GUIDELINES.md, start time and memory, with a JSON line last.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m redaction")
    commands = parser.add_subparsers(dest="command", required=True)
    ev = commands.add_parser("evaluate", help="score the redactor on an annotated JSONL file")
    ev.add_argument("file", type=Path)
    ev.add_argument("-v", "--verbose", action="store_true", help="list every miss and false positive")
    rd = commands.add_parser("redact", help="print the redacted text")
    rd.add_argument("text", nargs="+")
    commands.add_parser("train-name-model",
                        help="rebuild redaction/data/name_model.json.gz (fixed seed)")
    for command in (ev, rd):
        command.add_argument("--profile", choices=("live", "research"), default="live",
                             help="live (flags, hints) or research (anonymised research copies)")
    args = parser.parse_args(argv)
    if args.command == "train-name-model":
        from redaction import name_model
        from redaction.lexicon import load_lexicon

        print(json.dumps(name_model.build(load_lexicon()), sort_keys=True))
        return 0

    began = time.perf_counter()
    from redaction.engine import Redactor

    redactor = Redactor(profile=args.profile)
    start_s = time.perf_counter() - began
    if args.command == "redact":
        print(redactor.redact(" ".join(args.text)))
        return 0

    from redaction.evaluate import evaluate, report

    redactor.analyze("warm-up: ik ben Sanne uit Utrecht, 06-12345678")

    def spans(text: str) -> list[tuple[int, int, str]]:
        return [(r.start, r.end, r.entity_type) for r in redactor.analyze(text)]

    scores = evaluate(args.file, spans)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    lines = report(scores, verbose=args.verbose).splitlines()
    figures = json.loads(lines[-1])
    figures.update(profile=args.profile, start_s=round(start_s, 2), max_rss_mb=round(rss_mb))
    print("\n".join(lines[:-1]))
    print(f"profile {args.profile}; start {start_s:.2f} s (import and build); max RSS {rss_mb:.0f} MB")
    print(json.dumps(figures, ensure_ascii=False, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
