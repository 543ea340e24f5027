"""Rendering checked claims for an 80-column terminal."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Group
from rich.padding import Padding
from rich.text import Text

from tariffstack.news.results import CheckedClaim, clip, fmt

_VERDICT_STYLE = {"supported": "bold green", "contradicted": "bold red",
                  "partly_supported": "bold yellow", "not_checkable": "dim"}


def verdict_label(verdict: str) -> str:
    """How a verdict reads to people: "partly supported", not the JSON key."""
    return verdict.replace("_", " ")


def render_claims(checked: Sequence[CheckedClaim], max_evidence: int = 3) -> Group:
    """One block per claim, readable at 80 columns: the claim and its verdict, who and when,
    what the law says, then the key evidence (clipped at word boundaries)."""
    blocks: list[Text | Padding] = [Text("Tariff claims checked against the law", style="bold")]
    if not checked:
        blocks.append(Text("no claims found"))
        return Group(*blocks)
    for i, cc in enumerate(checked, 1):
        c = cc.claim
        if c.kind == "de_minimis":
            rate = f"< ${c.threshold_usd:g}" if c.threshold_usd else "de minimis"
        elif c.kind == "exemption":
            rate = "exemption"
        elif c.rate_range:
            rate = f"{fmt(c.rate_range[0])} to {fmt(c.rate_range[1])}"
        else:
            rate = (f"{fmt(c.rate_from_pct)} -> " if c.rate_from_pct is not None else "") + fmt(c.rate_pct or 0.0)
        head = Text(f"\n{i}. ", style="bold") + Text(f"“{clip(c.fragment, 120)}”  ")
        head.append(verdict_label(cc.verdict).upper(), style=_VERDICT_STYLE[cc.verdict])
        who = f"{c.actor} -> {c.target.label()}, {rate}, on {c.on.isoformat()}"
        if c.when:
            who += f" ({clip(c.when.text, 40)})"
        body = Text.assemble(Text(who, style="dim"), "\n", Text(cc.explanation))
        for e in cc.evidence[:max_evidence]:
            body.append(f"\n- {clip(e.text, 160)}", style="dim")
        if len(cc.evidence) > max_evidence:
            body.append(f"\n(+{len(cc.evidence) - max_evidence} more with --json)", style="dim")
        if cc.codes_used:
            shown = ", ".join(cc.codes_used[:6]) + (" …" if len(cc.codes_used) > 6 else "")
            body.append(f"\ncodes: {shown}", style="dim")
        blocks.extend([head, Padding(body, (0, 0, 0, 3), expand=False)])
    return Group(*blocks)
