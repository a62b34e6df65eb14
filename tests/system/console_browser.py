"""A headless Chromium for the console's system tests, driven over stdin/stdout.

One browser (the system's /usr/bin/chromium, or CHROMIUM) for the whole run, launched by Python
Playwright with a fresh temporary profile; browser contexts (one per person signed in) are
named by the test. Each line on stdin is one JSON command, answered by one JSON line on stdout:
{"ok": true, "value": ...} or {"ok": false, "error": "..."}. Every wait is bounded (20 s).
The process exits when stdin closes.
"""

import json
import os
import sys

from playwright.sync_api import sync_playwright

TIMEOUT_MS = 20_000
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def main():
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"),
            headless=True,
            args=FLAGS,
        )
        contexts = {}
        pages = {}

        def page(cmd):
            return pages[cmd["ctx"]]

        def settle(pg):
            pg.wait_for_load_state("load", timeout=TIMEOUT_MS)

        for line in sys.stdin:
            if not line.strip():
                continue
            cmd = json.loads(line)
            op = cmd["op"]
            try:
                value = None
                if op == "context":
                    options = {}
                    if "viewport" in cmd:
                        options["viewport"] = cmd["viewport"]
                    ctx = browser.new_context(**options)
                    ctx.set_default_timeout(TIMEOUT_MS)
                    contexts[cmd["ctx"]] = ctx
                    pages[cmd["ctx"]] = ctx.new_page()
                elif op == "goto":
                    response = page(cmd).goto(cmd["url"], timeout=TIMEOUT_MS)
                    value = response.status if response else None
                elif op == "click":
                    pg = page(cmd)
                    pg.click(cmd["selector"])
                    settle(pg)
                elif op == "fill":
                    page(cmd).fill(cmd["selector"], cmd["value"])
                elif op == "check":
                    page(cmd).check(cmd["selector"])
                elif op == "select":
                    page(cmd).select_option(cmd["selector"], cmd["value"])
                elif op == "text":
                    value = page(cmd).inner_text(cmd.get("selector", "body"))
                elif op == "html":
                    value = page(cmd).content()
                elif op == "url":
                    value = page(cmd).url
                elif op == "count":
                    value = page(cmd).locator(cmd["selector"]).count()
                elif op == "value":
                    value = page(cmd).locator(cmd["selector"]).first.input_value()
                elif op == "attr":
                    value = page(cmd).locator(cmd["selector"]).first.get_attribute(cmd["name"])
                elif op == "screenshot":
                    os.makedirs(os.path.dirname(cmd["path"]), exist_ok=True)
                    page(cmd).screenshot(path=cmd["path"], full_page=True)
                elif op == "post":
                    # A request from the context (its cookies), not from a page: a forged form.
                    r = contexts[cmd["ctx"]].request.post(
                        cmd["url"],
                        form=cmd.get("form", {}),
                        headers=cmd.get("headers", {}),
                        max_redirects=0,
                        timeout=TIMEOUT_MS,
                    )
                    value = {"status": r.status, "body": r.text()}
                elif op == "close":
                    sys.stdout.write(json.dumps({"ok": True, "value": None}) + "\n")
                    sys.stdout.flush()
                    break
                else:
                    raise ValueError(f"unknown op {op}")
                out = {"ok": True, "value": value}
            except Exception as e:  # reported to the test, which fails with it
                out = {"ok": False, "error": f"{op}: {e}"}
            sys.stdout.write(json.dumps(out) + "\n")
            sys.stdout.flush()
        browser.close()


if __name__ == "__main__":
    main()
