"""The issue's "done": with only a browser, a person goes from nothing to a generated image, a
key and a curl command that works; then rotates and revokes the key, which stops working."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
from selenium.webdriver.common.by import By

from tests.studio.support import Studio


def run_curl(command: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-euo", "pipefail", "-c", command], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def key_works(base_url: str, key: str) -> int:
    return httpx.get(f"{base_url}/v1/account", headers={"Authorization": f"Bearer {key}"}).status_code


def test_from_nothing_to_an_image_a_key_and_a_working_curl_command(studio: Studio, tmp_path: Path,
                                                                   no_console_errors):
    studio.driver.delete_all_cookies()
    studio.sign_up()
    studio.go("plan")
    studio.click("Switch to starter")
    studio.wait(lambda: "now on starter" in studio.css("#notice").text, message="plan changed")

    studio.go("create/text_to_image")
    studio.fill("Prompt (required)", "a red kite over green hills")
    studio.click("Generate")
    image = studio.css("section.output img.result-image", timeout=120)
    studio.wait(lambda: studio.js("return arguments[0].complete && arguments[0].naturalWidth > 0", image),
                message="image decoded")

    studio.go("keys")
    studio.fill("Name", "laptop")
    studio.click("Create key")
    secret = studio.css("section.secret")
    key = secret.find_element(By.CSS_SELECTOR, "input.new-key").get_attribute("value")
    assert key.startswith("at_live_")
    studio.click("Copy API key", within=secret)
    studio.wait(lambda: studio.button("Copied", within=secret), message="copy confirmed")
    command = secret.find_element(By.CSS_SELECTOR, "textarea.curl").get_attribute("value")
    assert key in command and studio.base_url in command

    done = run_curl(command, tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "lighthouse.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    studio.go("keys")  # the listing shows when the key was last used
    row = studio.css("tr[data-key-id]")
    assert "laptop" in row.text and "Never" not in row.text and "Active" in row.text


def test_rotate_then_revoke(studio: Studio, no_console_errors):
    studio.driver.delete_all_cookies()
    studio.sign_up()
    studio.go("keys")
    studio.fill("Name", "ci")
    studio.click("Create key")
    first = studio.css("section.secret input.new-key").get_attribute("value")
    assert key_works(studio.base_url, first) == 200

    studio.click("Rotate ci")
    studio.accept_confirm()
    studio.wait(lambda: "New secret for ci" in studio.css("section.secret h2").text, message="rotated")
    second = studio.css("section.secret input.new-key").get_attribute("value")
    assert second != first and second.split(".")[0] == first.split(".")[0]  # same key id, new secret
    assert key_works(studio.base_url, first) == 401 and key_works(studio.base_url, second) == 200

    studio.click("Revoke ci")
    studio.accept_confirm()
    studio.wait(lambda: "Revoked" in studio.css("tr[data-key-id]").text, message="revoked in the list")
    assert "revoked" in studio.css("#notice").text
    assert key_works(studio.base_url, second) == 401
    row = studio.css("tr[data-key-id]")
    assert not row.find_elements(By.TAG_NAME, "button")  # a revoked key has no actions left
