"""The pieces every part of the hostile-input probe uses (bench/probe.py runs them).

- ``Probe``: HTTP calls to the server under test (through http.client, or raw bytes on a socket
  for what http.client refuses to send), each answer counted in the scenario that made it, and
  ``expect`` to compare an answer with the one the README promises.
- ``Scenario``: one part of the probe: its requests, the statuses seen, its failures, /healthz
  latency while it ran, the server's log lines and resident memory before and after.
- ``HealthPoller``: GET /healthz every 20 ms from a separate process (so the probe's own work in
  this process cannot delay the measurement through Python's global lock), samples in a file.
- ``ServerWatch``: the server's resident memory (/proc), its log's line count, and the row count
  of every table of its SQLite database (read-only).

Standard library only; every wait is bounded.
"""

import base64
import collections
import contextlib
import hashlib
import hmac
import http.client
import json
import math
import multiprocessing
import os
import socket
import sqlite3
import time


def percentile(sorted_values, fraction):
    """Nearest-rank percentile of an already sorted list, or None when it is empty."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(len(sorted_values) * fraction))
    return round(sorted_values[min(len(sorted_values), rank) - 1], 1)


def error_code(data):
    """The `error.code` of a JSON error body, or None."""
    try:
        return json.loads(data)["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None


class ServerWatch:
    """What the probe can see of the server process from outside: memory, log, database."""

    def __init__(self, pid, log_path, database_path):
        self.pid, self.log_path, self.database_path = pid, log_path, database_path

    def rss_kb(self):
        if not self.pid:
            return None
        try:
            with open(f"/proc/{self.pid}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1])
        except OSError:
            return None
        return None

    def alive(self):
        if not self.pid:
            return True
        try:
            os.kill(self.pid, 0)
            return True
        except OSError:
            return False

    @staticmethod
    def listen_overflows():
        """The kernel's count of connections dropped because a listen queue was full (all sockets)."""
        try:
            with open("/proc/net/netstat") as netstat:
                lines = netstat.read().splitlines()
        except OSError:
            return None
        for names, values in zip(lines[::2], lines[1::2]):
            if names.startswith("TcpExt:"):
                fields = dict(zip(names.split()[1:], values.split()[1:]))
                return int(fields["ListenOverflows"]) if "ListenOverflows" in fields else None
        return None

    def log_lines(self):
        if not self.log_path:
            return None
        with open(self.log_path, "rb") as log:
            return sum(1 for _ in log)

    def log_text_since(self, line_number):
        if not self.log_path:
            return []
        with open(self.log_path, "rb") as log:
            return [line.decode("utf-8", "replace").rstrip("\n") for index, line in enumerate(log) if index >= line_number]

    def rows(self):
        """Rows per table, read through a read-only connection (WAL lets it read beside the server)."""
        if not self.database_path:
            return None
        connection = sqlite3.connect(f"file:{self.database_path}?mode=ro", uri=True, timeout=10)
        try:
            tables = [row[0] for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
            return {table: connection.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0] for table in tables}
        finally:
            connection.close()


def _poll(host, port, path, stop, interval):
    """The poller's process: one new connection per GET /healthz, one line per answer."""
    with open(path, "a", buffering=1) as out:
        while not stop.is_set():
            started = time.monotonic()
            status = 0
            try:
                connection = http.client.HTTPConnection(host, port, timeout=5)
                connection.request("GET", "/healthz")
                response = connection.getresponse()
                response.read()
                status = response.status
                connection.close()
            except OSError:
                pass
            elapsed = (time.monotonic() - started) * 1000
            out.write(f"{started:.6f} {elapsed:.3f} {status}\n")
            stop.wait(interval)


class HealthPoller:
    """GET /healthz every `interval` seconds in another process; samples read back by time window."""

    def __init__(self, host, port, path, interval=0.02):
        self.path = path
        self.stop_event = multiprocessing.Event()
        self.process = multiprocessing.Process(target=_poll, args=(host, port, path, self.stop_event, interval), daemon=True)

    def start(self):
        self.process.start()

    def stop(self):
        self.stop_event.set()
        self.process.join(10)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(5)

    def samples(self, since, until):
        """(latency ms, status) of every poll that started within [since, until]."""
        found = []
        with open(self.path) as samples:
            for line in samples:
                parts = line.split()
                if len(parts) == 3 and since <= float(parts[0]) <= until:
                    found.append((float(parts[1]), int(parts[2])))
        return found


class Scenario:
    """One part of the probe and what was seen while it ran."""

    def __init__(self, name):
        self.name = name
        self.requests = 0
        self.statuses = collections.Counter()
        self.checked = 0
        self.failures = []
        self.started = self.ended = None
        self.healthz = {}
        self.log_lines = None
        self.rss_kb = [None, None]
        self.notes = {}

    def seen(self, status):
        self.requests += 1
        self.statuses["none" if status is None else str(status)] += 1

    @property
    def server_errors(self):
        return sum(count for status, count in self.statuses.items() if status.isdigit() and int(status) >= 500)

    def summary(self):
        return {
            "scenario": self.name, "requests": self.requests, "statuses": dict(sorted(self.statuses.items())),
            "5xx": self.server_errors, "checked": self.checked, "failed": len(self.failures), "failures": self.failures,
            "seconds": round(self.ended - self.started, 1), "healthz": self.healthz, "log_lines": self.log_lines,
            "rss_mb": [None if kb is None else round(kb / 1024, 1) for kb in self.rss_kb], **self.notes,
        }


class Probe:
    """HTTP against the server under test; every answer is counted in the current scenario."""

    def __init__(self, host, port, api_key, secret, watch, poller):
        self.host, self.port, self.key = host, port, api_key
        encoded = secret[len("whsec_"):] if secret.startswith("whsec_") else secret
        self.secret = base64.b64decode(encoded + "=" * (-len(encoded) % 4))
        self.watch, self.poller = watch, poller
        self.current = None
        self.scenarios = []

    @contextlib.contextmanager
    def scenario(self, name):
        scenario = Scenario(name)
        self.current = scenario
        self.scenarios.append(scenario)
        scenario.rss_kb[0] = self.watch.rss_kb()
        log_start = self.watch.log_lines()
        overflows = self.watch.listen_overflows()
        scenario.started = time.monotonic()
        try:
            yield scenario
        except Exception as error:  # a probe bug or a dead server: a failure of this scenario, not a crash
            scenario.failures.append({"probe": "scenario raised", "error": repr(error)[:300]})
        finally:
            # At least a few /healthz samples in every window, however short the scenario.
            deadline = time.monotonic() + 2
            while len(self.poller.samples(scenario.started, time.monotonic())) < 3 and time.monotonic() < deadline:
                time.sleep(0.02)
            scenario.ended = time.monotonic()
            scenario.rss_kb[1] = self.watch.rss_kb()
            if log_start is not None:
                scenario.log_lines = self.watch.log_lines() - log_start
            if overflows is not None:
                # System-wide: another program's full queue counts too (rare on a test machine).
                scenario.notes["listen_overflows"] = self.watch.listen_overflows() - overflows
            samples = self.poller.samples(scenario.started, scenario.ended)
            latencies = sorted(ms for ms, _ in samples)
            scenario.healthz = {
                "count": len(samples), "p50_ms": percentile(latencies, 0.5), "p99_ms": percentile(latencies, 0.99),
                "max_ms": round(latencies[-1], 1) if latencies else None, "not_200": sum(1 for _, status in samples if status != 200),
            }
            if not self.watch.alive():
                scenario.failures.append({"probe": "server process", "got": "exited", "want": "running"})
            self.current = None

    # -- answers -------------------------------------------------------------------------------

    def expect(self, name, status, code, want_status, want_code):
        """Compares an answer with the promised one; `want_code` None checks the status only."""
        self.current.checked += 1
        if status != want_status or (want_code is not None and code != want_code):
            self.current.failures.append({"probe": name, "got": [status, code], "want": [want_status, want_code]})

    def fail(self, name, got, want):
        self.current.checked += 1
        self.current.failures.append({"probe": name, "got": got, "want": want})

    def check(self, name, condition, got=None, want=None):
        self.current.checked += 1
        if not condition:
            self.current.failures.append({"probe": name, "got": got, "want": want})

    # -- HTTP helpers --------------------------------------------------------------------------

    def request(self, method, path, body=b"", headers=None, timeout=10):
        """(status, body) through http.client; (None, b"") when the connection failed."""
        connection = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            data = response.read()
            self.current.seen(response.status)
            return response.status, data
        except (OSError, http.client.HTTPException):
            self.current.seen(None)
            return None, b""
        finally:
            connection.close()

    @property
    def bearer(self):
        return {"Authorization": "Bearer " + self.key, "Content-Type": "application/json"}

    def api(self, method, path, body=None, headers=None):
        payload = body if isinstance(body, bytes) else json.dumps(body).encode() if body is not None else b""
        return self.request(method, path, payload, {**self.bearer, **(headers or {})})

    def expect_api(self, name, method, path, body, want_status, want_code):
        status, data = self.api(method, path, body)
        self.expect(name, status, error_code(data), want_status, want_code)
        return status, data

    def signed(self, body, webhook_id):
        """Standard Webhooks headers for `body`, signed with the checkout secret now."""
        timestamp = str(int(time.time()))
        mac = hmac.new(self.secret, f"{webhook_id}.{timestamp}.".encode() + body, hashlib.sha256)
        return {
            "webhook-id": webhook_id, "webhook-timestamp": timestamp,
            "webhook-signature": "v1," + base64.b64encode(mac.digest()).decode(),
            "Content-Type": "application/json",
        }

    def connect(self, timeout=10):
        return socket.create_connection((self.host, self.port), timeout=timeout)

    def raw(self, data, read_timeout=5.0, head=False):
        """Sends raw bytes on a new connection; answers (status, error code or None, body bytes).

        `head`: the answer to a HEAD request, whose Content-Length announces no body."""
        answer = b""
        try:
            with self.connect(read_timeout) as sock:
                sock.sendall(data)
                while b"\r\n\r\n" not in answer or not self._complete(answer, head):
                    chunk = sock.recv(65536)
                    if not chunk:
                        break
                    answer += chunk
        except OSError:
            pass  # a reset after the answer, or a timeout: parse what came
        status, code, body = self._parse(answer)
        self.current.seen(status)
        return status, code, body

    def head_line(self, method, target, extra=b""):
        """A request head in bytes, for `raw`: the target is sent exactly as given."""
        return method + b" " + target + b" HTTP/1.1\r\nHost: " + self.host.encode() + b"\r\n" + extra + b"\r\n"

    @staticmethod
    def _complete(answer, head):
        header, _, body = answer.partition(b"\r\n\r\n")
        if head:
            return True
        for line in header.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                return len(body) >= int(value.strip())
        return False

    @staticmethod
    def _parse(answer):
        if not answer:
            return None, None, b""
        header, _, body = answer.partition(b"\r\n\r\n")
        try:
            status = int(header.split(b" ")[1])
        except (IndexError, ValueError):
            return None, None, body
        return status, error_code(body), body
