"""The results site of the published ``reports/`` in a real browser: headless Chromium (the system's
package) driven by Playwright. From the index it follows the link to the GTSRB stop-sign page,
sorts a table by a column and checks the order, checks that every figure has loaded, that bold means
one thing in each leaderboard table and that a metric a protocol lacks reads as not applicable, and fails on
any console error and on any request that leaves ``file://``. Skipped, with the reason, where
Playwright or Chromium is missing (``.ci/run`` installs both)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from paths import REPO

from advbench.site import build

#: Chromium as root without network: no sandbox, no GPU, no first-run or background traffic.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
STOP_SIGNS = "gtsrb-stop"


def _chromium() -> str:
    found = os.environ.get("ADVBENCH_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.skip("no Chromium on this machine (apt-get install chromium, or set ADVBENCH_CHROMIUM)")
    return found


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """A page of a fresh persistent Chromium context, and what it logged: console errors and requests."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (the test extra)")
    executable = _chromium()
    seen = {"errors": [], "requests": []}
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=executable, headless=True, args=FLAGS
        )
        page = context.new_page()
        page.on("console", lambda message: message.type == "error" and seen["errors"].append(message.text))
        page.on("pageerror", lambda error: seen["errors"].append(str(error)))
        context.on("request", lambda request: seen["requests"].append(request.url))
        yield page, seen
        context.close()


@pytest.fixture(scope="module")
def index(tmp_path_factory) -> Path:
    """The built site's index page."""
    return build.build(REPO / "reports", tmp_path_factory.mktemp("site") / "site")


def _column(page, table: str, index: int) -> list[str]:
    return page.eval_on_selector_all(
        f"{table} tbody tr", f"rows => rows.map(row => row.cells[{index}].getAttribute('data-value'))"
    )


def test_stop_sign_page_sorts_and_shows_every_figure(browser, index):
    page, seen = browser
    page.goto(index.as_uri())
    page.get_by_role("link", name=STOP_SIGNS, exact=True).click()
    page.wait_for_load_state("load")
    assert page.url.endswith(f"/folders/{STOP_SIGNS}/index.html")

    heading = page.locator("#table-auc thead th").nth(1)  # the first attack's column
    heading.click()
    ascending = [float(v) for v in _column(page, "#table-auc", 1)]
    assert len(ascending) > 2 and ascending == sorted(ascending)
    assert heading.get_attribute("aria-sort") == "ascending"
    heading.click()
    descending = [float(v) for v in _column(page, "#table-auc", 1)]
    assert descending == sorted(ascending, reverse=True)
    page.locator("#table-auc thead th").nth(0).click()
    names = _column(page, "#table-auc", 0)
    assert names == sorted(names, key=str.lower)

    images = page.eval_on_selector_all("img", "imgs => imgs.map(i => [i.getAttribute('src'), i.naturalWidth])")
    expected = sorted((REPO / "reports" / STOP_SIGNS / "figures").glob("*.png"))
    assert len(images) == len(expected) > 0
    assert [src for src, width in images if width <= 0] == []

    page.goto((index.parent / "leaderboards" / "gtsrb--boundary.html").as_uri())
    assert page.locator("table.sortable").count() >= 1 and page.get_by_text("not comparable").count() == 1
    # bold means one thing per table: none in a table that merges folders, the folder's own elsewhere
    bold = page.eval_on_selector_all(
        "table.sortable",
        """tables => tables.map(t => [
            t.previousElementSibling.textContent.includes('several folders'),
            new Set(Array.from(t.querySelectorAll('tbody tr'), r => r.cells[1].textContent)).size,
            t.querySelectorAll('td.bold').length])""",
    )
    assert any(merged for merged, _, _ in bold) and any(count for merged, _, count in bold if not merged)
    assert all((folders > 1) == merged and (count == 0 or not merged) for merged, folders, count in bold)
    page.goto((index.parent / "leaderboards" / "mnist--0.html").as_uri())
    assert page.get_by_text("not applicable").count() > 0 and page.get_by_text("not run").count() == 0

    assert seen["errors"] == []
    assert [url for url in seen["requests"] if not url.startswith("file://")] == []


@pytest.fixture(scope="module")
def metrics_index(tmp_path_factory) -> Path:
    """A site of one published folder rendered again, from a copy, with every detection metric."""
    from advbench.cli import main

    reports = tmp_path_factory.mktemp("metrics") / "reports"
    copy = shutil.copytree(REPO / "reports" / STOP_SIGNS / "reference", reports / "reference")
    assert main(["report", str(copy), "--ci", "--metrics", "all"]) == 0
    return build.build(reports, reports.parent / "site")


def test_every_metric_is_a_column_to_sort_by_with_intervals(browser, metrics_index):
    from advbench.runs import detection_metrics

    page, seen = browser
    page.goto((metrics_index.parent / "folders" / "reference" / "index.html").as_uri())
    for name in detection_metrics.NAMES:
        table = "#" + build.table_id("auc" if name == "auroc" else name)
        heading = page.locator(f"{table} thead th").nth(1)
        heading.click()
        ascending = [float(v) for v in _column(page, table, 1)]
        assert len(ascending) > 2 and ascending == sorted(ascending), name
        heading.click()
        assert [float(v) for v in _column(page, table, 1)] == sorted(ascending, reverse=True), name
        texts = page.eval_on_selector_all(f"{table} tbody td:nth-child(2)", "cells => cells.map(c => c.textContent)")
        assert all(" [" in text for text in texts), (name, texts)
    page.goto((metrics_index.parent / "leaderboards" / "gtsrb--boundary.html").as_uri())
    headings = page.eval_on_selector_all("table.sortable thead th", "cells => cells.map(c => c.textContent)")
    for name in detection_metrics.NAMES[1:]:
        index = headings.index(build.METRICS[name])
        page.locator("table.sortable thead th").nth(index).click()
        values = [float(v) for v in _column(page, "table.sortable", index)]
        assert len(values) > 2 and values == sorted(values), name
    assert seen["errors"] == []
    assert [url for url in seen["requests"] if not url.startswith("file://")] == []
