"""`meshbot demo`: the whole tour on the bundled demo cluster, no Slack account needed."""

from __future__ import annotations

from bot.cli import main
from cluster.demo import DEMO_PATH

DEMO = ["--from-file", str(DEMO_PATH)]

TOUR: list[list[str]] = [
    ["help"],
    ["ask", "ambient에서 EnvoyFilter 써도 돼?"],
    ["advise", "--need", "l7", "--need", "resource-efficiency"],
    ["compare"],
    ["limits", "envoyfilter"],
    ["checklist", "migration"],
    ["status", *DEMO],
    ["mtls", *DEMO],
    ["precheck", *DEMO],
    ["plan", "orders", *DEMO],
    ["savings", *DEMO],
]


def tour() -> int:
    worst = 0
    for argv in TOUR:
        print(f"\n$ meshbot {' '.join(argv)}\n")
        worst = max(worst, main(argv))
    return worst
