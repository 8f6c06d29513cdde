"""Resource estimates for the numbers in a question (N pods, M nodes, K waypoints), from figure units.

Bases are never mixed: the guide's observed usage (what the proxies were measured to use, written in
MB like the guide), the Helm charts' default requests (what the scheduler reserves, in Mi/Gi like the
charts) and the charts' default limits. Sidecar cost grows with pods; ambient cost with nodes (one
ztunnel each) plus waypoints. A question naming one basis, resource or mode gets only that one.
"""

from __future__ import annotations

import re

from knowledge.schema import Figure, Language, Unit

BASES = ("observed", "chart-default", "limit")
BASIS_LABEL = {
    "observed": {"en": "the guide's observed usage", "ko": "가이드 실측 사용량 기준"},
    "chart-default": {"en": "the Helm charts' default requests", "ko": "Helm chart 기본 request 기준"},
    "limit": {"en": "the Helm charts' default limits", "ko": "Helm chart 기본 limit 기준"},
}
BASIS_WORDS = {
    "observed": r"observ|measur|actual|real usage|guide|실측|관측|가이드|실사용",
    "chart-default": r"request|chart|helm|default|reserv|기본|예약|차트|요청",
    "limit": r"\blimits?\b|리밋|limit|상한",
}
# Word-bounded: "mb" inside "ambient" or "ram" inside "parameters" is no memory question.
RESOURCE_WORDS = {
    "memory": r"mem|\bram\b|메모리|(?<![a-z])(gb|mb|mib|gib|mi|gi)\b",
    "cpu": r"cpu|\bcores?\b|코어|millicore|vcpu",
}
MODE_WORDS = {
    "sidecar": r"sidecar|사이드카|pod|파드",
    "ambient": r"ambient|앰비언트|ztunnel|waypoint|웨이포인트|node|노드",
}
# What each data plane is made of: (component, counted thing, figure "per").
PARTS = {
    "sidecar": [("sidecar", "pods", "pod")],
    "ambient": [("ztunnel", "nodes", "node"), ("waypoint", "waypoints", "waypoint")],
}
COUNT_LABEL = {
    "pods": {"en": "pods", "ko": "Pod"},
    "nodes": {"en": "nodes", "ko": "노드"},
    "waypoints": {"en": "waypoints", "ko": "waypoint"},
}
WAYPOINT_NOTE = {
    "en": "Waypoints are not counted: add one per namespace or service that needs L7 "
    "(~100 MB observed, 128 Mi requested, each).",
    "ko": "waypoint는 포함하지 않았습니다: L7이 필요한 namespace나 서비스마다 하나씩 더하세요 "
    "(각 실측 ~100 MB, request 128 Mi).",
}
TO_BASE = {"mib": 1.0, "mi": 1.0, "mb": 1.0, "gib": 1024.0, "gi": 1024.0, "gb": 1000.0, "millicores": 1.0, "m": 1.0}
CPU_UNITS = {"cpu": 1000.0, "cpus": 1000.0, "cores": 1000.0, "core": 1000.0}


def _base(figure: Figure, number: float) -> float:
    """The figure's number in MiB (memory) or millicores (CPU)."""
    unit = figure.unit.lower()
    return number * TO_BASE.get(unit, CPU_UNITS.get(unit, 1.0))


def _range(figure: Figure) -> tuple[float, float]:
    if figure.value is not None:
        return _base(figure, figure.value), _base(figure, figure.value)
    numbers = figure.numbers()
    return _base(figure, min(numbers)), _base(figure, max(numbers))


def _figure(units: list[Unit], component: str, per: str, resource: str, basis: str) -> tuple[Unit, Figure] | None:
    for unit in units:
        for f in unit.figures():
            if f.component == component and f.per == per and f.resource == resource and f.basis == basis:
                return unit, f
    return None


def _num(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 or value == int(value) else f"{value:,.1f}"


def _amount(value: float, resource: str, basis: str) -> str:
    if resource == "cpu":
        if value < 1000:
            return f"{_num(value)}m"
        cores = _num(value / 1000)
        return f"{_num(value)}m (~{cores} {'core' if cores == '1' else 'cores'})"
    if basis == "observed":  # the guide writes MB/GB
        return f"{_num(value)} MB (~{_num(value / 1000)} GB)" if value >= 1000 else f"{_num(value)} MB"
    return f"{_num(value)} Mi (~{_num(value / 1024)} Gi)" if value >= 1024 else f"{_num(value)} Mi"


def _each(figure_low: float, figure_high: float, resource: str, basis: str) -> str:
    one = _amount(figure_low, resource, basis).split(" (")[0]
    return one if figure_low == figure_high else f"{one}-{_amount(figure_high, resource, basis).split(' (')[0]}"


def _wanted(words: dict[str, str], text: str) -> list[str]:
    named = [key for key, pattern in words.items() if re.search(pattern, text, re.IGNORECASE)]
    return named or list(words)


def estimate(
    units: list[Unit], numbers: dict[str, int], language: Language, text: str = ""
) -> tuple[list[str], list[str]]:
    """Answer lines (the totals per basis first) and the figure units used; empty when nothing applies."""
    counts = {k: numbers.get(k, 0) for k in ("pods", "nodes", "waypoints")}
    if not any(counts.values()):
        return [], []
    named = [b for b, pattern in BASIS_WORDS.items() if re.search(pattern, text, re.IGNORECASE)]
    # No basis named: both usage bases (never limits). "limit 기본값" asks for the default limits only;
    # "requests and limits" for both.
    bases = named or ["observed", "chart-default"]
    if "limit" in named and not re.search(r"request|요청|reserv|예약", text, re.IGNORECASE):
        bases = ["limit"]
    resources = _wanted(RESOURCE_WORDS, text)
    modes = _wanted(MODE_WORDS, text)
    lines: list[str] = []
    used: list[str] = []
    for basis in bases:
        for resource in resources:
            pieces = []
            for mode, components in PARTS.items():
                if mode not in modes and not (counts["pods"] and counts["nodes"]):
                    continue
                low = high = 0.0
                workings = []
                for component, counted, per in components:
                    n = counts[counted]
                    found = _figure(units, component, per, resource, basis)
                    if found is None or n == 0:
                        continue
                    unit, figure = found
                    lo, hi = _range(figure)
                    low, high = low + lo * n, high + hi * n
                    workings.append(
                        f"{n:,} {COUNT_LABEL[counted][language]} × {_each(lo, hi, resource, basis)} ({component})"
                    )
                    used.append(unit.id)
                if workings:
                    total = (
                        _amount(low, resource, basis)
                        if low == high
                        else f"{_amount(low, resource, basis)} – {_amount(high, resource, basis)}"
                    )
                    pieces.append(f"{mode}: {' + '.join(workings)} = {total}")
            if pieces:
                name = {"memory": {"en": "Memory", "ko": "메모리"}, "cpu": {"en": "CPU", "ko": "CPU"}}[resource][
                    language
                ]
                lines.append(f"{name} ({BASIS_LABEL[basis][language]}): " + "; ".join(pieces))
    if lines and counts["nodes"] and not counts["waypoints"]:
        lines.append(WAYPOINT_NOTE[language])
    return lines, list(dict.fromkeys(used))
