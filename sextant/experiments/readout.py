"""The readout an experiment analysis answers, from the engine's per-variant, per-day
sufficient statistics: exposures and exclusions, sample-ratio mismatch, each metric per
variant (value, lift, interval, p-value, chance to win, CUPED), power, cumulative lift of
the primary metric by exposure day, and a verdict a product manager can act on. The maths
is `stats/`; the wording is here.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict
from datetime import date
from typing import Any

from sextant import stats
from sextant.experiments.definitions import ExperimentMetric

ALPHA = 0.05
# What a comparison's warning codes mean, as the page says them beside an empty value.
WARNINGS = {
    "too_few_persons": "fewer than two persons in a variant",
    "zero_denominator": "the ratio's denominator is zero",
    "zero_control_mean": "control's value is 0, so a relative lift is undefined",
    "zero_variance": "everyone in a variant has the same value",
    "negative_control_mean": "control's value is negative: read the lift's sign with care",
    "no_covariate_variance": "no pre-exposure differences to adjust for (CUPED not applied)",
    "prior_needs_control_mean": "the prior needs a non-zero control value",
}


def explain(codes: list[str]) -> str | None:
    """Warning codes in plain words.

    >>> explain(["zero_variance"])
    'everyone in a variant has the same value'
    """
    return "; ".join(WARNINGS.get(code, code) for code in codes) or None


SUMS = (
    "n",
    "post_sum",
    "post_squares",
    "den_sum",
    "den_squares",
    "post_den",
    "pre_sum",
    "pre_squares",
    "post_pre",
)
Sums = dict[str, float]


def totals(rows: list[dict[str, Any]]) -> dict[str, Sums]:
    """Per variant: the sums over every exposure day."""
    out: dict[str, Sums] = defaultdict(lambda: dict.fromkeys(SUMS, 0.0))
    for row in rows:
        for key in SUMS:
            out[row["variant"]][key] += float(row[key] or 0)
    return dict(out)


def running(rows: list[dict[str, Any]]) -> list[tuple[date, dict[str, Sums]]]:
    """Per exposure day: each variant's sums over the persons exposed up to that day."""
    by_day: dict[date, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_day[row["day"]].append(row)
    sums: dict[str, Sums] = defaultdict(lambda: dict.fromkeys(SUMS, 0.0))
    out = []
    for day in sorted(by_day):
        for row in by_day[day]:
            for key in SUMS:
                sums[row["variant"]][key] += float(row[key] or 0)
        out.append((day, {v: dict(s) for v, s in sums.items()}))
    return out


def statistic(metric: ExperimentMetric, s: Sums) -> stats.Statistic:
    """The `stats` form of a variant's sums for `metric`'s type (CUPED where asked)."""
    n = int(s["n"])
    if metric.type == "ratio":
        return stats.Ratio(
            stats.SampleMean(n, s["post_sum"], s["post_squares"]),
            stats.SampleMean(n, s["den_sum"], s["den_squares"]),
            s["post_den"],
        )
    if metric.type in ("conversion", "retention"):
        post, pre = stats.Proportion(n, s["post_sum"]), stats.Proportion(n, s["pre_sum"])
    else:
        post = stats.SampleMean(n, s["post_sum"], s["post_squares"])
        pre = stats.SampleMean(n, s["pre_sum"], s["pre_squares"])
    return stats.RegressionAdjusted(post, pre, s["post_pre"]) if metric.cuped else post


def _order(keys: list[str], control: str) -> list[str]:
    return [control, *sorted(k for k in keys if k != control)]


def compose(query: Any, rows: dict[str, list[dict[str, Any]]], today: date) -> dict[str, Any]:
    exposed = {r["variant"]: r["persons"] for r in rows["exposures"] if r["variant"] is not None}
    excluded = sum(r["persons"] for r in rows["exposures"] if r["variant"] is None)
    weights = {v.key: v.weight for v in query.variants}
    keys = list(dict.fromkeys([*weights, *sorted(exposed)]))
    control = query.control or ("control" if "control" in keys else (keys[0] if keys else None))
    out: dict[str, Any] = {
        "experiment": query.experiment,
        "key": query.key,
        "control": control,
        "excluded": excluded,
        "empty": not exposed,
        "warnings": [],
    }
    if not exposed or control is None:
        out |= {"variants": [], "metrics": [], "srm": None, "verdict": _nobody(query)}
        return out
    order = _order(keys, control)
    counts = [exposed.get(k, 0) for k in order]
    intended = [weights.get(k, 1.0) if weights else 1.0 for k in order]
    srm = stats.check_srm(counts, intended) if len(order) > 1 else None
    total = sum(counts)
    out["variants"] = [
        {"key": k, "persons": c, "share": c / total, "intended": w / sum(intended)}
        for k, c, w in zip(order, counts, intended, strict=True)
    ]
    if srm is None:
        out["srm"] = None
        out["warnings"].append(
            {
                "code": "one_variant",
                "message": f"Only {order[0]!r} has been seen: there is "
                "nothing to compare it with yet.",
            }
        )
    else:
        out["srm"] = {"p_value": srm.p_value, "mismatch": srm.mismatch, "message": srm.message}
    if srm is not None and srm.mismatch:
        out["warnings"].append({"code": "sample_ratio_mismatch", "message": srm.message})
    if excluded:
        out["warnings"].append(
            {
                "code": "multiple_variants",
                "message": f"{excluded:,} persons saw more than one variant and are left out "
                "of every number here.",
            }
        )
    out["metrics"] = [
        _metric(query, metric, rows[f"metric_{i}"], order, primary=i == 0)
        for i, metric in enumerate(query.metrics)
    ]
    out["verdict"] = _verdict(out, query)
    return out


def _metric(query, metric: ExperimentMetric, rows, order: list[str], *, primary: bool) -> dict:
    sums = totals(rows)
    present = [k for k in order if k in sums]
    per_variant = [statistic(metric, sums[k]) for k in present]
    comparisons = (
        stats.compare_variants(
            per_variant, control_index=0, alpha=ALPHA, inverse=not metric.higher_is_better
        )
        if present and present[0] == order[0]
        else [None] * len(present)
    )
    adjust = {"holm": stats.holm_bonferroni, "bh": stats.benjamini_hochberg}.get(query.correction)
    p_values = [c.p_value if c else None for c in comparisons[1:]]
    adjusted = list(adjust(p_values)) if adjust and len(p_values) > 1 else p_values
    variants = []
    for i, (key, found) in enumerate(zip(present, comparisons, strict=True)):
        row = {"key": key, "persons": int(sums[key]["n"]), "value": per_variant[i].unadjusted_mean}
        if found is not None:
            p_adjusted = adjusted[i - 1]
            row |= {
                **{k: v for k, v in asdict(found).items() if k not in ("difference",)},
                "p_adjusted": p_adjusted,
                "significant": p_adjusted is not None and p_adjusted < ALPHA,
                "warnings": list(found.warnings),
            }
        variants.append(row)
    control = per_variant[0] if present else None
    result = {
        "name": metric.name,
        "label": metric.shown,
        "type": metric.type,
        "primary": primary,
        "higher_is_better": metric.higher_is_better,
        "statistics": sums,
        "variants": variants,
        "power": _power(query, control),
    }
    if primary:
        result["cumulative"] = _cumulative(metric, rows, order)
    return result


def _power(query, control: stats.Statistic | None) -> dict[str, Any] | None:
    if control is None:
        return None
    base = control.post if isinstance(control, stats.RegressionAdjusted) else control
    mean, variance = base.unadjusted_mean, base.variance
    mde = stats.minimum_detectable_effect(mean, variance, base.n, alpha=ALPHA)
    needed = stats.sample_size_per_variant(query.effect, mean, variance, alpha=ALPHA)
    return {
        "mde": mde.effect,
        "persons_per_variant": base.n,
        "effect": query.effect,
        "needed_per_variant": needed.n_per_variant,
        "warnings": sorted({*mde.warnings, *needed.warnings}),
    }


def _cumulative(metric: ExperimentMetric, rows, order: list[str]) -> list[dict[str, Any]]:
    out = []
    for day, sums in running(rows):
        if order[0] not in sums:
            continue
        control = statistic(metric, sums[order[0]])
        for key in order[1:]:
            if key in sums:
                found = stats.compare(control, statistic(metric, sums[key]), alpha=ALPHA)
                out.append(
                    {
                        "day": day,
                        "variant": key,
                        "persons": int(sums[key]["n"] + sums[order[0]]["n"]),
                        "lift": found.lift,
                        "ci_low": found.ci_low,
                        "ci_high": found.ci_high,
                    }
                )
    return out


def _nobody(query) -> dict[str, Any]:
    return {
        "decision": "no_data",
        "text": f"No one has been exposed to {query.key!r} in this range yet: check the dates, "
        "and that the app sends exposure events for this flag.",
    }


def _pct(x: float) -> str:
    return f"{x * 100:+.1f}%"


def _verdict(out: dict[str, Any], query) -> dict[str, Any]:
    """One sentence on what to do, from the primary metric (and the guardrails)."""
    persons = sum(v["persons"] for v in out["variants"])
    if out["srm"] and out["srm"]["mismatch"]:
        return {
            "decision": "check_data",
            "text": "Check the data before deciding: " + out["srm"]["message"],
        }
    primary = out["metrics"][0]
    treatments = [v for v in primary["variants"][1:] if v.get("lift") is not None]
    if not treatments or all(v.get("ci_low") is None for v in treatments):
        return {
            "decision": "keep_running",
            "text": "Not enough data to compare the variants "
            f"on {primary['label'].lower()} yet ({persons:,} persons).",
        }
    good = 1 if primary["higher_is_better"] else -1
    winners = [v for v in treatments if v["significant"] and v["lift"] * good > 0]
    losers = [v for v in treatments if v["significant"] and v["lift"] * good < 0]
    if winners:
        best = max(winners, key=lambda v: v["lift"] * good)
        text = (
            f"{best['key']} is better: {_pct(best['lift'])} {primary['label'].lower()}, 95% CI "
            f"{_pct(best['ci_low'])} to {_pct(best['ci_high'])}, {persons:,} persons."
        )
        worse = [
            m["label"].lower()
            for m in out["metrics"][1:]
            for v in m["variants"][1:]
            if v["key"] == best["key"]
            and v.get("significant")
            and v["lift"] * (1 if m["higher_is_better"] else -1) < 0
        ]
        if worse:
            text += f" But it is worse on {', '.join(worse)}: weigh that before shipping."
        return {"decision": "ship", "variant": best["key"], "text": text}
    if losers and len(losers) == len(treatments):
        worst = min(losers, key=lambda v: v["lift"] * good)
        return {
            "decision": "keep_control",
            "variant": worst["key"],
            "text": (
                f"{worst['key']} is worse: {_pct(worst['lift'])} {primary['label'].lower()}, "
                f"95% CI {_pct(worst['ci_low'])} to {_pct(worst['ci_high'])}, {persons:,} "
                f"persons. Keep {out['control']}."
            ),
        }
    lead = max(treatments, key=lambda v: abs(v["lift"]))
    mde = primary["power"]["mde"] if primary["power"] else None
    text = (
        f"No clear difference yet on {primary['label'].lower()}: {lead['key']} "
        f"{_pct(lead['lift'])}, 95% CI {_pct(lead['ci_low'])} to {_pct(lead['ci_high'])}, "
        f"{persons:,} persons."
    )
    if mde is not None:
        text += f" With this many persons a lift of about {mde * 100:.1f}% or more would show."
    needed = primary["power"]["needed_per_variant"] if primary["power"] else None
    if needed:
        text += (
            f" To find a {query.effect * 100:.0f}% lift, about {needed:,} persons per variant "
            "are needed."
        )
    return {"decision": "keep_running", "text": text}
