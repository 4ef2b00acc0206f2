"""`supportbot demo` in a real browser: Debian's Chromium, headless, driven by Playwright
(https://playwright.dev/python/docs/api/class-browsertype#browser-type-launch, pointed at
the system browser with `executable_path`). Raise an escalation from the composer,
acknowledge it from the channel, resolve it through the modal after seeing a modal error,
read /kpis, fire the digest and see its chart.

In CI (CI=true) a missing browser or Playwright fails the test; elsewhere it is skipped."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from supportbot.bot.demo.server import Demo

CHROMIUM = os.environ.get("SUPPORTBOT_CHROMIUM", "/usr/bin/chromium")


def _browser_or_reason() -> str | None:
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        return f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install -e '.[dev]')"
    return None


@pytest.fixture
def page(database_url: str) -> Iterator[tuple[Any, Demo]]:
    missing = _browser_or_reason()
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(missing)
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    demo = Demo(port=0, database_url=database_url, pace_seconds=0).start()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM)
            tab = browser.new_page(viewport={"width": 1400, "height": 900})
            errors: list[str] = []
            tab.on("pageerror", lambda exc: errors.append(str(exc)))
            tab.set_default_timeout(30_000)
            yield tab, demo
            browser.close()
            assert errors == [], errors
    finally:
        demo.stop()


def test_escalation_kpis_and_digest_in_the_browser(page: tuple[Any, Demo]) -> None:
    from playwright.sync_api import expect

    tab, demo = page
    tab.goto(demo.url + "?as=U0CARLA01&channel=C0T1TEAM01")
    expect(tab.locator("#conv-title")).to_have_text("#tier1")

    # mrkdwn as Slack draws it; text that looks like HTML stays text
    html = tab.evaluate("""() => mrkdwn(
        "*bold* _it_ ~gone~ `x<y` <@U0ALICE01> <#C0T1TEAM01> <https://example.com|site>\\n"
        + "> quoted\\n• one\\n• two\\n<!date^172800^{date_num}|then> &lt;img src=x&gt; :tada:")""")
    for part in ("<b>bold</b>", "<i>it</i>", "<s>gone</s>", "<code>x&lt;y</code>", "@Alice Moreau", "#tier1</a>",
                 'href="https://example.com"', ">site</a>", "<blockquote>quoted</blockquote>",
                 "<ul><li>one</li><li>two</li></ul>", "1970-01-0", "&lt;img src=x&gt;", "🎉"):
        assert part in html, (part, html)

    # Carla (an agent) raises an escalation from the composer: a private answer for her
    tab.fill("#compose", "/escalate high Checkout fails for order #7788")
    tab.press("#compose", "Enter")
    expect(tab.locator(".msg.ephemeral", has_text="Only visible to you").first).to_be_visible()

    # Alice (a leader) acknowledges it from the escalation channel's message
    tab.select_option("#who", "U0ALICE01")
    tab.click("#channels a:has-text('tier1-escalations')")
    post = tab.locator(".msg", has_text="Checkout fails for order")
    expect(post).to_be_visible()
    post.get_by_role("button", name="Acknowledge").click()
    expect(post).to_contain_text("Acknowledged")  # updated in place (chat.update)
    expect(post.get_by_role("button", name="Acknowledge")).to_have_count(0)

    # ... and resolves it through the modal: an empty-looking note is refused by the bot,
    # shown under the field as Slack shows `response_action: errors`
    post.get_by_role("button", name="Resolve").click()
    modal = tab.locator(".modal")
    expect(modal).to_be_visible()
    modal.locator("[data-submit]").click()  # empty required fields: refused before sending, as Slack's client does
    expect(modal.locator(".error").first).to_contain_text("Please complete this required field.")
    modal.locator("select").select_option("fixed")
    modal.locator("textarea").fill("   ")
    modal.locator("[data-submit]").click()
    error = modal.locator(".blk-input.has-error .error")
    expect(error).to_have_count(1)  # only the note: the outcome is chosen now
    expect(error).not_to_contain_text("Please complete")  # the bot's own words, not the page's check
    assert error.inner_text().strip()
    modal.locator("textarea").fill("Reset the customer's SSO link")
    modal.locator("[data-submit]").click()
    expect(tab.locator(".modal")).to_have_count(0)
    expect(post).to_contain_text("Resolved")

    # /kpis: a private answer with the team's figures
    tab.fill("#compose", "/kpis week")
    tab.press("#compose", "Enter")
    kpis = tab.locator(".msg.ephemeral", has_text="KPIs · Tier 1")
    expect(kpis).to_be_visible()
    expect(kpis).to_contain_text("CSAT")

    # make time pass: the next digest, its chart uploaded in the thread
    tab.click("#time button[data-what=digest]")
    expect(tab.locator("#time-note")).to_contain_text("digest")
    # whichever team's digest comes first from now: the page opens its channel
    expect(tab.locator("#conv-title")).to_have_text(re.compile("#(tier1-digest|soporte-resumen)"))
    replies = tab.locator("#messages .msg .replies").last
    expect(replies).to_be_visible(timeout=60_000)
    replies.click()
    expect(tab.locator("#thread .msg").first).to_contain_text(re.compile("KPIs|KPI"))
    chart = tab.locator("#thread .file img")
    expect(chart).to_be_visible()
    assert chart.evaluate("img => img.complete && img.naturalWidth > 100")
    assert demo.standin is not None and demo.standin.rejected() == []
