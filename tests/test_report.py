"""The KPI report (scripts/report.py): a self-contained HTML page that renders offline in headless Chromium.

The warehouse is a generated deployment of the demo assistant, built with the demo's vars. The page is opened from
the file system in a fresh headless Chromium in which no host name resolves, and every chart must have been drawn
with data (the page marks each chart with the number of marks plotly drew). The screenshot is kept for review in
build/report/report.png.
"""

from __future__ import annotations

import importlib.util
import re
import struct
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from dbtkit import ROOT, Warehouse, build, fresh_duckdb, load

from rasa_tracker_loader.conversation import write_jsonl
from rasa_tracker_loader.generator import generate

VARS = {"user_id": "metadata__user_id"}  # as tests/test_kpis.py: dbt keeps one parse per set of vars
SCREENSHOT = ROOT / "build" / "report" / "report.png"


def _load_report_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("rss_report", ROOT / "scripts" / "report.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


report = _load_report_module()


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    tmp = tmp_path_factory.mktemp("report")
    write_jsonl(tmp / "trackers.jsonl", generate(n_conversations=40, seed=7))
    wh = fresh_duckdb(tmp / "report.duckdb")
    load(wh, "rasa", tmp / "trackers.jsonl")
    build(wh, VARS)
    return wh


@pytest.fixture(scope="module")
def page(warehouse: Warehouse, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("page") / "rasa_semantic_schema_report.html"
    report.write_report(warehouse.duckdb_path, out, "rasa")
    return out


def test_page_is_self_contained(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    # the markup around the scripts (plotly.js itself holds URLs in strings, for map tiles it never loads here)
    markup = re.sub(r"(<script\b[^>]*>).*?(</script>)", r"\1\2", text, flags=re.IGNORECASE | re.DOTALL)
    tags = re.findall(r"<[a-z][^>]*>", markup, flags=re.IGNORECASE)
    # no script, stylesheet, image or frame comes from anywhere: plotly.js is inline
    assert not [t for t in tags if re.search(r"\b(?:src|href)\s*=", t, flags=re.IGNORECASE)]
    assert not re.search(r"<link\b", markup, flags=re.IGNORECASE)
    assert not re.search(r"https?://|@import|url\(", markup, flags=re.IGNORECASE)
    scripts = re.findall(r"<script\b[^>]*>", text, flags=re.IGNORECASE)
    assert scripts and not [s for s in scripts if "src" in s.lower()], scripts
    assert "Plotly.newPlot" in text and len(text) > 1_000_000  # the library itself is in the page
    for chart_id, _ in report.CHARTS:
        assert f'id="chart-{chart_id}"' in text


def test_tiles_and_terminal_table_show_the_kpis(warehouse: Warehouse, page: Path, capsys: Any) -> None:
    data = report.read_data(warehouse.duckdb_path, "rasa")
    kpis = {k.key: k.value for k in data.kpis}
    expected = warehouse.query(
        "select count(*), count(distinct user_id), "
        "avg(case when is_contained then 1.0 else 0.0 end), avg(case when is_abandoned then 1.0 else 0.0 end) "
        "from rasa_views.session_outcomes"
    )[0]
    assert (kpis["sessions"], kpis["users"]) == expected[:2]
    assert kpis["containment_rate"] == pytest.approx(expected[2])
    assert kpis["abandonment_rate"] == pytest.approx(expected[3])
    # the totals agree with daily_kpis re-aggregated from its counts
    daily = warehouse.query(
        "select sum(sessions_count), sum(contained_sessions_count) * 1.0 / sum(sessions_count) "
        "from rasa_views.daily_kpis"
    )[0]
    assert kpis["sessions"] == daily[0] and kpis["containment_rate"] == pytest.approx(daily[1])
    assert kpis["containment_rate"] + kpis["handover_rate"] == pytest.approx(1.0)

    text = page.read_text(encoding="utf-8")
    for k in data.kpis:
        assert re.search(rf'data-kpi="{k.key}"><div class="value">{re.escape(k.text())}</div>', text), k

    assert report.main(["--duckdb", str(warehouse.duckdb_path), "--out", str(page)]) == 0
    printed = capsys.readouterr().out
    for k in data.kpis:
        assert re.search(rf"^  {re.escape(k.label)}\s+{re.escape(k.text())}  ", printed, flags=re.MULTILINE), k.label


def test_sankey_has_no_cycles_and_one_end() -> None:
    transitions = [
        (1, "(start)", "greet", 3),
        (2, "greet", "greet", 1),
        (2, "greet", "(end)", 2),
        (3, "greet", "(end)", 1),
        (1, "(start)", "rare", 1),
        (2, "rare", "(end)", 1),
    ]
    labels, sources, targets, values = report.sankey_links(transitions, keep=1)
    assert labels.count("(end)") == 1 and "rare" not in labels and "other" in labels
    assert sum(values) == 9
    # a node's layer only grows along its links: no link goes back
    assert all(s != t for s, t in zip(sources, targets, strict=True))
    assert labels == ["(start)", "greet", "other", "(end)", "greet"]


def _png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


def test_renders_offline_in_headless_chromium(page: Path) -> None:
    dom = report.rendered_dom(page)
    for chart_id, _ in report.CHARTS:
        tag = re.search(rf'<div[^>]*\bid="chart-{chart_id}"[^>]*>', dom)
        assert tag, f"chart {chart_id} missing from the rendered page"
        assert 'data-rendered="true"' in tag.group(0), f"chart {chart_id} was not drawn: {tag.group(0)}"
        points = re.search(r'data-points="(\d+)"', tag.group(0))
        assert points and int(points.group(1)) > 0, f"chart {chart_id} has no data: {tag.group(0)}"
    assert dom.count("main-svg") >= len(report.CHARTS)  # plotly's SVG layers

    SCREENSHOT.unlink(missing_ok=True)
    report.screenshot(page, SCREENSHOT)
    assert _png_size(SCREENSHOT) == (1280, 2000)
    assert SCREENSHOT.stat().st_size > 50_000  # a page with charts, not a blank one
