"""The HTML of ``mathlens view``: static parts (metrics tables, plots, training curves as inline
SVG) are written here, so they read even with scripts off; the interactive parts (sample browser,
side by side, lab grids) are drawn by ``view_script``'s JavaScript from the JSON embedded here."""

from __future__ import annotations

import base64
import json
from html import escape

from .view import CompareRow, Curve, RunView
from .view_script import SCRIPT, STYLE

SHARE_WORDS = ("@", "acc", "pass", "rate", "share", "gain", "by_level", "accuracy")
KIND_TITLES = {"eval": "eval run", "lab": "lab run", "improve": "improve run"}


# ---------------------------------------------------------------- numbers and tables


def flatten(d: dict, prefix: str = "") -> dict:
    """Nested dicts as ``a.b.c`` keys; leaves kept as they are."""
    out: dict = {}
    for key, value in d.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            out |= flatten(value, name + ".")
        else:
            out[name] = value
    return out


def number(key: str, value: float) -> str:
    """A share (pass@1, by level, a gain) as a percentage; other numbers as they read best."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if any(w in key for w in SHARE_WORDS) and -1.0 <= value <= 1.0:
        return f"{100 * value:.1f}%"
    return f"{value:.4g}"


def cell(key: str, value, ci=None) -> str:
    """One value, with its 95% interval where the row has one; [estimate, low, high] lists too."""
    numeric = isinstance(value, list) and value and all(isinstance(x, (int, float)) for x in value)
    if numeric and len(value) == 3:
        value, ci = value[0], value[1:]
    elif numeric and len(value) == 2:
        return escape(f"[{number(key, value[0])}, {number(key, value[1])}]")
    if value is None:
        return "—"
    if isinstance(value, (int, float)):
        text = number(key, value)
        if isinstance(ci, list) and len(ci) == 2 and all(isinstance(x, (int, float)) for x in ci):
            low, high = escape(number(key, ci[0])), escape(number(key, ci[1]))
            return f'{escape(text)} <span class="ci">[{low}, {high}]</span>'
        return escape(text)
    text = value if isinstance(value, str) else json.dumps(value)
    return escape(text if len(text) <= 80 else text[:77] + "…")


def intervals(row: dict) -> dict[str, list]:
    """Each ``…_ci95`` key's interval by the key it belongs to (``gain_ci95`` → ``gain_vs_round0``)."""
    found = {}
    for key, value in row.items():
        if "_ci95" not in key:
            continue
        base = key.replace("_ci95", "")
        owner = base if base in row else next((k for k in row if k.startswith(base) and "_ci95" not in k), None)
        if owner is not None:
            found[owner] = value
    return found


def metrics_table(rows: dict[str, dict], first: str = "", skip: str = "") -> str:
    """Rows × the metrics they have: the top-level ones (and per level) in one table with their
    intervals, every nested number below in a folded table, metrics × rows. ``skip``: a key the
    row names already say (``round``)."""
    flat = {name: flatten(r) for name, r in rows.items()}
    cis = {name: intervals(r) for name, r in flat.items()}
    keys: list[str] = []
    for r in sorted(flat.values(), key=len, reverse=True):  # the fullest row's order first (a later round's)
        keys += [k for k in r if k not in keys and "_ci95" not in k and k != skip]
    main = [k for k in keys if "." not in k or k.startswith("by_level.")]
    rest = [k for k in keys if k not in main]

    def head(k: str) -> str:
        return "level " + k.split(".", 1)[1] if k.startswith("by_level.") else k

    html = ['<div class="wide"><table class="metrics"><thead><tr><th>', escape(first), "</th>"]
    html += [f"<th>{escape(head(k))}</th>" for k in main] + ["</tr></thead><tbody>"]
    for name, r in flat.items():
        html.append(f"<tr><th>{escape(name)}</th>")
        html += [f"<td>{cell(k, r.get(k), cis[name].get(k))}</td>" for k in main]
        html.append("</tr>")
    html.append("</tbody></table></div>")
    if rest:
        html.append(f"<details><summary>all {len(rest)} nested numbers</summary><div class='wide'>"
                    "<table class='metrics'><thead><tr><th></th>")
        html += [f"<th>{escape(name)}</th>" for name in flat] + ["</tr></thead><tbody>"]
        for k in rest:
            html.append(f"<tr><th>{escape(k)}</th>")
            html += [f"<td>{cell(k, r.get(k), cis[name].get(k))}</td>" for name, r in flat.items()]
            html.append("</tr>")
        html.append("</tbody></table></div></details>")
    return "".join(html)


# ---------------------------------------------------------------- plots and curves


def plots_html(run: RunView) -> str:
    figures = [
        f'<figure><img alt="{escape(p.name)}" src="data:image/png;base64,{base64.b64encode(p.png).decode()}">'
        f"<figcaption>{escape(p.name)}</figcaption></figure>"
        for p in run.plots
    ]
    return f'<div class="plots">{"".join(figures)}</div>' if figures else ""


def polyline_svg(title: str, points: list[tuple[float, float]], width: int = 300, height: int = 150) -> str:
    """A hand-drawn line chart: the points (thinned to at most 400), min and max on each axis."""
    step = max(1, len(points) // 400)
    shown = points[::step]
    if shown[-1] != points[-1]:
        shown.append(points[-1])
    xs, ys = [p[0] for p in shown], [p[1] for p in shown]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    left, right, top, bottom = 46, 8, 18, 20
    sx = (width - left - right) / ((x1 - x0) or 1)
    sy = (height - top - bottom) / ((y1 - y0) or 1)
    coords = " ".join(f"{left + (x - x0) * sx:.1f},{height - bottom - (y - y0) * sy:.1f}" for x, y in shown)
    return (
        f'<svg class="curve" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img">'
        f'<text x="{left}" y="12" class="t">{escape(title)} (last {ys[-1]:.4g})</text>'
        f'<rect x="{left}" y="{top}" width="{width - left - right}" height="{height - top - bottom}" class="frame"/>'
        f'<text x="{left - 4}" y="{top + 8}" class="y">{y1:.3g}</text>'
        f'<text x="{left - 4}" y="{height - bottom}" class="y">{y0:.3g}</text>'
        f'<text x="{left}" y="{height - 6}" class="x">{x0:g}</text>'
        f'<text x="{width - right}" y="{height - 6}" class="x end">step {x1:g}</text>'
        f'<polyline points="{coords}"/></svg>'
    )


def curves_html(curves: list[Curve]) -> str:
    if not curves:
        return ""
    panels = [
        f'<div class="curveset"><div class="cname">{escape(c.name)}</div>'
        + "".join(polyline_svg(key, points) for key, points in c.series.items())
        + "</div>"
        for c in curves
    ]
    return f'<h3>Training curves</h3><div class="curves">{"".join(panels)}</div>'


# ---------------------------------------------------------------- the page


def run_section(i: int, run: RunView) -> str:
    parts = [f'<section class="run" id="run-{i}"><h2>{escape(run.name)} <span class="kind">{KIND_TITLES[run.kind]}'
             f'</span></h2><div class="path">{escape(str(run.path))}</div>']  # fmt: skip
    parts += [f'<div class="note">{escape(n)}</div>' for n in run.notes]
    if run.metrics:
        parts.append("<h3>Rounds</h3>" if run.kind == "improve" else "<h3>Metrics</h3>")
        first = "round" if run.kind == "improve" else ""
        parts.append(metrics_table(run.metrics, first, skip=first))
    parts.append(plots_html(run))
    parts.append(curves_html(run.curves))
    if run.grids:
        parts.append(f'<h3>Grid: a cell per operand pair</h3><div class="grids" data-run="{i}"></div>')
    if run.sets:
        parts.append(f'<h3>Samples</h3><div class="browser" data-run="{i}"></div>')
    return "".join(parts) + "</section>"


def page_data(runs: list[RunView], compared: dict | None) -> dict:
    data: dict = {"runs": [{"name": r.name, "kind": r.kind, "grids": r.grids,
                            "sets": [{"label": s.label, "problems": s.problems, "total": s.total} for s in r.sets]}
                           for r in runs]}  # fmt: skip
    if compared is not None:
        rows: list[CompareRow] = compared["rows"]
        data["compare"] = {"a": compared["a"], "b": compared["b"],
                           "rows": [[r.key, r.a, r.b] for r in rows]}  # fmt: skip
    return data


def embedded_json(data: dict) -> str:
    """JSON safe inside a <script> element: every ``<`` escaped, so no ``</script>`` or ``<!--``
    in a completion can end or bend the element."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")


def render_page(runs: list[RunView], compared: dict | None) -> str:
    title = "mathlens view: " + ", ".join(r.name for r in runs)
    body = []
    if len(runs) > 1:
        body.append('<nav>' + " ".join(f'<a href="#run-{i}">{escape(r.name)}</a>' for i, r in enumerate(runs))
                    + (' <a href="#compare">side by side</a>' if compared else "") + "</nav>")  # fmt: skip
        every = {name if name == r.name else f"{r.name} · {name}": row
                 for r in runs for name, row in r.metrics.items()}  # fmt: skip
        if every:
            body.append("<section><h2>All runs</h2>" + metrics_table(every) + "</section>")
    if compared is not None:
        a, b = runs[compared["a"]].name, runs[compared["b"]].name
        body.append(f'<section id="compare"><h2>Side by side: A = {escape(a)}, B = {escape(b)}</h2>'
                    '<div class="compare"></div></section>')  # fmt: skip
    body += [run_section(i, r) for i, r in enumerate(runs)]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{escape(title)}</title>'
        f"<style>{STYLE}</style></head><body><h1>{escape(title)}</h1>{''.join(body)}"
        f'<script type="application/json" id="mathlens-data">{embedded_json(page_data(runs, compared))}</script>'
        f"<script>{SCRIPT}</script></body></html>\n"
    )
