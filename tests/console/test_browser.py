"""The console in a real headless Chromium (Debian's, driven by Selenium), the main flows end to
end: log in, register a system, start a run on the embedded server and watch it finish (live
progress through server-sent events), open a failure's evidence (hostile: no script runs, the text
shows), attest, review, issue a certificate, check it publicly, switch language.

Screenshots are test artefacts: `reports/test-artefacts/console-browser/` of the checkout."""

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
from vhr_conformance.console.app import create_app
from vhr_conformance.console.models import Certificate

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
ARTEFACTS = Path(__file__).resolve().parents[2] / "reports" / "test-artefacts" / "console-browser"

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
    # One worker thread in the web process, as `vhr console` runs by default.
    app = create_app(env.url, settings=env.settings, local_workers=1, sign_key=env.key, trust=env.trust)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
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


def test_main_flow_in_a_browser(env: Env, served: str, browser: object) -> None:
    from selenium.common.exceptions import (
        NoAlertPresentException,
        NoSuchElementException,
        StaleElementReferenceException,
    )
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    d = browser  # selenium's WebDriver
    shutil.rmtree(ARTEFACTS, ignore_errors=True)
    ARTEFACTS.mkdir(parents=True)

    def wait_for(text: str, seconds: float = 20, where: str = "main") -> None:
        """Clicks navigate asynchronously: wait until the new page's element says `text`."""
        WebDriverWait(d, seconds).until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, where), text))

    def shot(name: str) -> None:
        d.save_screenshot(str(ARTEFACTS / f"{name}.png"))  # type: ignore[attr-defined]

    def find(css: str) -> object:
        return d.find_element(By.CSS_SELECTOR, css)  # type: ignore[attr-defined]

    def log_in(name: str) -> None:
        d.get(served + "/login")  # type: ignore[attr-defined]
        find("#name").send_keys(name)  # type: ignore[attr-defined]
        find("#password").send_keys(PASSWORD)  # type: ignore[attr-defined]
        find("main button[type=submit]").click()  # type: ignore[attr-defined]
        wait_for(name, where="header")

    def log_out() -> None:
        find("header form button").click()  # type: ignore[attr-defined]
        WebDriverWait(d, 20).until(ec.url_contains("/login"))

    # A failed run whose evidence is hostile and which asks for an attestation; a PASS bundle to certify.
    hostile_system = _system(env, "Công ty A", product=HOSTILE)
    results = {
        "criteria": [
            {
                "id": "VHR-CAP-001",
                "inScope": True,
                "state": "fail",
                "level": "SHALL",
                "verification": "automated",
                "title": {"vi": HOSTILE, "en": HOSTILE},
                "cases": ["t::a"],
            },
            {
                "id": "VHR-SEC-008",
                "inScope": True,
                "state": "attestation",
                "level": "SHALL",
                "verification": "attestation",
                "title": {"vi": "Nhật ký truy cập", "en": "Access log"},
                "cases": [],
            },
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
    failed = _finished_run(env, hostile_system, results)
    certified = _finished_run(
        env, _system(env, "Công ty A", "HIS-cert"), {"criteria": [], "cases": []}, bundle=_pass_bundle(env)
    )

    # Vendor: log in, register a system, start a run on the embedded server, watch it finish.
    d.get(served + "/login")  # type: ignore[attr-defined]
    shot("01-login")
    log_in("vendor-a")
    wait_for("Tổng quan các hệ thống")
    find("#product").send_keys("HIS Bệnh viện")  # type: ignore[attr-defined]
    find("#version").send_keys("2.1")  # type: ignore[attr-defined]
    find("form[action='/systems'] button").click()  # type: ignore[attr-defined]
    wait_for("HIS Bệnh viện 2.1", where="h1")
    shot("02-system-registered")
    find("#only").send_keys("SEC")  # type: ignore[attr-defined]
    find("form[action$='/runs'] button").click()  # type: ignore[attr-defined]
    wait_for("Máy chủ tham chiếu nhúng")
    # Live progress: the page's script fills done/total per area from the event stream.
    reloads = (StaleElementReferenceException, NoSuchElementException)  # the script reloads the page
    WebDriverWait(d, 300, ignored_exceptions=reloads).until(
        lambda drv: (
            "/ 0" not in drv.find_element(By.ID, "overall").text
            or drv.find_elements(By.CSS_SELECTOR, "#verdict .v")
        )
    )
    shot("03-run-progress")
    wait_for("ĐẠT", seconds=400, where="#verdict")
    shot("04-run-finished")
    assert find("#status").text == "Đã xong"  # type: ignore[attr-defined]
    assert "VHR-SEC-001" in find("main").text  # type: ignore[attr-defined]
    assert find("a[href$='/evidence.zip']")  # the bundle is offered

    # A failure's evidence: shown as text, nothing of it runs.
    d.get(f"{served}/runs/{failed}")  # type: ignore[attr-defined]
    find("a[href='#VHR-CAP-001']").click()  # type: ignore[attr-defined]
    evidence = find("#VHR-CAP-001 pre.ev")
    assert evidence.is_displayed() and HOSTILE in evidence.text  # type: ignore[attr-defined]
    assert "curl -X GET" in find("#VHR-CAP-001 textarea").get_attribute("value")  # type: ignore[attr-defined]
    shot("05-failure-evidence")
    with pytest.raises(NoAlertPresentException):
        d.switch_to.alert.text  # type: ignore[attr-defined]  # noqa: B018
    assert d.execute_script("return document.querySelectorAll('main script, main img').length") == 0  # type: ignore[attr-defined]
    assert d.title != "owned"  # type: ignore[attr-defined]

    # Attest, in English this time: the switch keeps the page and changes every label.
    d.find_element(By.LINK_TEXT, "English").click()  # type: ignore[attr-defined]
    wait_for("Results per criterion")
    assert find("html").get_attribute("lang") == "en"  # type: ignore[attr-defined]
    find("#svi-VHR-SEC-008").send_keys("Nhật ký truy cập lưu 5 năm")  # type: ignore[attr-defined]
    find("#sen-VHR-SEC-008").send_keys("Access logs are kept for 5 years")  # type: ignore[attr-defined]
    find("#VHR-SEC-008 form button").click()  # type: ignore[attr-defined]
    wait_for("Attestation sent.")
    shot("06-attested-english")
    d.find_element(By.LINK_TEXT, "Tiếng Việt").click()  # type: ignore[attr-defined]
    wait_for("Kết quả theo tiêu chí")
    log_out()

    # Reviewer: accept the attestation.
    log_in("tham-dinh")
    d.get(served + "/reviews")  # type: ignore[attr-defined]
    wait_for("Access logs are kept for 5 years")
    find("input[value=accepted]").click()  # type: ignore[attr-defined]
    find("main input[name=reason]").send_keys("Đã xem nhật ký mẫu")  # type: ignore[attr-defined]
    find("main form button").click()  # type: ignore[attr-defined]
    wait_for("Đã ghi quyết định thẩm định")
    shot("07-reviewed")
    d.get(f"{served}/runs/{failed}")  # type: ignore[attr-defined]
    assert "Chấp nhận — tham-dinh" in find("#VHR-SEC-008").text  # type: ignore[attr-defined]
    log_out()

    # Ministry: issue a certificate.
    log_in("bo-yte")
    d.get(f"{served}/runs/{certified}")  # type: ignore[attr-defined]
    find("form[action$='/certificate'] button").click()  # type: ignore[attr-defined]
    wait_for("Đã cấp chứng nhận")
    shot("08-certificate-issued")
    with env.sessions() as s:
        cert_id = s.scalar(select(Certificate.id).where(Certificate.run_id == certified))
    assert cert_id and cert_id in find("main").text  # type: ignore[attr-defined]
    log_out()

    # Anyone: check it on the public page, without logging in.
    d.get(f"{served}/check")  # type: ignore[attr-defined]
    find("#id").send_keys(cert_id)  # type: ignore[attr-defined]
    find("main button").click()  # type: ignore[attr-defined]
    wait_for("Còn hiệu lực")
    assert find("#result").text == "Còn hiệu lực"  # type: ignore[attr-defined]
    assert "Công ty A" in find("main").text  # type: ignore[attr-defined]
    shot("09-public-check")
    d.find_element(By.LINK_TEXT, "English").click()  # type: ignore[attr-defined]
    wait_for("Valid")
    shot("10-public-check-english")
    assert sorted(p.name for p in ARTEFACTS.glob("*.png")) == [
        "01-login.png",
        "02-system-registered.png",
        "03-run-progress.png",
        "04-run-finished.png",
        "05-failure-evidence.png",
        "06-attested-english.png",
        "07-reviewed.png",
        "08-certificate-issued.png",
        "09-public-check.png",
        "10-public-check-english.png",
    ]
