"""Driving the Studio in a real headless Chromium: find controls the way a person does (by
their label or their words), wait for what the page shows, read the browser's console."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
PASSWORD = "correct horse battery"


def start_browser(width: int = 1280, height: int = 900) -> webdriver.Chrome:
    """Debian's Chromium and its driver, by path: Selenium Manager never downloads anything."""
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        raise RuntimeError("Chromium is not installed: run `make browser` (apt-get install chromium chromium-driver)")
    os.environ["SE_OFFLINE"] = "true"
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                f"--window-size={width},{height}", "--autoplay-policy=no-user-gesture-required",
                "--mute-audio", "--disable-features=Translate,MediaRouter"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_script_timeout(30)
    return driver


def xpath_literal(text: str) -> str:
    if "'" not in text:
        return f"'{text}'"
    return "concat('" + "', \"'\", '".join(text.split("'")) + "')"


class Studio:
    """One browser on one Studio; tests call what a person would do."""

    def __init__(self, driver: webdriver.Chrome, base_url: str) -> None:
        self.driver = driver
        self.base_url = base_url

    def open(self, route: str = "") -> None:
        self.driver.get(f"{self.base_url}/studio#/{route}")

    def go(self, route: str) -> None:
        """Follow a route inside the page (no reload), as a nav link does, and wait until the
        page has rendered it (the same route again renders afresh)."""
        before = self.driver.execute_script("""
            const before = Number(document.getElementById('main').dataset.rendered || 0);
            if (location.hash === arguments[0]) window.dispatchEvent(new HashChangeEvent('hashchange'));
            else location.hash = arguments[0];
            return before;""", f"#/{route}")
        self.wait(lambda: self.driver.execute_script(
            "const m = document.getElementById('main');"
            "return !m.hasAttribute('aria-busy') && Number(m.dataset.rendered || 0) > arguments[0]"
            " && m.dataset.route === arguments[1]", before, f"#/{route}"),
            message=f"route {route}")

    def wait(self, condition: Any, timeout: float = 30.0, message: str = "") -> Any:
        try:
            # A page re-rendering under the test replaces elements: look again.
            return WebDriverWait(self.driver, timeout, poll_frequency=0.1,
                                 ignored_exceptions=(StaleElementReferenceException,)).until(lambda d: condition())
        except TimeoutException:
            raise AssertionError(f"timed out: {message}\n{self.describe()}") from None

    def describe(self) -> str:
        main = self.driver.find_elements(By.ID, "main")
        return f"url={self.driver.current_url}\nmain={main[0].text if main else ''!r}\nlog={self.logs}"

    def heading(self, text: str, timeout: float = 30.0) -> WebElement:
        path = f"//main//h1[normalize-space()={xpath_literal(text)}]"
        return self.wait(lambda: self._visible(By.XPATH, path), timeout, f"heading {text!r}")

    def css(self, selector: str, timeout: float = 30.0) -> WebElement:
        return self.wait(lambda: self._visible(By.CSS_SELECTOR, selector), timeout, f"element {selector!r}")

    def _visible(self, by: str, value: str) -> WebElement | None:
        for element in self.driver.find_elements(by, value):
            if element.is_displayed():
                return element
        return None

    def field(self, label: str, within: WebElement | None = None) -> WebElement:
        """The control a visible <label> names (its `for`), as assistive technology finds it."""
        root: Any = within or self.driver
        path = f".//label[normalize-space()={xpath_literal(label)}]"
        found = self.wait(lambda: next((el for el in root.find_elements(By.XPATH, path) if el.is_displayed()), None),
                          message=f"label {label!r}")
        control_id = found.get_attribute("for")
        assert control_id, f"label {label!r} names no control"
        return self.driver.find_element(By.ID, control_id)

    def fill(self, label: str, value: str, within: WebElement | None = None) -> None:
        control = self.field(label, within)
        control.clear()
        control.send_keys(value)

    def button(self, text: str, within: WebElement | None = None) -> WebElement:
        root: Any = within or self.driver
        path = f".//button[normalize-space()={xpath_literal(text)}] | .//a[normalize-space()={xpath_literal(text)}]"
        return self.wait(lambda: next((el for el in root.find_elements(By.XPATH, path)
                                       if el.is_displayed() and el.is_enabled()), None), message=f"button {text!r}")

    def click(self, text: str, within: WebElement | None = None) -> None:
        element = self.button(text, within)
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
        element.click()

    def accept_confirm(self) -> None:
        alert = WebDriverWait(self.driver, 10).until(lambda d: d.switch_to.alert)
        alert.accept()

    def sign_up(self) -> str:
        email = f"studio-{uuid.uuid4().hex[:10]}@example.com"
        self.open("signup")
        self.heading("Create your Atelier account")
        self.fill("Email", email)
        self.fill("Password", PASSWORD)
        self.click("Sign up")
        self.heading("Home")
        return email

    def cookie(self, name: str) -> str | None:
        found = self.driver.get_cookie(name)
        return found["value"] if found else None

    @property
    def logs(self) -> list[dict[str, Any]]:
        return self.driver.get_log("browser")

    def console_errors(self, allow: tuple[str, ...] = ()) -> list[str]:
        """SEVERE console entries since the last call, but for the expected ones in ``allow``."""
        return [entry["message"] for entry in self.logs
                if entry["level"] == "SEVERE" and not any(text in entry["message"] for text in allow)]

    def js(self, script: str, *args: Any) -> Any:
        return self.driver.execute_script(script, *args)

    def js_async(self, script: str, *args: Any) -> Any:
        return self.driver.execute_async_script(script, *args)


#: Checks run in the page (tests/studio/audit.js): labels, names, contrast, fit.
AUDIT_JS = (Path(__file__).parent / "audit.js").read_text()


def set_viewport(driver: webdriver.Chrome, width: int, height: int, mobile: bool = False) -> None:
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile})
