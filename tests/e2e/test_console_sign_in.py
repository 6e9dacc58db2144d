"""A person signs in to the console in a real browser (Debian's chromium, driven by Playwright)."""

import pyotp
import pytest

from browser_support import chromium, seeded_city, serving, wait_until, watch_for_problems
from support import create_person

pytestmark = pytest.mark.browser


@pytest.fixture
def server(tmp_path):
    """`rtcc serve` on a seeded data dir, as an operator would run it."""
    with seeded_city(tmp_path) as (settings, runtime, _):
        person = create_person(runtime, "casey", "analyst")
    with serving(settings.data_dir, tmp_path / "server.log") as base:
        yield base, person


@pytest.fixture
def page():
    with chromium() as browser:  # under the console's real CSP: waits poll through page.evaluate, never eval
        yield browser.new_page()


def test_first_sign_in_through_the_console(server, page, tmp_path):
    base, person = server
    problems = watch_for_problems(page)
    page.goto(f"{base}/console")
    assert page.url.endswith("/sign-in")  # not signed in: sent to sign in
    assert "monitored" in page.locator("#banner").inner_text()

    page.fill("input[name=username]", person.username)
    page.fill("input[name=password]", person.password)
    page.click("button[type=submit]")
    assert "/sign-in" in page.url and "/mfa" not in page.url  # the banner box was not ticked: the browser holds the form

    page.check("input[name=banner_acknowledged]")
    page.click("button[type=submit]")
    page.wait_for_url("**/sign-in/mfa")
    shown_secret = page.get_by_test_id("totp-secret").inner_text()
    assert shown_secret == person.totp_secret
    assert page.locator(".qr svg").count() == 1

    page.fill("input[name=code]", "000000")
    page.click("button[type=submit]")
    assert "not valid" in page.locator(".error").inner_text()
    page.fill("input[name=code]", pyotp.TOTP(shown_secret).now())
    page.click("button[type=submit]")
    page.wait_for_url("**/sign-in/password")

    page.fill("input[name=current_password]", person.password)
    page.fill("input[name=new_password]", "Quiet-Harbor-92")
    page.fill("input[name=confirm_password]", "Quiet-Harbor-92")
    page.click("button[type=submit]")
    page.wait_for_url("**/console**")
    assert "casey" in page.get_by_test_id("who").inner_text()
    wait_until(page, "document.querySelectorAll('[data-list-camera-id]').length === 36")
    wait_until(page, "document.getElementById('feed-state').textContent.includes('connected')")
    page.screenshot(path=str(tmp_path / "console.png"), full_page=True)

    page.click("text=Sign out")
    page.wait_for_url("**/sign-in**")
    page.goto(f"{base}/console")
    assert page.url.endswith("/sign-in")
    assert not problems, problems  # the sign-in pages and the console ran without a CSP violation or a script error
