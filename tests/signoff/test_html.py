"""The pytest-html report, opened in headless Chromium: sign-off section, columns, evidence."""

from __future__ import annotations

from pathlib import Path

import pytest

from .helpers import ENV_ARGS, project

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
SIGNING_KEY = "html-secret-signing-key"


@pytest.fixture
def report(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Path:
    pytest.importorskip("pytest_html")
    monkeypatch.setenv("DEPLOYVERIFY_SIGNING_KEY", SIGNING_KEY)
    project(pytester)
    result = pytester.runpytest_subprocess(
        *ENV_ARGS,
        "-n",
        "2",
        "--html",
        "report.html",
        "--self-contained-html",
        "--metadata",
        "Leaky",
        SIGNING_KEY,
    )
    result.stdout.fnmatch_lines(["*Generated html report*"])
    html = pytester.path / "report.html"
    text = html.read_text(encoding="utf-8")
    assert SIGNING_KEY not in text
    # Self-contained: no stylesheet or script fetched from elsewhere.
    assert '<link rel="stylesheet" href=' not in text
    assert "<script src=" not in text
    return html


def test_signoff_section_columns_and_evidence_render_in_chromium(report: Path) -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install -y --no-install-recommends chromium")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(report.as_uri())
            # Rows are rendered by the report's JavaScript from its embedded data.
            page.wait_for_selector("#results-table tbody .col-dvsection")
            signoff = page.locator("#deployverify-signoff")
            assert signoff.is_visible()
            assert (
                page.locator(".dv-verdict").inner_text()
                == "Verdict: CONDITIONAL for the team's own checks"
            )
            assert "Dashboard present" in signoff.inner_text()
            assert "oncall" in page.locator(".dv-manual").inner_text()
            assert "EXPIRED" in page.locator(".dv-waivers").inner_text()
            headers = page.locator("#results-table-head th").all_inner_texts()
            assert [h.strip() for h in headers[:5]] == [
                "Result",
                "Test",
                "Section",
                "Severity",
                "Evidence",
            ]
            replicas = page.locator("tbody.results-table-row", has_text="test_replicas")
            assert replicas.locator(".col-dvsection").inner_text() == "infra"
            assert replicas.locator(".col-dvseverity").inner_text() == "high"
            assert (
                "ready_replicas = 3 (expected 3)"
                in replicas.locator(".col-dvevidence").inner_text()
            )
            tls = page.locator("tbody.results-table-row", has_text="test_tls")
            assert tls.locator(".col-dvevidence").inner_text().startswith("WAIVED (SEC-42")
            page.click("#show_all_details")
            evidence_table = replicas.locator("table.dv-evidence")
            assert evidence_table.is_visible()
            assert "deployment/api" in evidence_table.inner_text()
            environment = page.locator("#environment").inner_text()
            assert "Deployverify environment" in environment
            assert "demo (from --env)" in environment
            assert SIGNING_KEY not in page.content()
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / "signoff_html.png"), full_page=True)
        finally:
            browser.close()


def test_html_without_chromium_still_has_the_summary(report: Path) -> None:
    text = report.read_text(encoding="utf-8")
    assert 'id="deployverify-signoff"' in text
    assert 'data-verdict="CONDITIONAL"' in text
    assert "Verdict: CONDITIONAL for the team&#x27;s own checks" in text
