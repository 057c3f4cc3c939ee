"""`tunnelhunt generate`: write demo and test data the project makes itself."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from tunnelhunt.cli.common import app, fail, stderr
from tunnelhunt.generate.sizes import MIN_EVENTS


@app.command()
def generate(
    out_dir: Annotated[Path, typer.Argument(help="Directory to write the dataset into.")],
    events: Annotated[int, typer.Option("--events", min=MIN_EVENTS, help="Total number of events.")] = 20000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same bytes).")] = 7,
    fmt: Annotated[
        str, typer.Option("--format", help="xml (one <Event> per line) or jsonl (one flat JSON object per event).")
    ] = "xml",
) -> None:
    """Write realistic Windows Sysmon and Security, Sysmon for Linux and macOS EDR logs with tunnel activity and
    near misses."""
    from tunnelhunt.generate import generate_sysmon

    if fmt not in ("xml", "jsonl"):
        raise fail(f"--format must be xml or jsonl, not {fmt!r}")
    dataset = generate_sysmon(out_dir, events=events, seed=seed)
    if fmt == "jsonl":
        from tunnelhunt.generate.jsonl import JSONL_NAME, SECURITY_JSONL_NAME, xml_log_to_jsonl  # only this form

        jsonl_path = out_dir / JSONL_NAME
        xml_log_to_jsonl(dataset.path, jsonl_path)
        dataset.path.unlink()
        security_path = None
        if dataset.security_path is not None:
            security_path = out_dir / SECURITY_JSONL_NAME
            xml_log_to_jsonl(dataset.security_path, security_path)
            dataset.security_path.unlink()
        dataset = replace(dataset, path=jsonl_path, security_path=security_path)
    truth = json.loads(dataset.truth_path.read_text())
    tunnel = truth.get("detections", {})
    tunnel_matches = sum(len(entry["matches"]) for entry in tunnel.values())
    tunnel_misses = sum(len(entry["near_misses"]) for entry in tunnel.values())
    stderr.print(
        f"wrote {dataset.events:,} events to {dataset.path} "
        f"({len(truth['process_matches'])} ngrok process runs, {len(truth['dns_matches'])} ngrok DNS lookups, "
        f"{len(truth['near_misses'])} near misses; for {len(tunnel)} more tunnel detections {tunnel_matches} "
        f"events to find and {tunnel_misses} near misses; ground truth in {dataset.truth_path.name})"
    )
    variants = truth.get("tunnels", {})
    stderr.print(
        "tunnelling variants: "
        + ", ".join(f"{name} {len(v['positives'])}/{len(v['near_misses'])}" for name, v in variants.items())
        + " (positives/near misses)"
    )
    for companion in (dataset.security_path, dataset.linux_path, dataset.macos_path):
        if companion is not None:
            with companion.open("rb") as stream:
                lines = sum(1 for _ in stream)
            stderr.print(f"wrote {lines:,} lines to {companion} (its ground truth is in {dataset.truth_path.name} too)")
