"""Tables, targets and the markdown report of `bench.engine_bench` (pure formatting over its results dict)."""

from __future__ import annotations

import io
import pstats
import statistics
from pathlib import Path
from typing import Any

from bench import engine_bench_cpu as cpu

#: Informational targets: (key, description).
TARGETS = {
    "floor": "ogwatch within 1.5x of the floor (all events)",
    "cryo_static": "ogwatch at least as fast as cryo on static events (Trade)",
    "rss": "ogwatch peak RSS under 400 MB",
    "tick": "incremental tick under 100 ms CPU (median)",
}
FLOOR_RATIO, RSS_MB, TICK_CPU_S = 1.5, 400.0, 0.100


def table(headers: list[str], rows: list[list[Any]]) -> str:
    """A markdown table; numbers right-aligned."""
    cells = [[str(c) for c in r] for r in rows]
    width = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    numeric = [any(r[i] for r in cells) and all(_is_number(r[i]) for r in cells) for i in range(len(headers))]

    def line(values: list[str]) -> str:
        return "| " + " | ".join(v.rjust(width[i]) if numeric[i] else v.ljust(width[i])
                                 for i, v in enumerate(values)) + " |"

    sep = "|" + "|".join(("-" * (w + 1) + ":") if numeric[i] else ("-" * (w + 2)) for i, w in enumerate(width)) + "|"
    return "\n".join([line(headers), sep, *(line(r) for r in cells)])


def _is_number(text: str) -> bool:
    return text == "" or text.replace(",", "").replace(".", "").replace("x", "").replace("-", "").strip().isdigit()


def med(values: list[float]) -> float:
    """Median (of the repetitions)."""
    return statistics.median(values)


def _n(value: float) -> str:
    return f"{value:,.0f}"


def _s(value: float) -> str:
    return f"{value:.2f}" if value < 100 else f"{value:.0f}"


def _x(value: float) -> str:
    return f"{value:.2f}x"


def progress(rep: int, row: dict[str, Any]) -> str:
    """One line per finished (repetition, event type)."""
    sec, cnt = row["seconds"], row["counts"]
    cpu_s = row.get("cpu", {})
    parts = [f"{k} {v[-1]:.2f}s/{cnt[k]:,}" + (f" (cpu anvil {cpu_s[k]['anvil'][-1]:.2f} own {cpu_s[k]['own'][-1]:.2f})"
                                               if k in cpu_s else "") for k, v in sec.items() if v]
    return f"rep {rep + 1} {row['name']:<20} " + "  ".join(parts) + f"  rss {row['rss_mb'][-1]:.0f} MB"


def mix_tables(res: dict[str, Any]) -> str:
    """Event mix and per-chain density."""
    total = sum(m["count"] for m in res["mix"])
    mix = table(["event", "network", "events", "share"],
                [[m["event"], m["network"], _n(m["count"]), f"{100 * m['count'] / total:.2f} %"] for m in res["mix"]]
                + [["all", "", _n(total), "100 %"]])
    dens = table(["network", "blocks in range", "events", "blocks with events", "events/block",
                  "events/non-empty block", "max in one block", "blocks with >= 100"],
                 [[d["network"], _n(d["blocks"]), _n(d["events"]), _n(d["nonempty"]), f"{d['per_block']:.1f}",
                   f"{d['per_nonempty']:.1f}", _n(d["max"]), _n(d["bulk_blocks"])] for d in res["density"]])
    return f"{mix}\n\n{dens}"


def _ratio(row: dict[str, Any], other: str) -> float | None:
    sec = row["seconds"]
    return med(sec["ogwatch"]) / med(sec[other]) if sec.get(other) else None


def results_tables(res: dict[str, Any]) -> str:
    """Times and ratios, then rates, per event type."""
    keys = [k for k in res["contenders"] if any(r["seconds"].get(k) for r in res["rows"])]
    cryos = [k for k in keys if k.startswith("cryo")]
    head = ["event type", "events", "blocks", *(f"{k} s" for k in keys), "og/floor", *(f"og/{k}" for k in cryos),
            "og peak RSS MB"]
    rows = []
    for r in res["rows"]:
        ratios = [_ratio(r, k) for k in ["floor", *cryos]]
        rows.append([r["name"], _n(r["events"]), _n(r["blocks"]), *(_s(med(r["seconds"][k])) for k in keys),
                     *(_x(x) if x is not None else "-" for x in ratios), _n(max(r["rss_mb"]))])
    times = table(head, rows)
    rate_head = ["event type", *(f"{k} events/s" for k in keys), *(f"{k} blocks/s" for k in keys)]
    rate_rows = [[r["name"], *(_n(r["events"] / med(r["seconds"][k])) for k in keys),
                  *(_n(r["blocks"] / med(r["seconds"][k])) for k in keys)] for r in res["rows"]]
    return times + "\n\n" + table(rate_head, rate_rows)


def cpu_tables(res: dict[str, Any]) -> str:
    """CPU seconds of anvil and of each contender per run (medians), and the 2-core bound on Trade."""
    cores = res["machine"]["nproc"]
    keys = [k for k in res["contenders"] if any(k in r.get("cpu", {}) for r in res["rows"])]
    rows = []
    for r in res["rows"]:
        for k, (anvil, own) in cpu.medians(r, keys).items():
            rows.append([r["name"], k, _s(med(r["seconds"][k])), _s(anvil), _s(own), _s(anvil + own),
                         _s((anvil + own) / cores)])
    head = ["event type", "contender", "wall s", "anvil CPU s", "own CPU s", "anvil + own CPU s",
            f"CPU / {cores} cores s"]
    text = table(head, rows)
    trade = next((r for r in res["rows"] if r["name"] == "Trade"), None)
    if trade and "ogwatch" in trade.get("cpu", {}) and trade["seconds"].get("cryo"):
        text += "\n\n" + _trade_budget(trade, cores)
    return text


def _trade_budget(trade: dict[str, Any], cores: int) -> str:
    """Whether the CPU that ogwatch and anvil need for Trade fits in cryo's wall time on this many cores."""
    bound, cryo_best = cpu.budget(trade, "ogwatch", cores), min(trade["seconds"]["cryo"])
    anvil, own = cpu.medians(trade, ["ogwatch"])["ogwatch"]
    verdict = (f"more than cryo's fastest repetition ({cryo_best:.2f} s): no overlap can make ogwatch as fast as "
               "cryo on this machine" if bound > cryo_best else
               f"less than cryo's fastest repetition ({cryo_best:.2f} s): the CPU budget alone does not rule it out, "
               f"but it needs both cores busy with nothing else running all the time (ogwatch took "
               f"{med(trade['seconds']['ogwatch']):.2f} s)")
    return (f"Trade on {cores} cores: ogwatch's run used {anvil:.2f} s of anvil CPU and {own:.2f} s of its own, so it "
            f"needs at least ({anvil:.2f} + {own:.2f}) / {cores} = {bound:.2f} s of wall time, {verdict}.")


def notes(res: dict[str, Any]) -> str:
    """Counts agreement, ogwatch's process overhead, and how many requests each cryo variant made."""
    rows = res["rows"]
    bad = [f"{r['name']}: {m}" for r in rows for m in r["count_mismatches"]]
    errors = sum(r["decode_errors"] for r in rows)
    agree = ("Every contender returned (floor, cryo) or stored (ogwatch, rows in the event tables) the same number "
             f"of events in every run; ogwatch decode errors: {errors}." if not bad else
             "COUNT MISMATCH: " + "; ".join(bad))
    whole = next(r for r in rows if r["name"] == "all")
    proc = (f"ogwatch (all): {med(whole['seconds']['ogwatch']):.2f} s from store open to close, "
            f"{med(whole['cpu_s']):.2f} s CPU in that time; the child process took "
            f"{med(whole['process_wall_s']):.2f} s wall in all (interpreter start and imports included). "
            "Peak RSS is the child's own VmHWM.")
    cryos = [k for k in res["contenders"] if k.startswith("cryo") and k in rows[0]["cryo_requests"]]
    calls = table(["event type", "floor eth_getLogs calls", "ogwatch spans (1+ eth_getLogs each)",
                   *(f"{k} calls" for k in cryos)],
                  [[r["name"], _n(r["floor_requests"]), _n(med(r["og_spans"])) if r.get("og_spans") else "-",
                    *(_n(r["cryo_requests"][k]) for k in cryos)] for r in rows])
    legend = "\n".join(f"- `{k}`: {label}" for k, label in res["contenders"].items())
    return f"{agree}\n\n{proc}\n\nContenders:\n\n{legend}\n\n{calls}"


def checks(res: dict[str, Any]) -> list[dict[str, Any]]:
    """PASS/MISS against each target (informational)."""
    rows = {r["name"]: r for r in res["rows"]}
    out = []
    floor = _ratio(rows["all"], "floor")
    if floor is not None:
        out.append({"target": TARGETS["floor"], "value": f"{floor:.2f}x", "pass": floor <= FLOOR_RATIO})
    cryo = _ratio(rows["Trade"], "cryo")
    if cryo is not None:
        others = ", ".join(f"{k} {_x(x)}" for k in ("cryo_seq", "cryo_default")
                           if (x := _ratio(rows["Trade"], k)) is not None)
        out.append({"target": TARGETS["cryo_static"], "value": f"{cryo:.2f}x of cryo ({others})", "pass": cryo <= 1.0})
    rss = max(max(r["rss_mb"]) for r in res["rows"])
    out.append({"target": TARGETS["rss"], "value": f"{rss:.0f} MB", "pass": rss < RSS_MB})
    if "incremental" in res:
        cpu = res["incremental"]["cpu_median_s"]
        out.append({"target": TARGETS["tick"], "value": f"{1000 * cpu:.1f} ms", "pass": cpu < TICK_CPU_S})
    return out


def phases_table(res: dict[str, Any]) -> str:
    """Where ogwatch spends its time per event type, and which step raised the peak RSS of the run with all."""
    ph = res["phases"]
    names = list(ph)
    whole = ph["all"]
    steps = sorted({s for p in ph.values() for s in p["seconds"]}, key=lambda s: -whole["seconds"].get(s, 0.0))
    rows = []
    for step in steps:
        rows.append([step, *(_s(ph[n]["seconds"].get(step, 0.0)) for n in names),
                     f"{100 * whole['seconds'].get(step, 0.0) / whole['total_s']:.0f} %",
                     _n(whole["hwm_growth_kb"].get(step, 0) / 1024)])
    rows.append(["whole run (store open to close)", *(_s(ph[n]["total_s"]) for n in names), "100 %",
                 f"peak {whole['rss_mb']:.0f}"])
    per_engine = table(["engine (all)", "events", "s", "events/s"],
                       [[f"{e['source']}/{e['network']}", _n(e["events"]), _s(e["seconds"]),
                         _n(e["events"] / e["seconds"]) if e["seconds"] else "-"] for e in whole["engines"]])
    cpu_steps = sorted({s for p in ph.values() for s in p.get("thread_cpu_s", {})})
    cpu_rows = [[step, *(_s(ph[n].get("thread_cpu_s", {}).get(step, 0.0)) for n in names)] for step in cpu_steps]
    cpu_rows.append(["whole process (every thread, DuckDB's own included)", *(_s(ph[n]["cpu_s"]) for n in names)])
    by_thread = table(["CPU s by thread (same runs)", *(f"{n} s" for n in names)], cpu_rows)
    return table(["step", *(f"{n} s" for n in names), "share (all)", "RSS growth MB (all)"], rows) + "\n\n" \
        + by_thread + "\n\n" + per_engine


def top_functions(path: Path, n: int) -> str:
    """The top of a cProfile dump by own time."""
    buf = io.StringIO()
    pstats.Stats(str(path), stream=buf).sort_stats("tottime").print_stats(n)
    return buf.getvalue()


def markdown(res: dict[str, Any]) -> str:
    """The whole report."""
    m, p, inc = res["machine"], res["params"], res.get("incremental")
    reps = p["reps"]
    parts = [
        f"Machine: {m['nproc']} cores ({m['cpu']}), {m['mem_gb']} GB, Python {m['python']}, {m['anvil']}, "
        f"duckdb {m['duckdb']}, cryo {m['cryo']}, requests {m['requests']}, Linux {m['kernel']}.",
        f"World: seed {p['seed']}, {p['trades']:,} bulk trades, {p['inferences']:,} bulk inferences; restored in "
        f"{res['snapshot']['restore_s']:.1f} s. Span {p['span']} blocks (config span_blocks / Engine default). "
        f"Timed parts: median of {reps} repetition{'s' if reps != 1 else ''}.",
        "### Event mix and density\n\n" + mix_tables(res),
        "### Results\n\n" + results_tables(res) + "\n\n" + notes(res),
        "### CPU seconds (anvil and each contender, median of the repetitions)\n\n" + cpu_tables(res),
        "### Targets (informational)\n\n" + table(["target", "measured", ""],
                                                   [[c["target"], c["value"], "PASS" if c["pass"] else "MISS"]
                                                    for c in res["checks"]]),
    ]
    if "phases" in res:
        parts.append("### Where the time goes (one extra ogwatch run per event type, with step timers)\n\n"
                     + phases_table(res))
    if inc:
        parts.append(f"Incremental tick on {inc['network']} ({inc['source']}), {len(inc['cpu_s'])} ticks with one new "
                     f"empty block each: CPU median {1000 * inc['cpu_median_s']:.1f} ms (min "
                     f"{1000 * min(inc['cpu_s']):.1f}, max {1000 * max(inc['cpu_s']):.1f}), wall median "
                     f"{1000 * inc['wall_median_s']:.1f} ms, {statistics.median(inc['rpc_calls']):.0f} RPC calls "
                     f"per tick.")
    if "cprofile" in res:
        parts.append("### cProfile (one ogwatch run, all; top by own time)\n\n```\n" + res["cprofile"] + "\n```")
    return "\n\n".join(parts) + "\n"
