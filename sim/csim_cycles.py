"""Cycles counted from the C++ itself: C simulation's loop counters (HLSGEN_TRIP, compiled in with
-DHLSGEN_PROFILE) priced with the II and depth `hlsgen check` found, next to the cycle model at the
token counts each image ran.

A pipelined loop invoked `inv` times for `trips` iterations in all takes trips x II + inv x depth
cycles; a loop on an m_axi port cannot beat the board's sustained DDR rate, so it takes
max(trips x II, trips x AXI bytes / bytes per cycle) + inv x DDR latency. The tasks of a DATAFLOW
region overlap: the region takes its slowest task plus, for every other task, the time of one unit
of its work (a tile, a row: the `unit` flag of HLSGEN_TRIP) to fill and drain the chain. Every step
of the program also costs the model's OP_OVERHEAD (descriptor fetch and engine handshake), which no
loop shows.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from hlsgen.arch import OP_OVERHEAD
from hlsgen.ops import PackageToken, report_type
from hlsgen.schedule import block_of
from quant.errors import UserError
from sim.rtl_cycles import model_by_type, pruned_counts


class ProfileError(UserError):
    pass


@dataclass
class ImageProfile:
    loops: list = field(default_factory=list)      # (pc, site, trips, inv, units)
    regions: list = field(default_factory=list)    # (count, pc, region site, [(site, trips, inv, units)])
    tokens: list = field(default_factory=list)


def parse_profile(text: str) -> tuple[list[ImageProfile], dict[int, tuple[str, int]]]:
    images: list[ImageProfile] = []
    sites: dict[int, tuple[str, int]] = {}
    for line in text.splitlines():
        f = line.split()
        if not f:
            continue
        if f[0] == "image":
            images.append(ImageProfile())
        elif f[0] == "loop":
            images[-1].loops.append(tuple(int(x) for x in f[1:6]))
        elif f[0] == "region":
            parts = [tuple(int(x) for x in item.split(":")) for item in f[4:]]
            images[-1].regions.append((int(f[1]), int(f[2]), int(f[3]), parts))
        elif f[0] == "tokens":
            images[-1].tokens = [int(x) for x in f[1:]]
        elif f[0] == "site":
            sites[int(f[1])] = (f[2], int(f[3]))
    return images, sites


class Pricer:
    """Cycles of counted loops, from the check report's loop table (keyed by the counter's line)."""

    def __init__(self, check_report: dict, design):
        self.meta = {(lp["file"], lp["counter_line"]): lp for lp in check_report["loops"]}
        self.chains = check_report.get("dataflow", {})
        ctx = design.ctx()
        self.bpc, self.axi_bytes = float(ctx.bpc), design.board.memory.axi_width_bits // 8

    def loop(self, site: tuple[str, int]) -> dict:
        lp = self.meta.get(site)
        if lp is None or lp["depth"] is None:
            raise ProfileError(f"C simulation counted the loop at {site[0]}:{site[1]}, which hlsgen check does not "
                               "price (no II or depth): regenerate the project")
        return lp

    def work(self, site, trips: int) -> int:
        lp = self.loop(site)
        work = trips * lp["ii"]
        return max(work, math.ceil(trips * self.axi_bytes / self.bpc)) if lp["dma"] else work

    def cycles(self, site, trips: int, inv: int) -> int:
        return self.work(site, trips) + inv * self.loop(site)["depth"]

    def region(self, parts: list, sites: dict) -> int:
        """A DATAFLOW region instance: its chains of tasks (joined by streams) run side by side; a chain
        takes its slowest task plus one unit of work (and the pipeline depth) of each of its others."""
        tasks: dict[str, list] = {}
        region = ""
        for site_id, trips, inv, units in parts:
            site = sites[site_id]
            lp = self.loop(site)
            region = lp["region"] or region
            tasks.setdefault(lp["task"] or f"{site[0]}:{site[1]}", []).append((site, trips, inv, units))
        chains = [c for c in self.chains.get(region, []) if any(t in tasks for t in c)] or [list(tasks)]
        best = 0.0
        for chain in chains:
            total, unit = {}, {}
            for task in (t for t in chain if t in tasks):
                loops = tasks[task]
                total[task] = sum(self.cycles(site, t, i) for site, t, i, _ in loops)
                units = max(max(u for *_, u in loops), 1)
                unit[task] = (sum(self.work(site, t) for site, t, _, _ in loops) / units
                              + max(self.loop(site)["depth"] for site, *_ in loops))
            slow = max(total, key=lambda t: total[t])
            best = max(best, total[slow] + sum(v for t, v in unit.items() if t != slow))
        return int(round(best))


# the logits and token counts written back after the last step: the C++ counts it (pc = PROG_LEN), the
# cycle model has no step for it (about one DDR write latency per frame)
RESULT_WRITE = "result_write"


def image_step_cycles(img: ImageProfile, sites: dict, pricer: Pricer) -> dict[int, int]:
    """{pc: cycles} of one image."""
    out: dict[int, int] = {}
    for pc, site_id, trips, inv, _ in img.loops:
        out[pc] = out.get(pc, 0) + pricer.cycles(sites[site_id], trips, inv)
    for count, pc, _, parts in img.regions:
        out[pc] = out.get(pc, 0) + count * pricer.region(parts, sites)
    return {pc: c + OP_OVERHEAD for pc, c in out.items()}      # (the result write too: the controller's handshake)


def cycles_report(profile_text: str, check_report: dict, design) -> dict:
    """{"<op type>": {"csim", "model", "ratio"}, ..., "total": {...}} summed over the profiled images."""
    images, sites = parse_profile(profile_text)
    if not images:
        raise ProfileError("the C simulation wrote no loop profile")
    steps = design.schedule("worst").ops          # PROG: one entry per step, in this order
    pricer = Pricer(check_report, design)
    csim: dict[str, int] = {}
    model: dict[str, int] = {}
    for img in images:
        per_pc = image_step_cycles(img, sites, pricer)
        for pc, cyc in per_pc.items():
            if pc < 0 or pc > len(steps):
                raise ProfileError(f"the profile names step {pc}, the program has {len(steps)}")
            kind = report_type(steps[pc]) if pc < len(steps) else RESULT_WRITE
            csim[kind] = csim.get(kind, 0) + cyc
        tokens = img.tokens or [design.spec.num_tokens] * design.spec.depth
        pkg_ran = {block_of(steps[pc].name): True for pc in per_pc if pc < len(steps) and isinstance(steps[pc], PackageToken)}
        for kind, cyc in model_by_type(design, tokens, pruned_counts(design, tokens, pkg_ran)).items():
            model[kind] = model.get(kind, 0) + cyc
    out = {}
    for kind in sorted(set(csim) | set(model)):
        c, m = csim.get(kind, 0), model.get(kind, 0)
        out[kind] = {"csim": c, "model": m, "ratio": round(c / m, 4) if m else None}
    c, m = sum(csim.values()), sum(model.values())
    out["total"] = {"csim": c, "model": m, "ratio": round(c / m, 4) if m else None}
    return out
