#!/usr/bin/env python3
"""Drives the daemon's status pages in a real Chromium through chromium-driver.

Usage: browser_pages.py BASE_URL ADMIN_TOKEN

Logs in with a wrong token (refused) and the right one, finds the shipped schedules, pauses one
with a note, runs the slow test schedule twice from its page (the daemon has one slot, so the second
run waits) and watches the second run's page go queued -> running -> succeeded without reloading,
checks that every page fits a 390 px wide screen and a 1280 px one, follows the run's link to its
trace in the MLflow UI, logs out and is refused. Exits non-zero, saying
which step failed, when anything is not as expected. Needs selenium, /usr/bin/chromium and
/usr/bin/chromedriver; never downloads a driver.
"""
import os
import sys
import time

os.environ["SE_AVOID_STATS"] = "true"

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

BASE, TOKEN = sys.argv[1].rstrip("/"), sys.argv[2]
CHROMIUM = os.environ.get("SCHEDULERD_TEST_CHROMIUM", "/usr/bin/chromium")
DRIVER = os.environ.get("SCHEDULERD_TEST_CHROMEDRIVER", "/usr/bin/chromedriver")


def step(name):
    print(f"step: {name}", flush=True)


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1280,900", "--no-first-run", "--disable-extensions"):
        options.add_argument(argument)
    return webdriver.Chrome(service=Service(executable_path=DRIVER), options=options)


def text(driver):
    return driver.find_element(By.TAG_NAME, "body").text


def wait_for(driver, what, predicate, timeout=30):
    """Waits until `predicate` holds; a part of the page replaced by its live update meanwhile (a
    stale element) is looked up again on the next poll."""
    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.1,
                             ignored_exceptions=[StaleElementReferenceException]).until(lambda d: predicate(d))
    except TimeoutException:
        raise AssertionError(f"timed out after {timeout}s waiting for {what}; the page says:\n{text(driver)[:3000]}")


def log_in(driver, token):
    driver.find_element(By.ID, "token").send_keys(token)
    driver.find_element(By.ID, "login").click()


def run_now(driver, schedule):
    driver.get(f"{BASE}/schedules/{schedule}")
    driver.find_element(By.CSS_SELECTOR, "details.run-now summary").click()
    driver.find_element(By.CSS_SELECTOR, f'button.run[data-schedule="{schedule}"]').click()
    wait_for(driver, "the run page", lambda d: "/runs/" in d.current_url)
    return driver.current_url.split("/runs/")[1].split("?")[0]


def main():
    driver = browser()
    try:
        step("a page without a session leads to the login form")
        driver.get(f"{BASE}/schedules")
        wait_for(driver, "the login form", lambda d: d.find_elements(By.ID, "token"))

        step("a wrong token is refused")
        log_in(driver, "not-the-token")
        wait_for(driver, "the refusal", lambda d: "That is not the admin token." in text(d))
        assert "/login" in driver.current_url, driver.current_url

        step("the right token opens the schedules page it was asked for")
        log_in(driver, TOKEN)
        wait_for(driver, "the schedules page", lambda d: d.current_url.rstrip("/").endswith("/schedules"))
        page = text(driver)
        for name in ("nightly_energy", "energy_every_minute", "review_on_push", "browser_slow"):
            assert name in page, f"{name} is not listed:\n{page[:3000]}"
        assert "at 02:00 every day" in page, page[:3000]

        step("pause nightly_energy with a note and see it paused")
        row = driver.find_element(By.ID, "schedule-nightly_energy")
        row.find_element(By.NAME, "note").send_keys("paused from the browser test")
        row.find_element(By.CSS_SELECTOR, "button.pause").click()
        wait_for(driver, "the notice", lambda d: "The schedule is paused." in text(d))
        row = driver.find_element(By.ID, "schedule-nightly_energy")
        assert "paused" in row.text and "paused from the browser test" in row.text, row.text

        step("run browser_slow twice; the second waits for the only slot")
        first = run_now(driver, "browser_slow")
        second = run_now(driver, "browser_slow")
        assert first != second
        driver.execute_script("window.notReloaded = true;")
        seen = []

        going = []

        def state(d):
            value = d.find_element(By.ID, "run-state").text
            if not seen or seen[-1] != value:
                seen.append(value)
            if value == "running" and d.find_elements(By.CSS_SELECTOR, "tr.node-running"):
                going.append(True)
            return value

        state(driver)
        step("the second run's page goes queued -> running -> succeeded by itself")
        wait_for(driver, "the run to succeed", lambda d: state(d) == "succeeded", timeout=60)
        assert driver.execute_script("return window.notReloaded === true;"), "the page was reloaded"
        assert seen[0] == "queued" and "running" in seen and seen[-1] == "succeeded", f"states seen: {seen}"
        assert going, "while the run was running, its page never showed the node going on"

        step("every page fits a 390 px wide phone screen, and a 1280 px one")
        for width, mobile in ((390, True), (1280, False)):
            driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                   {"width": width, "height": 844, "deviceScaleFactor": 1, "mobile": mobile})
            for path in ("/", "/schedules", "/schedules/browser_slow", f"/runs/{second}"):
                driver.get(BASE + path)
                wait_for(driver, f"{path} at {width} px", lambda d: d.find_elements(By.TAG_NAME, "h1"))
                overflow = driver.execute_script(
                    "return document.documentElement.scrollWidth - document.documentElement.clientWidth;")
                assert overflow <= 1, f"{path} is {overflow} px wider than a {width} px screen"
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        driver.get(f"{BASE}/runs/{second}")
        # The link appears once the daemon's exporter has resolved its experiment in MLflow, which the
        # shared test server may answer late while every suite writes to it.
        wait_for(driver, "the run page again, with its trace link", lambda d: d.find_elements(By.ID, "trace-link"),
                 timeout=120)

        step("follow the link to the trace in the MLflow UI")
        link = driver.find_element(By.ID, "trace-link")
        href = link.get_attribute("href")
        trace_id = href.split("selectedEvaluationId=")[1]
        assert trace_id.startswith("tr-"), href
        link.click()
        wait_for(driver, "a second window", lambda d: len(d.window_handles) == 2)
        driver.switch_to.window(driver.window_handles[1])
        deadline = time.monotonic() + 90
        while True:
            try:
                wait_for(driver, "the trace in the MLflow UI",
                         lambda d: "browser_slow" in text(d) and "wait" in text(d), timeout=15)
                break
            except AssertionError:
                if time.monotonic() > deadline:
                    raise
                driver.refresh()  # the trace may still be on its way from the spool
        assert driver.current_url.startswith(href.split("#")[0]), driver.current_url
        driver.close()
        driver.switch_to.window(driver.window_handles[0])

        step("log out, and be refused")
        driver.find_element(By.ID, "logout").click()
        wait_for(driver, "the logged-out form", lambda d: "You are logged out." in text(d))
        driver.get(f"{BASE}/runs/{second}")
        wait_for(driver, "the login form again", lambda d: d.find_elements(By.ID, "token"))
        assert "/login" in driver.current_url, driver.current_url
        print(f"ok: states {seen}", flush=True)
    finally:
        driver.quit()


if __name__ == "__main__":
    try:
        main()
    except AssertionError as error:
        print(f"FAILED: {error}", file=sys.stderr, flush=True)
        sys.exit(1)
