"""Plays an MCP Apps host for the plan view in headless Chromium and reports what happened.

Usage: plan_view_check.py VIEW_HTML_FILE TOOL_RESULT_JSON_FILE

The view is loaded from the HTML the server served, in a sandboxed iframe (scripts only, no
same origin), the way hosts render views. This page answers ui/initialize (with openLinks),
then sends ui/notifications/tool-input and ui/notifications/tool-result with the given
CallToolResult, clicks the view's button, answers ui/open-link, and prints one JSON object:
every message the view sent, the view's visible text, its element counts, whether any planted
script ran, and the buttons it shows.

Exit status 3: playwright or Chromium is missing (the caller skips or fails as it sees fit).
"""

import json
import os
import sys

try:
    from playwright.sync_api import sync_playwright
except ImportError:
    print("playwright is not installed (pip install playwright)", file=sys.stderr)
    sys.exit(3)

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")

HOST_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>host</title></head>
<body>
<iframe id="view" sandbox="allow-scripts" style="width:800px;height:900px;border:0"></iframe>
<script>
window.sent = [];
window.opened = [];
window.handshake = "none";
function start(html, result) {
  var frame = document.getElementById("view");
  window.addEventListener("message", function (event) {
    if (event.source !== frame.contentWindow) { return; }
    var m = event.data;
    window.sent.push(m);
    var reply = function (body) {
      frame.contentWindow.postMessage(Object.assign({ jsonrpc: "2.0", id: m.id }, body), "*");
    };
    if (!m || typeof m !== "object") { return; }
    if (m.method === "ui/initialize") {
      reply({ result: {
        protocolVersion: "2026-01-26",
        hostInfo: { name: "test-host", version: "1" },
        hostCapabilities: { openLinks: {}, serverTools: {}, serverResources: {} },
        hostContext: { theme: "dark", displayMode: "inline" }
      } });
    } else if (m.method === "ui/notifications/initialized") {
      window.handshake = "done";
      frame.contentWindow.postMessage({ jsonrpc: "2.0", method: "ui/notifications/tool-input",
        params: { arguments: { plan_id: result.structuredContent && result.structuredContent.plan_id } } }, "*");
      frame.contentWindow.postMessage({ jsonrpc: "2.0", method: "ui/notifications/tool-result",
        params: result }, "*");
    } else if (m.method === "ui/open-link") {
      window.opened.push(m.params && m.params.url);
      reply({ result: {} });
    } else if (m.id !== undefined) {
      reply({ error: { code: -32601, message: "not offered by this host" } });
    }
  });
  frame.srcdoc = html;
}
</script>
</body></html>"""


def main():
    html_path, result_path = sys.argv[1], sys.argv[2]
    with open(html_path, encoding="utf-8") as f:
        html = f.read()
    with open(result_path, encoding="utf-8") as f:
        result = json.load(f)
    if not os.path.exists(CHROMIUM):
        print(f"no Chromium at {CHROMIUM}", file=sys.stderr)
        sys.exit(3)
    report = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=["--no-sandbox"])
        try:
            page = browser.new_page()
            dialogs = []
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            requests = []
            page.on("request", lambda r: requests.append(r.url))
            console = []
            page.on("console", lambda m: console.append(m.text))
            page.set_content(HOST_PAGE)
            page.evaluate("([html, result]) => start(html, result)", [html, result])
            page.wait_for_function("window.handshake === 'done'", timeout=10_000)
            frame = page.frame_locator("#view")
            frame.locator("h1").wait_for(timeout=10_000)
            buttons = frame.locator("button")
            report["buttons"] = buttons.all_inner_texts()
            if buttons.count() == 1:
                buttons.first.click()
                page.wait_for_function("window.opened.length > 0", timeout=10_000)
            view = next(f for f in page.frames if f != page.main_frame)
            report["text"] = view.evaluate("document.body.innerText")
            report["images"] = view.evaluate("document.images.length")
            report["scripts"] = view.evaluate("document.scripts.length")
            report["pwned"] = view.evaluate("window.__pwned === undefined ? null : String(window.__pwned)")
            report["sent"] = page.evaluate("window.sent")
            report["opened"] = page.evaluate("window.opened")
            report["dialogs"] = dialogs
            report["network"] = [u for u in requests if not u.startswith(("about:", "data:"))]
            report["console"] = console
        finally:
            browser.close()
    print(json.dumps(report))


if __name__ == "__main__":
    main()
