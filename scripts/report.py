"""The conversation KPI report: one self-contained HTML file and the same KPIs as a table in the terminal.

Reads the KPI models of a DuckDB warehouse built by the package (``{prefix}_views.daily_kpis``,
``session_outcomes``, ``interaction_latency``, ``user_messages``, ``slot_funnel``, ``intent_transitions``) and
writes a page with KPI tiles, sessions and containment per day, the top intents, the slot funnel and the intent
transitions. plotly.js is embedded in the page, which references nothing outside itself: it opens from the file
system with no server and no network. ``--screenshot`` renders it in headless Chromium (Debian package
``chromium``) to a PNG.

    python scripts/report.py --duckdb rasa_semantic_schema.duckdb --prefix rasa \\
        --out build/report/rasa_semantic_schema_report.html [--screenshot build/report/report.png]
"""

from __future__ import annotations

import argparse
import html
import json
import math
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs
from plotly.subplots import make_subplots

DEFAULT_OUT = Path("build/report/rasa_semantic_schema_report.html")
REQUIRED = (
    "daily_kpis",
    "session_outcomes",
    "interaction_latency",
    "user_messages",
    "slot_funnel",
    "intent_transitions",
)
SANKEY_STEPS = 4
SANKEY_INTENTS = 8
TOP_INTENTS = 15
# the page's charts, in order: (id, title)
CHARTS = (
    ("daily", "Sessions and containment per day"),
    ("intents", "Top intents"),
    ("funnel", "Slot funnel"),
    ("transitions", "Intent transitions (first steps of the sessions)"),
)
COLORS = {"sessions": "#4c78a8", "containment": "#f58518", "requested": "#4c78a8", "attempted": "#72b7b2",
          "filled": "#54a24b", "abandoned": "#e45756"}  # fmt: skip


@dataclass(frozen=True)
class Kpi:
    key: str
    label: str
    value: float | None
    kind: str  # count | rate | seconds | number
    definition: str  # one line: what it counts, with the model and column

    def text(self) -> str:
        return format_value(self.value, self.kind)


@dataclass
class ReportData:
    views: str
    kpis: list[Kpi]
    daily: list[tuple[Any, ...]]  # day, sessions, containment rate
    intents: list[tuple[str, int]]
    funnel: list[tuple[str, str, int, int, int, int]]  # form, slot, requested, attempted, filled, abandoned
    transitions: list[tuple[int, str, str, int]]  # step, from, to, count
    channels: list[tuple[Any, ...]]
    period: tuple[Any, Any]
    generated_at: str = field(default_factory=lambda: datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"))


# ---------------------------------------------------------------------- reading


def format_value(value: float | None, kind: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if kind == "count":
        return f"{int(value):,}"
    if kind == "rate":
        return f"{value:.1%}"
    if kind == "seconds":
        if value < 1:
            return f"{value * 1000:.0f} ms"
        if value < 120:
            return f"{value:.1f} s"
        if value < 7200:
            return f"{value / 60:.1f} min"
        return f"{value / 3600:.1f} h"
    return f"{value:.2f}"


def _check_views(con: duckdb.DuckDBPyConnection, views: str) -> None:
    found = {
        r[0]
        for r in con.execute(
            "select table_name from information_schema.tables where table_schema = ?", [views]
        ).fetchall()
    }
    missing = [t for t in REQUIRED if t not in found]
    if missing:
        raise SystemExit(
            f"report: {views} lacks {', '.join(missing)}: build the package first (`make demo`, or dbt seed + run)"
        )


def read_data(duckdb_path: str | Path, prefix: str = "rasa") -> ReportData:
    """Everything the report shows, read from the KPI models of `{prefix}_views`."""
    views = f"{prefix}_views"
    con = duckdb.connect(str(duckdb_path), read_only=True)
    try:
        _check_views(con, views)
        v = views
        totals = con.execute(
            f"""
            select
                count(*),
                count(distinct user_id),
                count(distinct case when is_new_user then user_id end),
                avg(case when is_engaged then 1.0 else 0.0 end),
                avg(case when is_bounced then 1.0 else 0.0 end),
                avg(case when is_contained then 1.0 else 0.0 end),
                avg(case when is_handover then 1.0 else 0.0 end),
                avg(case when is_fallback_session then 1.0 else 0.0 end),
                avg(case when is_abandoned then 1.0 else 0.0 end),
                avg(user_messages_count),
                median(session_duration_seconds),
                (select median(bot_response_seconds) from {v}.interaction_latency),
                (select median(user_response_seconds) from {v}.interaction_latency),
                min(session_date),
                max(session_date)
            from {v}.session_outcomes
            """
        ).fetchone()
        assert totals is not None
        (sessions, users, new_users, engaged, bounce, contained, handover, fallback, abandoned, per_session,
         duration, bot_latency, user_latency, first_day, last_day) = totals  # fmt: skip
        kpis = [
            Kpi("sessions", "Sessions", sessions, "count", "sessions (session_outcomes, one row each)"),
            Kpi("users", "Users", users, "count", "distinct users with a session (session_outcomes.user_id)"),
            Kpi("new_users", "New users", new_users, "count", "users whose first session falls in the period "
                "(session_outcomes.is_new_user)"),
            Kpi("containment_rate", "Containment", contained, "rate", "sessions without a handover "
                "(session_outcomes.is_contained; daily_kpis.containment_rate)"),
            Kpi("handover_rate", "Handover", handover, "rate", "sessions handed to a human "
                "(session_outcomes.is_handover; daily_kpis.handover_rate)"),
            Kpi("engagement_rate", "Engaged", engaged, "rate", "sessions with a message beyond the start intents "
                "(session_outcomes.is_engaged; daily_kpis.engagement_rate)"),
            Kpi("bounce_rate", "Bounce", bounce, "rate", "sessions without a user message "
                "(session_outcomes.is_bounced; daily_kpis.bounce_rate)"),
            Kpi("fallback_rate", "Fallback", fallback, "rate", "sessions with a fallback "
                "(session_outcomes.is_fallback_session; daily_kpis.fallback_rate)"),
            Kpi("abandonment_rate", "Abandonment", abandoned, "rate", "sessions ending on an unanswered bot question "
                "(session_outcomes.is_abandoned; daily_kpis.abandonment_rate)"),
            Kpi("interactions_per_session", "Messages / session", per_session, "number", "user messages per session "
                "(session_outcomes.user_messages_count; daily_kpis.interactions_per_session)"),
            Kpi("median_session_duration", "Median session", duration, "seconds", "median session duration "
                "(session_outcomes.session_duration_seconds; daily_kpis.median_session_duration_seconds)"),
            Kpi("median_bot_latency", "Median bot reply", bot_latency, "seconds", "median time from a user message "
                "to the bot's reply (interaction_latency.bot_response_seconds)"),
            Kpi("median_user_latency", "Median user reply", user_latency, "seconds", "median time from the bot's "
                "message to the user's reply (interaction_latency.user_response_seconds)"),
        ]  # fmt: skip
        daily = con.execute(
            f"""
            select kpi_date, sum(sessions_count),
                   sum(contained_sessions_count) * 1.0 / nullif(sum(sessions_count), 0)
            from {v}.daily_kpis group by kpi_date order by kpi_date
            """
        ).fetchall()
        intents = con.execute(
            f"""
            select coalesce(intent_name, '(none)'), count(*) from {v}.user_messages
            group by 1 order by 2 desc, 1 limit {TOP_INTENTS}
            """
        ).fetchall()
        funnel = con.execute(
            f"""
            select form_name, slot_name, requested_count, attempted_count, filled_count, abandoned_count
            from {v}.slot_funnel order by form_name, requested_count desc, slot_name
            """
        ).fetchall()
        transitions = con.execute(
            f"""
            select step, from_intent, to_intent, transitions_count from {v}.intent_transitions
            where step <= {SANKEY_STEPS} order by step, from_intent, to_intent
            """
        ).fetchall()
        channels = con.execute(
            f"""
            select input_channel, sum(sessions_count),
                   sum(contained_sessions_count) * 1.0 / nullif(sum(sessions_count), 0),
                   sum(engaged_sessions_count) * 1.0 / nullif(sum(sessions_count), 0),
                   sum(bounced_sessions_count) * 1.0 / nullif(sum(sessions_count), 0),
                   sum(fallback_sessions_count) * 1.0 / nullif(sum(sessions_count), 0),
                   sum(abandoned_sessions_count) * 1.0 / nullif(sum(sessions_count), 0),
                   sum(user_messages_count) * 1.0 / nullif(sum(sessions_count), 0)
            from {v}.daily_kpis group by input_channel order by 2 desc, 1
            """
        ).fetchall()
    finally:
        con.close()
    return ReportData(views, kpis, daily, intents, funnel, transitions, channels, (first_day, last_day))


# ---------------------------------------------------------------------- charts


def _layout(fig: go.Figure, height: int) -> go.Figure:
    fig.update_layout(
        height=height,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        template="plotly_white",
        font={"family": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", "size": 12},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
    )
    return fig


def chart_daily(data: ReportData) -> go.Figure:
    days = [str(d[0]) for d in data.daily]
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(
        go.Bar(x=days, y=[int(d[1]) for d in data.daily], name="sessions", marker_color=COLORS["sessions"]),
        secondary_y=False,
    )
    fig.add_trace(
        go.Scatter(
            x=days,
            y=[d[2] for d in data.daily],
            name="containment rate",
            mode="lines+markers",
            line={"color": COLORS["containment"], "width": 2},
        ),
        secondary_y=True,
    )
    fig.update_yaxes(title_text="sessions", secondary_y=False, rangemode="tozero")
    fig.update_yaxes(
        title_text="containment", secondary_y=True, tickformat=".0%", range=[0, 1.05], dtick=0.2, showgrid=False
    )
    return _layout(fig, 340)


def chart_intents(data: ReportData) -> go.Figure:
    rows = list(reversed(data.intents))
    fig = go.Figure(
        go.Bar(
            x=[n for _, n in rows],
            y=[i for i, _ in rows],
            orientation="h",
            marker_color=COLORS["sessions"],
            text=[f"{n:,}" for _, n in rows],
            textposition="outside",
            cliponaxis=False,
            name="user messages",
        )
    )
    fig.update_xaxes(title_text="user messages")
    return _layout(fig, 420)


def chart_funnel(data: ReportData) -> go.Figure:
    labels = [f"{form} · {slot}" for form, slot, *_ in data.funnel]
    fig = go.Figure()
    for index, name in enumerate(("requested", "attempted", "filled", "abandoned")):
        fig.add_trace(
            go.Bar(
                x=labels, y=[int(r[2 + index]) for r in data.funnel], name=name, marker_color=COLORS[name]
            )
        )
    fig.update_layout(barmode="group")
    fig.update_yaxes(title_text="form instances")
    return _layout(fig, 420)


def sankey_links(
    transitions: Sequence[tuple[int, str, str, int]], keep: int = SANKEY_INTENTS
) -> tuple[list[str], list[int], list[int], list[int]]:
    """Nodes and links of the Sankey diagram: one node per step and intent (the `keep` most frequent intents; the
    others grouped as 'other'), so that the diagram has no cycles, and a single '(end)' node.
    Returns the node labels and the links' sources, targets and values."""
    totals: dict[str, int] = {}
    for _, a, b, n in transitions:
        for intent in (a, b):
            if intent not in ("(start)", "(end)"):
                totals[intent] = totals.get(intent, 0) + n
    kept = set(sorted(totals, key=lambda i: (-totals[i], i))[:keep])

    def name(intent: str) -> str:
        return intent if intent in kept or intent in ("(start)", "(end)") else "other"

    links: dict[tuple[int, str, str], int] = {}
    for step, a, b, n in transitions:
        key = (int(step), name(a), name(b))
        links[key] = links.get(key, 0) + int(n)
    nodes: dict[tuple[int, str], int] = {}

    def node(layer: int, intent: str) -> int:
        return nodes.setdefault((-1 if intent == "(end)" else layer, intent), len(nodes))

    sources, targets, values = [], [], []
    for (step, a, b), n in sorted(links.items()):
        sources.append(node(step - 1, a))
        targets.append(node(step, b))
        values.append(n)
    return [intent for (_, intent) in nodes], sources, targets, values


def chart_transitions(data: ReportData) -> go.Figure:
    labels, sources, targets, values = sankey_links(data.transitions)
    fig = go.Figure(
        go.Sankey(
            arrangement="snap",
            node={"label": labels, "pad": 12, "thickness": 14, "color": "#9ecae9", "line": {"width": 0}},
            link={"source": sources, "target": targets, "value": values, "color": "rgba(76,120,168,0.25)"},
        )
    )
    return _layout(fig, 460)


# ---------------------------------------------------------------------- page

# marks each chart when plotly has drawn it: data-rendered, and data-points = the marks drawn (bars, line points,
# Sankey links), so a headless browser (and the tests) can tell that every chart shows data
POST_SCRIPT = """
var gd = document.getElementById('{plot_id}');
var marks = gd.querySelectorAll('g.point, path.sankey-link, g.trace.scatter path.js-line').length;
gd.setAttribute('data-points', String(marks));
gd.setAttribute('data-rendered', 'true');
"""

CSS = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; padding: 24px 32px; background: #f6f7f9; color: #1f2933;
       font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
h1 { font-size: 22px; margin: 0 0 2px; }
h2 { font-size: 15px; margin: 0 0 8px; }
.sub { color: #616e7c; margin-bottom: 18px; }
.tiles { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 10px; margin-bottom: 18px; }
.tile { background: #fff; border-radius: 8px; padding: 10px 14px; box-shadow: 0 1px 2px rgba(0,0,0,.08); }
.tile .value { font-size: 22px; font-weight: 600; }
.tile .label { color: #616e7c; font-size: 12px; }
.grid { display: grid; grid-template-columns: 1fr 1fr; gap: 14px; }
.card { background: #fff; border-radius: 8px; padding: 14px 16px; box-shadow: 0 1px 2px rgba(0,0,0,.08); min-width: 0; }
.wide { grid-column: 1 / -1; }
.empty { color: #9aa5b1; padding: 40px 0; text-align: center; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { text-align: right; padding: 4px 8px; border-bottom: 1px solid #e4e7eb; }
th:first-child, td:first-child { text-align: left; }
th { color: #616e7c; font-weight: 500; }
footer { color: #9aa5b1; font-size: 12px; margin-top: 16px; }
"""


def _chart_html(chart_id: str, fig: go.Figure, has_data: bool) -> str:
    if not has_data:
        return f'<div id="chart-{chart_id}" class="empty" data-rendered="empty" data-points="0">no data</div>'
    return fig.to_html(
        full_html=False,
        include_plotlyjs=False,
        div_id=f"chart-{chart_id}",
        post_script=POST_SCRIPT,
        config={"displaylogo": False, "displayModeBar": False, "responsive": True},
    )


def render_html(data: ReportData) -> str:
    """The whole page: one HTML document with plotly.js inline and no reference to anything outside it."""
    figures = {
        "daily": (chart_daily(data), bool(data.daily)),
        "intents": (chart_intents(data), bool(data.intents)),
        "funnel": (chart_funnel(data), bool(data.funnel)),
        "transitions": (chart_transitions(data), bool(data.transitions)),
    }
    tiles = "\n".join(
        f'<div class="tile" title="{html.escape(k.definition)}" data-kpi="{k.key}">'
        f'<div class="value">{html.escape(k.text())}</div><div class="label">{html.escape(k.label)}</div></div>'
        for k in data.kpis
    )
    cards = []
    for chart_id, title in CHARTS:
        fig, has_data = figures[chart_id]
        wide = " wide" if chart_id in ("daily", "transitions") else ""
        cards.append(
            f'<section class="card{wide}"><h2>{html.escape(title)}</h2>{_chart_html(chart_id, fig, has_data)}</section>'
        )
    head = ["channel", "sessions", "containment", "engaged", "bounce", "fallback", "abandonment", "messages/session"]
    kinds = ["text", "count", "rate", "rate", "rate", "rate", "rate", "number"]
    body = "\n".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape(str(v) if kind == 'text' else format_value(v, kind))}</td>"
            for v, kind in zip(row, kinds, strict=True)
        )
        + "</tr>"
        for row in data.channels
    )
    table = (
        '<section class="card wide"><h2>KPIs by channel</h2><table><thead><tr>'
        + "".join(f"<th>{h}</th>" for h in head)
        + f"</tr></thead><tbody>{body}</tbody></table></section>"
    )
    first, last = data.period
    period = f"{first} – {last}" if first is not None else "no sessions"
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Conversation KPIs · rasa_semantic_schema</title>
<style>{CSS}</style>
<script type="text/javascript">{get_plotlyjs()}</script>
</head>
<body>
<h1>Conversation KPIs</h1>
<div class="sub">{html.escape(data.views)} · sessions from {html.escape(period)} · generated {data.generated_at}</div>
<div class="tiles">
{tiles}
</div>
<div class="grid">
{"".join(cards)}
{table}
</div>
<footer>rasa_semantic_schema · KPI definitions: README "Conversation KPIs" · hover a tile for its definition</footer>
<script type="application/json" id="report-data">{json.dumps({"charts": [c for c, _ in CHARTS]})}</script>
</body>
</html>
"""


def write_report(duckdb_path: str | Path, out: str | Path = DEFAULT_OUT, prefix: str = "rasa") -> ReportData:
    data = read_data(duckdb_path, prefix)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_html(data), encoding="utf-8")
    return data


def terminal_table(data: ReportData) -> str:
    """The KPIs as a plain-text table: label, value, definition (model and column)."""
    width = max(len(k.label) for k in data.kpis)
    lines = [f"Conversation KPIs ({data.views}, sessions from {data.period[0]} to {data.period[1]})", ""]
    lines.append(f"  {'KPI':<{width}}  {'value':>10}  definition")
    lines.append(f"  {'-' * width}  {'-' * 10}  {'-' * 40}")
    for k in data.kpis:
        lines.append(f"  {k.label:<{width}}  {k.text():>10}  {k.definition}")
    return "\n".join(lines)


# ---------------------------------------------------------------------- headless Chromium

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    # no name resolves: the page must render without any network
    "--host-resolver-rules=MAP * ~NOTFOUND",
)


def chromium_binary() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    raise FileNotFoundError("headless Chromium not found (Debian: apt-get install chromium; .ci/run installs it)")


def run_chromium(page: Path, *args: str, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
    """Open `page` (a local file) in a fresh headless Chromium with an empty profile; wait for its scripts."""
    with tempfile.TemporaryDirectory(prefix="rss_chromium_") as profile:
        cmd = [
            chromium_binary(),
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            "--virtual-time-budget=20000",
            *args,
            page.resolve().as_uri(),
        ]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=True)


def rendered_dom(page: Path) -> str:
    """The page's DOM after its scripts ran."""
    return run_chromium(page, "--window-size=1280,2000", "--dump-dom").stdout


def screenshot(page: Path, png: Path, width: int = 1280, height: int = 2000, scale: float = 1.0) -> Path:
    png.parent.mkdir(parents=True, exist_ok=True)
    run_chromium(
        page, f"--window-size={width},{height}", f"--force-device-scale-factor={scale}", f"--screenshot={png.resolve()}"
    )
    if not png.exists():
        raise RuntimeError(f"Chromium wrote no screenshot to {png}")
    return png


# ---------------------------------------------------------------------- command line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duckdb", required=True, help="path of the DuckDB database the package built")
    parser.add_argument("--prefix", default="rasa", help="destination schema prefix (default rasa)")
    parser.add_argument("--out", default=str(DEFAULT_OUT), help=f"HTML file to write (default {DEFAULT_OUT})")
    parser.add_argument("--screenshot", help="also render the page in headless Chromium to this PNG")
    args = parser.parse_args(argv)
    out = Path(args.out)
    data = write_report(args.duckdb, out, args.prefix)
    print(terminal_table(data))
    print(f"\nreport: {out.resolve()} (open it in a browser; it needs no server or network)")
    if args.screenshot:
        print(f"screenshot: {screenshot(out, Path(args.screenshot)).resolve()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
