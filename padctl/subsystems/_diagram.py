"""Mermaid state diagrams generated from the transition tables."""

from __future__ import annotations

from padctl.subsystems._spec import SubsystemSpec


def mermaid(spec: SubsystemSpec) -> str:
    """A Mermaid `stateDiagram-v2` of the spec's transition table."""
    lines = ["stateDiagram-v2", f"    [*] --> {spec.initial.name}"]
    for row in spec.transition_table():
        if row["trigger"] in ("fault", "safe"):
            continue  # drawn once each below, not from every state
        lines.append(f"    {row['source']} --> {row['dest']}: {row['trigger']}")
    lines.append(
        f"    note right of FAULT: any state --> FAULT on fault; safe --> {spec.safe_state.name}"
    )
    return "\n".join(lines) + "\n"
