"""Drive Debian's headless chromium through the DevTools protocol, with the standard library only.

    with Browser() as browser:
        browser.goto("http://127.0.0.1:8080/#/login")
        browser.fill("#login-email", "ann@example.org")
        browser.click_text("Log in")
        browser.wait_for("document.querySelector('h1')?.textContent === 'Plans'")
        browser.screenshot("/tmp/shots/plans.png")

A minimal WebSocket client (RFC 6455: masked client frames, fragmentation, ping/pong, close),
a CDP session on one page target, and the helpers a UI test needs: navigate, evaluate, wait,
click (real mouse events at the element's centre), type (real key events / insertText), press
keys, read text, take screenshots at a given viewport. JavaScript errors on the page are
collected in `browser.errors` so a test can fail on them.
"""

from __future__ import annotations

import base64
import collections
import json
import os
import shutil
import socket
import struct
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request


class CDPError(RuntimeError):
    """A DevTools call answered with an error, or the browser went away."""


class WaitTimeout(AssertionError):
    """A condition did not become true in time (an AssertionError, so test runners report it as a failure)."""


# WebSocket ----------------------------------------------------------------------------------------


class WebSocket:
    """A blocking WebSocket client for ws:// URLs (enough for the DevTools endpoint on loopback)."""

    def __init__(self, url: str, timeout: float = 30.0):
        parts = urllib.parse.urlsplit(url)
        if parts.scheme != "ws":
            raise ValueError(f"only ws:// URLs are supported, not {url}")
        host, port = parts.hostname, parts.port or 80
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        self.sock = socket.create_connection((host, port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        self.sock.sendall(request.encode())
        response = b""
        while b"\r\n\r\n" not in response:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise CDPError("the DevTools endpoint closed the connection during the handshake")
            response += chunk
        head, _, self.buffer = response.partition(b"\r\n\r\n")
        status = head.split(b"\r\n", 1)[0]
        if b" 101 " not in status + b" ":
            raise CDPError(f"WebSocket handshake refused: {status.decode(errors='replace')}")

    def settimeout(self, seconds: float | None) -> None:
        self.sock.settimeout(seconds)

    def send_text(self, text: str) -> None:
        self._send_frame(0x1, text.encode())

    def _send_frame(self, opcode: int, payload: bytes) -> None:
        header = bytearray([0x80 | opcode])
        length = len(payload)
        if length < 126:
            header.append(0x80 | length)
        elif length < 1 << 16:
            header.append(0x80 | 126)
            header += struct.pack("!H", length)
        else:
            header.append(0x80 | 127)
            header += struct.pack("!Q", length)
        mask = os.urandom(4)
        header += mask
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload)) if length < 4096 else _mask_fast(payload, mask)
        self.sock.sendall(bytes(header) + masked)

    def _read_exact(self, n: int) -> bytes:
        while len(self.buffer) < n:
            chunk = self.sock.recv(max(65536, n - len(self.buffer)))
            if not chunk:
                raise CDPError("the browser closed the DevTools connection")
            self.buffer += chunk
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def recv_text(self) -> str:
        """The next text message (control frames are handled on the way)."""
        parts: list[bytes] = []
        while True:
            b1, b2 = self._read_exact(2)
            fin, opcode = b1 & 0x80, b1 & 0x0F
            length = b2 & 0x7F
            if length == 126:
                (length,) = struct.unpack("!H", self._read_exact(2))
            elif length == 127:
                (length,) = struct.unpack("!Q", self._read_exact(8))
            mask = self._read_exact(4) if b2 & 0x80 else None
            payload = self._read_exact(length)
            if mask:
                payload = _mask_fast(payload, mask)
            if opcode == 0x8:
                raise CDPError("the browser closed the DevTools connection")
            if opcode == 0x9:
                self._send_frame(0xA, payload)
                continue
            if opcode == 0xA:
                continue
            parts.append(payload)
            if fin:
                return b"".join(parts).decode()

    def close(self) -> None:
        try:
            self._send_frame(0x8, b"")
        except OSError:
            pass
        self.sock.close()


def _mask_fast(payload: bytes, mask: bytes) -> bytes:
    """XOR with the 4-byte mask, using big integers (fast for large frames)."""
    n = len(payload)
    if n == 0:
        return b""
    repeated = (mask * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")).to_bytes(n, "big")


# CDP session --------------------------------------------------------------------------------------


class Session:
    """One DevTools connection: numbered calls, and the events that arrive in between."""

    def __init__(self, ws_url: str):
        self.ws = WebSocket(ws_url)
        self.next_id = 0
        self.events: collections.deque = collections.deque(maxlen=5000)
        self.listeners: list = []

    def _dispatch(self, message: dict) -> None:
        self.events.append(message)
        for listener in self.listeners:
            listener(message)

    def call(self, method: str, params: dict | None = None, timeout: float = 30.0) -> dict:
        self.next_id += 1
        call_id = self.next_id
        self.ws.send_text(json.dumps({"id": call_id, "method": method, "params": params or {}}))
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise CDPError(f"{method} did not answer within {timeout} s")
            self.ws.settimeout(left)
            try:
                message = json.loads(self.ws.recv_text())
            except socket.timeout as error:
                raise CDPError(f"{method} did not answer within {timeout} s") from error
            if message.get("id") == call_id:
                if "error" in message:
                    raise CDPError(f"{method}: {message['error'].get('message')} {message['error'].get('data', '')}".strip())
                return message.get("result", {})
            if "method" in message:
                self._dispatch(message)

    def pump(self, seconds: float) -> None:
        """Reads events for `seconds` (so listeners see them while nothing is being called)."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            self.ws.settimeout(left)
            try:
                message = json.loads(self.ws.recv_text())
            except socket.timeout:
                return
            if "method" in message:
                self._dispatch(message)

    def close(self) -> None:
        self.ws.close()


# Browser ------------------------------------------------------------------------------------------

KEYS = {
    "Enter": ("Enter", "Enter", 13, "\r"),
    "Tab": ("Tab", "Tab", 9, None),
    "Escape": ("Escape", "Escape", 27, None),
    "Space": (" ", "Space", 32, " "),
    "ArrowDown": ("ArrowDown", "ArrowDown", 40, None),
    "ArrowUp": ("ArrowUp", "ArrowUp", 38, None),
    "Backspace": ("Backspace", "Backspace", 8, None),
}
MODIFIERS = {"Alt": 1, "Control": 2, "Meta": 4, "Shift": 8}


def find_chromium() -> str:
    for name in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        if name and (path := shutil.which(name)):
            return path
    raise FileNotFoundError("chromium is not installed (apt-get install chromium); set CHROMIUM=/path/to/it")


class Browser:
    """A headless chromium with one page, started by PID and stopped by PID."""

    def __init__(self, chromium: str | None = None, width: int = 1280, height: int = 900,
                 headless: bool = True, download_dir: str | None = None, verbose: bool = False):
        self.profile = tempfile.mkdtemp(prefix="masterplan-chromium-")
        self.verbose = verbose
        args = [
            chromium or find_chromium(),
            "--remote-debugging-port=0", f"--user-data-dir={self.profile}",
            "--no-first-run", "--no-default-browser-check", "--disable-gpu", "--disable-extensions",
            "--disable-background-networking", "--disable-sync", "--metrics-recording-only", "--mute-audio",
            "--hide-scrollbars", f"--window-size={width},{height}", "--lang=en-US",
        ]
        if headless:
            args.append("--headless=new")
        if os.geteuid() == 0:
            args.append("--no-sandbox")  # chromium refuses to run as root with its sandbox
        args.append("about:blank")
        self.log_path = os.path.join(self.profile, "chromium.log")
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=open(self.log_path, "wb"))
        try:
            port = self.port = self._wait_for_port()
            targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10))
            page = next(t for t in targets if t.get("type") == "page")
            self.session = Session(page["webSocketDebuggerUrl"])
        except Exception:
            self.close()
            raise
        self.errors: list[str] = []
        self.console: list[str] = []
        self.session.listeners.append(self._on_event)
        for domain in ("Page", "Runtime", "Log"):
            self.session.call(f"{domain}.enable")
        self.set_viewport(width, height)
        if download_dir:
            os.makedirs(download_dir, exist_ok=True)
            self.session.call("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": download_dir, "eventsEnabled": True})

    def _wait_for_port(self) -> int:
        path = os.path.join(self.profile, "DevToolsActivePort")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise CDPError(f"chromium exited at start (status {self.process.returncode}): {self._log_tail()}")
            if os.path.exists(path):
                text = open(path).read().split("\n")
                if text and text[0].strip().isdigit():
                    return int(text[0])
            time.sleep(0.05)
        raise CDPError(f"chromium did not open its DevTools port within 30 s: {self._log_tail()}")

    def _log_tail(self) -> str:
        try:
            return open(self.log_path, errors="replace").read()[-2000:]
        except OSError:
            return ""

    def _on_event(self, message: dict) -> None:
        method, params = message.get("method"), message.get("params", {})
        if method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            text = details.get("exception", {}).get("description") or details.get("text", "exception")
            self.errors.append(f"uncaught: {text}")
        elif method == "Runtime.consoleAPICalled":
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
            self.console.append(f"{params.get('type')}: {text}")
            if params.get("type") == "error":
                self.errors.append(f"console.error: {text}")
        elif method == "Log.entryAdded":
            entry = params.get("entry", {})
            self.console.append(f"{entry.get('level')}: {entry.get('text')} {entry.get('url', '')}")
        if self.verbose and method in ("Runtime.exceptionThrown", "Runtime.consoleAPICalled"):
            print("  [page]", self.console[-1] if self.console else self.errors[-1])

    # Lifecycle

    def close(self) -> None:
        session = getattr(self, "session", None)
        if session:
            try:
                session.call("Browser.close", timeout=5)
            except (CDPError, OSError):
                pass
            session.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self) -> "Browser":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # Page

    def set_viewport(self, width: int, height: int, mobile: bool = False, scale: float = 1) -> None:
        self.session.call("Emulation.setDeviceMetricsOverride",
                          {"width": width, "height": height, "deviceScaleFactor": scale, "mobile": mobile})
        self.session.call("Emulation.setTouchEmulationEnabled", {"enabled": mobile})
        self.viewport = (width, height, mobile)

    def in_new_tab(self, url: str, expression: str, timeout: float = 20):
        """Opens `url` in a new tab of the same browser (as "open in new tab" does: no opener, an empty
        sessionStorage), waits until `expression` is truthy there, returns its value and closes the tab."""
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}/json/new?{urllib.parse.quote(url, safe='')}", method="PUT")
        target = json.load(urllib.request.urlopen(request, timeout=10))
        tab = Session(target["webSocketDebuggerUrl"])
        try:
            tab.call("Runtime.enable")
            deadline = time.monotonic() + timeout
            wrapped = f"(async () => {{ const v = await ({expression}); return v instanceof Node ? true : v; }})()"
            while True:
                result = tab.call("Runtime.evaluate", {"expression": wrapped, "awaitPromise": True, "returnByValue": True})
                value = result.get("result", {}).get("value") if "exceptionDetails" not in result else None
                if value:
                    return value
                if time.monotonic() > deadline:
                    raise WaitTimeout(f"waited {timeout} s in a new tab of {url} for {expression}")
                tab.pump(0.2)
        finally:
            tab.close()
            urllib.request.urlopen(f"http://127.0.0.1:{self.port}/json/close/{target['id']}", timeout=10).read()

    def goto(self, url: str, timeout: float = 30) -> None:
        result = self.session.call("Page.navigate", {"url": url})
        if result.get("errorText"):
            raise CDPError(f"cannot open {url}: {result['errorText']}")
        self.wait_for("document.readyState === 'complete'", timeout=timeout, what=f"{url} to load")

    def eval(self, expression: str, await_promise: bool = True, timeout: float = 30):
        """Evaluates JavaScript in the page; returns its value (JSON-serialisable)."""
        result = self.session.call("Runtime.evaluate", {
            "expression": expression, "awaitPromise": await_promise, "returnByValue": True, "userGesture": True,
        }, timeout=timeout)
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            raise CDPError(f"JavaScript failed: {details.get('exception', {}).get('description') or details.get('text')}\n  in: {expression[:300]}")
        return result.get("result", {}).get("value")

    def wait_for(self, expression: str, timeout: float = 15, what: str | None = None, interval: float = 0.1):
        """Polls `expression` until it is truthy; returns its value."""
        deadline = time.monotonic() + timeout
        last_error = None
        # An element found is `true` (elements do not serialise by value).
        wrapped = f"(async () => {{ const v = await ({expression}); return v instanceof Node ? true : v; }})()"
        while True:
            try:
                value = self.eval(wrapped)
                if value:
                    return value
            except CDPError as error:
                last_error = error
            if time.monotonic() > deadline:
                suffix = f" (last error: {last_error})" if last_error else ""
                raise WaitTimeout(f"waited {timeout} s for {what or expression}{suffix}")
            self.session.pump(interval)

    def wait_text(self, text: str, selector: str = "body", timeout: float = 15) -> None:
        self.wait_for(f"[...document.querySelectorAll({json.dumps(selector)})].some(e => e.innerText.includes({json.dumps(text)}))",
                      timeout=timeout, what=f"text {text!r} in {selector}")

    def text(self, selector: str = "body") -> str:
        return self.eval(f"document.querySelector({json.dumps(selector)})?.innerText ?? ''")

    def count(self, selector: str) -> int:
        return self.eval(f"document.querySelectorAll({json.dumps(selector)}).length")

    def exists(self, selector: str) -> bool:
        return bool(self.count(selector))

    # Input

    def _center(self, finder_js: str, what: str) -> tuple[float, float]:
        rect = self.eval(f"""(() => {{
            const el = {finder_js};
            if (!el) return null;
            el.scrollIntoView({{block: 'center', inline: 'center'}});
            const r = el.getBoundingClientRect();
            return {{x: r.left + r.width / 2, y: r.top + r.height / 2, w: r.width, h: r.height}};
        }})()""")
        if not rect:
            raise WaitTimeout(f"no element for {what}")
        if rect["w"] == 0 or rect["h"] == 0:
            raise WaitTimeout(f"{what} is not visible")
        return rect["x"], rect["y"]

    def _mouse_click(self, x: float, y: float) -> None:
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.session.call("Input.dispatchMouseEvent", {"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1})

    def click(self, selector: str, timeout: float = 10) -> None:
        """Clicks the first element matching `selector` (waits for it), with real mouse events."""
        self.wait_for(f"document.querySelector({json.dumps(selector)})", timeout=timeout, what=selector)
        self._mouse_click(*self._center(f"document.querySelector({json.dumps(selector)})", selector))

    def click_text(self, text: str, selector: str = "button, a, summary", timeout: float = 10, exact: bool = False) -> None:
        """Clicks the first visible element of `selector` whose text is (or contains) `text`."""
        compare = "t === want" if exact else "t.includes(want)"
        finder = f"""[...document.querySelectorAll({json.dumps(selector)})].find(e => {{
            const t = (e.innerText || e.textContent || '').trim().replace(/\\s+/g, ' '); const want = {json.dumps(text)};
            return ({compare}) && e.getClientRects().length > 0 && !e.disabled; }})"""
        self.wait_for(finder, timeout=timeout, what=f"{selector} with text {text!r}")
        self._mouse_click(*self._center(finder, f"{selector} with text {text!r}"))

    def focus(self, selector: str) -> None:
        self.wait_for(f"document.querySelector({json.dumps(selector)})", what=selector)
        self.eval(f"document.querySelector({json.dumps(selector)}).focus()")

    def fill(self, selector: str, text: str, clear: bool = True) -> None:
        """Focuses a field and types `text` into it as a user would (input events fire)."""
        self.focus(selector)
        if clear:
            self.eval(f"""(() => {{ const el = document.querySelector({json.dumps(selector)});
                el.select ? el.select() : null; }})()""")
            self.press("Backspace")
        self.session.call("Input.insertText", {"text": text})

    def press(self, key: str, modifiers: tuple[str, ...] = ()) -> None:
        """Presses a named key (Enter, Tab, Escape, Space, arrows, Backspace) or one character."""
        name, code, keycode, text = KEYS.get(key, (key, f"Key{key.upper()}" if len(key) == 1 else key, ord(key.upper()) if len(key) == 1 else 0, key if len(key) == 1 else None))
        mods = sum(MODIFIERS[m] for m in modifiers)
        down = {"type": "keyDown" if text and not mods else "rawKeyDown", "key": name, "code": code,
                "windowsVirtualKeyCode": keycode, "nativeVirtualKeyCode": keycode, "modifiers": mods}
        if text and not mods:
            down["text"] = text
        self.session.call("Input.dispatchKeyEvent", down)
        self.session.call("Input.dispatchKeyEvent", {"type": "keyUp", "key": name, "code": code,
                                                     "windowsVirtualKeyCode": keycode, "modifiers": mods})

    def focused(self) -> dict:
        """What has the keyboard focus: tag, text, and whether a focus outline is drawn."""
        return self.eval("""(() => {
            const el = document.activeElement;
            if (!el || el === document.body) return {tag: 'body', text: '', outline: false};
            const style = getComputedStyle(el);
            const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
            return {tag: el.tagName.toLowerCase(), text: (el.innerText || el.value || el.getAttribute('aria-label') || '').trim().slice(0, 60),
                    outline, focusVisible: el.matches(':focus-visible')};
        })()""")

    # Output

    def screenshot(self, path: str, full_page: bool = True, max_height: int = 5000) -> str:
        """Writes a PNG of the viewport (or the whole page, up to `max_height` CSS pixels)."""
        params = {"format": "png"}
        if full_page:
            # From the top: sticky headers would otherwise be drawn where the page is scrolled to.
            self.eval("window.scrollTo(0, 0)")
            metrics = self.session.call("Page.getLayoutMetrics")
            size = metrics.get("cssContentSize") or metrics.get("contentSize")
            width = self.viewport[0]
            height = min(max_height, max(self.viewport[1], int(size["height"])))
            params.update({"clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}, "captureBeyondViewport": True})
        data = self.session.call("Page.captureScreenshot", params, timeout=60)["data"]
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))
        return path
