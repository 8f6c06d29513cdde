"""`meshbot demo`: the whole tour on the bundled demo cluster, no Slack account needed."""

from __future__ import annotations

from bot.cli import main

TOUR: list[list[str]] = [
    ["help"],
]


def tour() -> int:
    worst = 0
    for argv in TOUR:
        print(f"\n$ meshbot {' '.join(argv)}\n")
        worst = max(worst, main(argv))
    return worst
