"""The dashboard in a real browser: Debian's Chromium, headless, driven by Selenium through
chromedriver (never Selenium Manager: nothing is downloaded). Logs in through the admin login
form, opens the dashboard, reads the numbers off the drawn SVG and compares them with the
selectors, checks that the console has no errors and that every request stayed on the server,
and saves a screenshot for CI ($CI_ARTIFACTS_DIR/dashboard.png, default var/ci-artifacts/).

Skipped when /usr/bin/chromium is missing, unless REQUIRE_BROWSER=1 (CI), which makes it fail.
"""

import base64
import datetime as dt
import json
import os
import tempfile
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from plans.models import Target
from plans.progress import attainment_rows, target_progress
from reports.selectors import members_missing_report
from tests.console.conftest import DASHBOARD

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROME_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def artifacts_dir() -> Path:
    path = Path(os.environ.get("CI_ARTIFACTS_DIR") or settings.BASE_DIR / "var" / "ci-artifacts")
    path.mkdir(parents=True, exist_ok=True)
    return path


# (language the browser asks for, the language Django answers in, screenshot)
LANGUAGES = {
    "en": ("en-US", "en", "dashboard.png"),
    "zh-hans": ("zh-CN", "zh-hans", "dashboard-zh.png"),
}


@pytest.fixture(params=list(LANGUAGES))
def language(request):
    return request.param


@pytest.fixture
def browser(language):
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        message = (
            f"{CHROMIUM} or {CHROMEDRIVER} is missing (apt-get install chromium chromium-driver)"
        )
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"REQUIRE_BROWSER=1 but {message}")
        pytest.skip(message)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.TemporaryDirectory(prefix="dashboard-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROME_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile.name}")
    options.add_argument("--window-size=1440,1000")
    accept = LANGUAGES[language][0]
    options.add_argument(f"--lang={accept}")
    # Headless Chromium takes Accept-Language from the profile's preference, not --lang.
    options.add_experimental_option("prefs", {"intl.accept_languages": accept})
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        profile.cleanup()


def requested_urls(driver) -> list[str]:
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def drawn(driver, selector: str) -> list[dict]:
    from selenium.webdriver.common.by import By

    elements = driver.find_elements(By.CSS_SELECTOR, selector)
    return [
        {
            "label": element.get_attribute("data-label"),
            "value": element.get_attribute("data-value"),
            "target": element.get_attribute("data-target"),
            "date": element.get_attribute("data-date"),
            "shown": element.is_displayed(),
            "size": element.size,
        }
        for element in elements
    ]


# The panels' titles as a reader of each language sees them.
TITLES = {
    "en": {
        "chart-regions": "Attainment by region",
        "chart-products": "Attainment by product",
        "missing-reports": "Missing today's report",
        "urgent-feedback": "Open urgent feedback",
        "chart-grades": "Grades of the latest appraisal cycle",
    },
    "zh-hans": {
        "chart-regions": "各大区达成情况",
        "chart-products": "各产品达成情况",
        "missing-reports": "今日未交日报",
        "urgent-feedback": "未结紧急反馈",
        "chart-grades": "最近一期考核等级分布",
    },
}


def test_the_dashboard_draws_the_right_numbers_in_a_real_browser(
    browser, language, live_server, world, scene
):
    from selenium.webdriver.common.by import By

    world.admin.user.is_staff = True
    world.admin.user.save(update_fields=["is_staff"])

    browser.get(f"{live_server.url}/admin/login/?next=/admin/")
    browser.find_element(By.NAME, "username").send_keys("admin")
    browser.find_element(By.NAME, "password").send_keys("pass-word-123")
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    # The admin index leads to the dashboard; one organization: straight to it. The click that
    # submitted the form may return before the index is there on a loaded machine: wait for it.
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, 30).until(
        expected_conditions.element_to_be_clickable((By.ID, "console-dashboard-link"))
    ).click()
    assert browser.current_url == f"{live_server.url}{DASHBOARD}"
    assert browser.find_element(By.CSS_SELECTOR, "#content-main.console")
    answered = LANGUAGES[language][1]
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == answered
    for panel, title in TITLES[language].items():
        heading = browser.find_element(By.CSS_SELECTOR, f"#{panel} h3").text
        assert heading.startswith(title), (panel, heading)
    # The two ratios say what they are measured against, in the reader's language.
    with translation.override(answered):
        to_date = _("%(percent)s of expected to date")
        whole = _("%(percent)s of the whole target")
    cards = browser.find_elements(By.CSS_SELECTOR, "#pace-cards .attainment")
    assert cards
    for card in cards:
        assert card.text == to_date % {"percent": card.get_attribute("data-value")}
    header = browser.find_element(By.ID, "progress-attainment")
    assert f"({whole % {'percent': header.get_attribute('data-value')}})" in header.text

    targets = Target.objects.filter(organization=world.org)
    regions = attainment_rows(
        organization=world.org,
        targets=targets,
        plan=scene.plan,
        metric_key="sales_amount",
        group_by="region",
        tier="base",
    )
    products = attainment_rows(
        organization=world.org,
        targets=targets,
        plan=scene.plan,
        metric_key="sales_amount",
        group_by="product",
        tier="base",
    )
    region_bars = drawn(browser, "#chart-regions svg rect.bar")
    assert [
        (bar["label"], Decimal(bar["value"]), Decimal(bar["target"])) for bar in region_bars
    ] == [(row.label, row.actual, row.target) for row in regions]
    assert [bar["label"] for bar in region_bars] == ["East", "West"]
    assert Decimal(region_bars[0]["value"]) == Decimal("7450.50")
    product_bars = drawn(browser, "#chart-products svg rect.bar")
    assert [(bar["label"], Decimal(bar["value"])) for bar in product_bars] == [
        (row.label, row.actual) for row in products
    ]
    markers = drawn(browser, "#chart-regions svg line.target-marker")
    assert [Decimal(marker["value"]) for marker in markers] == [row.target for row in regions]
    # Drawn, not only present: a bar has a width that follows its number.
    assert all(bar["shown"] and bar["size"]["height"] > 0 for bar in region_bars + product_bars)
    assert region_bars[0]["size"]["width"] > region_bars[1]["size"]["width"] > 0

    progress = target_progress(organization=world.org, target=scene.root)
    actual_points = drawn(browser, "#chart-progress svg circle.point-actual")
    expected_points = [
        (day.date.isoformat(), day.cumulative_actual)
        for day in progress.daily
        if day.cumulative_actual is not None
    ]
    assert [(p["date"], Decimal(p["value"])) for p in actual_points] == expected_points
    assert actual_points[-1]["date"] == "2026-10-16"
    assert Decimal(actual_points[-1]["value"]) == Decimal("8650.50")
    target_points = drawn(browser, "#chart-progress svg circle.point-target")
    assert len(target_points) == 31
    assert Decimal(target_points[-1]["value"]) == Decimal("31000.00")

    grades = drawn(browser, "#chart-grades svg rect.bin")
    assert [(g["label"], g["value"]) for g in grades] == [
        ("A", "2"),
        ("B", "1"),
        ("C", "1"),
        ("D", "1"),
    ]
    badges = browser.find_elements(By.CSS_SELECTOR, "#pace-cards .badge")
    assert badges and all(badge.is_displayed() for badge in badges)
    due = members_missing_report(
        organization=world.org, viewer=world.admin, day=dt.date(2026, 10, 16)
    )
    assert browser.find_element(By.CSS_SELECTOR, "#missing-reports .count").text == str(due.count())
    listed = browser.find_elements(By.CSS_SELECTOR, "#missing-reports li[data-member]")
    assert [int(item.get_attribute("data-member")) for item in listed] == [m.pk for m in due]
    assert world.leader.pk in [m.pk for m in due] and world.agent.pk not in [m.pk for m in due]
    assert scene.urgent.title in browser.find_element(By.ID, "urgent-feedback").text

    # The whole page, not only the window.
    shot = browser.execute_cdp_cmd(
        "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}
    )
    screenshot = artifacts_dir() / LANGUAGES[language][2]
    screenshot.write_bytes(base64.b64decode(shot["data"]))
    assert screenshot.stat().st_size > 10_000

    severe = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert severe == []
    # Every network request of the pages went to the test server: no CDN, font or script from
    # outside (chrome:// and data: URLs are the browser's own, not the network).
    network = [url for url in requested_urls(browser) if url.split(":")[0] in ("http", "https")]
    assert any(url.startswith(f"{live_server.url}{DASHBOARD}") for url in network)
    assert [url for url in network if not url.startswith(live_server.url)] == []
