"""The targets of bench/api.py and the rows that compare each measured figure with them."""

from __future__ import annotations

CONCURRENCIES = (1, 16, 64)
SUBMIT_RATIO_C16 = 0.70
SUBMIT_P50_C1_MS = 3.0
SUBMIT_P99_C1_MS = 8.0
GET_P99_C1_MS = 5.0
E2E_P50_MS = 20.0
FARM_RATIO = 0.80


def target_rows(r: dict) -> list[tuple[str, str, str, str, str]]:
    """The table's rows from a run's results: each figure beside its target."""
    rows: list[tuple[str, str, str, str, str]] = []

    def verdict(ok: bool) -> str:
        return "PASS" if ok else "FAIL"

    for c in CONCURRENCIES:
        o, b = r[f"submit_ours_c{c}"], r[f"submit_bare_c{c}"]
        ratio = o["rps"] / b["rps"]
        if c == 16:
            target, result = f">= {SUBMIT_RATIO_C16:.0%} of bare (is {ratio:.0%})", verdict(ratio >= SUBMIT_RATIO_C16)
        else:
            target, result = f"(info: {ratio:.0%} of bare)", "-"
        rows.append((f"submit c={c} throughput req/s", f"{o['rps']:.0f}", f"{b['rps']:.0f}", target, result))
        if c == 16:
            rows.append(("submit c=16 CPU ms/req: web + Postgres", f"{o['cpu_ms_web']:.2f} + {o['cpu_ms_pg']:.2f}",
                         f"{b['cpu_ms_web']:.2f} + {b['cpu_ms_pg']:.2f}", "(info)", "-"))
        if c == 1:
            target = f"p50 <= {SUBMIT_P50_C1_MS:g}, p99 <= {SUBMIT_P99_C1_MS:g}"
            result = verdict(o["p50_ms"] <= SUBMIT_P50_C1_MS and o["p99_ms"] <= SUBMIT_P99_C1_MS)
        else:
            target, result = "(info)", "-"
        rows.append((f"submit c={c} p50 / p99 ms", f"{o['p50_ms']:.2f} / {o['p99_ms']:.2f}",
                     f"{b['p50_ms']:.2f} / {b['p99_ms']:.2f}", target, result))
    g = r["get_c1"]
    rows.append(("cached GET c=1 p50 / p99 ms", f"{g['p50_ms']:.2f} / {g['p99_ms']:.2f}", "",
                 f"p99 <= {GET_P99_C1_MS:g}", verdict(g["p99_ms"] <= GET_P99_C1_MS)))
    rows.append(("cached GET c=1 throughput req/s", f"{g['rps']:.0f}", "", "(info)", "-"))
    e = r["e2e"]
    rows.append((f"e2e overhead p50 / p99 ms (n={e['n']})", f"{e['p50_ms']:.1f} / {e['p99_ms']:.1f}", "",
                 f"p50 <= {E2E_P50_MS:g}", verdict(e["p50_ms"] <= E2E_P50_MS)))
    f, a = r["farm"], r["bare_actor"]
    ratio = f["rate"] / a["rate"]
    rows.append((f"farm throughput jobs/s (N={f['n']}, 2x1)", f"{f['rate']:.2f}", f"{a['rate']:.2f}",
                 f">= {FARM_RATIO:.0%} of bare (is {ratio:.0%})", verdict(ratio >= FARM_RATIO)))
    rows.append(("  mean solver wall ms", f"{f['mean_wall_ms']:.1f}", f"{a['mean_wall_ms']:.1f}", "(info)", "-"))
    return rows
