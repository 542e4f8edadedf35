"""The console in a real headless Chromium (Debian's, driven by Selenium): log in, register a
system, open a run whose evidence is hostile (no script runs, the text shows), switch language,
log out, check a certificate publicly. Screenshots go to the test's folder (printed with -s)."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.console.conftest import PASSWORD, Env
from tests.console.test_console import HOSTILE, _finished_run, _pass_bundle, _system
from vhr_conformance.console import services
from vhr_conformance.console.models import User

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")

pytestmark = pytest.mark.skipif(
    CHROMIUM is None or DRIVER is None,
    reason="Chromium and its driver are not installed (Debian packages chromium, chromium-driver)",
)


@pytest.fixture
def served(env: Env) -> Iterator[str]:
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(env.app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    limit = time.monotonic() + 20
    while not server.started and time.monotonic() < limit:
        time.sleep(0.05)
    assert server.started
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def browser() -> Iterator[object]:
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--window-size=1280,1000",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(DRIVER)), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def test_main_flow_in_a_browser(env: Env, served: str, browser: object, tmp_path: Path) -> None:
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    d = browser  # selenium's WebDriver
    shots = tmp_path / "screenshots"
    shots.mkdir()

    def wait_for(text: str) -> None:
        """Clicks navigate asynchronously: wait until the new page's main part says `text`."""
        WebDriverWait(d, 20).until(ec.text_to_be_present_in_element((By.TAG_NAME, "main"), text))

    def shot(name: str) -> None:
        d.save_screenshot(str(shots / f"{name}.png"))  # type: ignore[attr-defined]

    hostile_system = _system(env, "Công ty A", product=HOSTILE)
    results = {
        "criteria": [
            {
                "id": "VHR-CAP-001",
                "inScope": True,
                "state": "fail",
                "level": "SHALL",
                "title": {"vi": HOSTILE, "en": HOSTILE},
                "cases": ["t::a"],
            }
        ],
        "cases": [
            {
                "nodeid": "t::a",
                "name": "a",
                "state": "fail",
                "message": HOSTILE,
                "evidence": [
                    {
                        "method": "GET",
                        "url": "https://x/metadata",
                        "status": 200,
                        "response_headers": {"x": HOSTILE},
                        "response_body": HOSTILE + "<img src=x onerror=\"document.title='owned'\">",
                    }
                ],
            }
        ],
    }
    run_id = _finished_run(env, hostile_system, results)
    certified = _finished_run(
        env, _system(env, "Công ty A", "HIS-cert"), {"criteria": [], "cases": []}, bundle=_pass_bundle(env)
    )
    with env.sessions() as s:
        ministry = s.scalar(select(User).where(User.name == "bo-yte"))
        assert ministry is not None
        cert_id = services.issue_certificate(s, ministry, certified, env.key, env.trust, 30).id

    d.get(served + "/login")  # type: ignore[attr-defined]
    d.find_element(By.ID, "name").send_keys("vendor-a")  # type: ignore[attr-defined]
    d.find_element(By.ID, "password").send_keys(PASSWORD)  # type: ignore[attr-defined]
    shot("1-login")
    d.find_element(By.CSS_SELECTOR, "main button[type=submit]").click()  # type: ignore[attr-defined]
    wait_for("Tổng quan các hệ thống")
    d.find_element(By.ID, "product").send_keys("HIS Bệnh viện")  # type: ignore[attr-defined]
    d.find_element(By.ID, "version").send_keys("2.1")  # type: ignore[attr-defined]
    d.find_element(By.CSS_SELECTOR, "form[action='/systems'] button").click()  # type: ignore[attr-defined]
    wait_for("HIS Bệnh viện 2.1")
    assert d.find_element(By.TAG_NAME, "h1").text.startswith("HIS Bệnh viện 2.1")  # type: ignore[attr-defined]
    shot("2-system")

    d.get(f"{served}/runs/{run_id}")  # type: ignore[attr-defined]
    shot("3-hostile-run")
    with pytest.raises(NoAlertPresentException):
        d.switch_to.alert.text  # type: ignore[attr-defined]  # noqa: B018
    assert d.execute_script("return document.querySelectorAll('main script, main img').length") == 0  # type: ignore[attr-defined]
    assert d.title != "owned"  # type: ignore[attr-defined]
    assert HOSTILE in d.find_element(By.TAG_NAME, "main").text  # type: ignore[attr-defined]

    d.find_element(By.LINK_TEXT, "English").click()  # type: ignore[attr-defined]
    wait_for("Results per criterion")
    assert d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"  # type: ignore[attr-defined]
    assert "Results per criterion" in d.page_source  # type: ignore[attr-defined]
    shot("4-english")
    d.find_element(By.CSS_SELECTOR, "header form button").click()  # type: ignore[attr-defined]
    wait_for("Log in")
    assert "/login" in d.current_url  # type: ignore[attr-defined]

    d.get(f"{served}/check")  # type: ignore[attr-defined]
    d.find_element(By.ID, "id").send_keys(cert_id)  # type: ignore[attr-defined]
    d.find_element(By.CSS_SELECTOR, "main button").click()  # type: ignore[attr-defined]
    wait_for("Valid")
    assert d.find_element(By.ID, "result").text == "Valid"  # type: ignore[attr-defined]
    shot("5-public-check")
    assert len(list(shots.glob("*.png"))) == 5
    print(f"screenshots: {shots}")
