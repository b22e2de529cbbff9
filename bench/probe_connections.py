"""Connections that hold the server without finishing a request: silent ones, idle keep-alive
ones, heads dribbled a byte at a time (slowloris) and bodies dribbled after a complete head.

Each kind opens `count` connections at once and waits (with epoll, so thousands are cheap) until
the server has closed every one; the server's timeouts must do it, within a bound, with the
documented answer (none for a silent or idle connection, 408 `request_timeout` for a slow head
or body), while /healthz keeps answering.
"""

import selectors
import time

from probe_support import error_code


class Held:
    """One connection the probe holds open: what it received and when the server closed it."""

    def __init__(self, sock, drip):
        self.sock, self.drip = sock, drip
        self.received = b""
        self.closed_after = None


class Connections:
    def __init__(self, probe, header_timeout, idle_timeout):
        self.probe = probe
        self.header_timeout, self.idle_timeout = header_timeout, idle_timeout

    def run(self, count):
        """The four kinds, each its own scenario."""
        with self.probe.scenario(f"{count} silent connections"):
            self.silent(count)
        with self.probe.scenario(f"{count} idle keep-alive connections"):
            self.idle(count)
        with self.probe.scenario(f"{count} slowloris heads"):
            self.slow_heads(count)
        with self.probe.scenario(f"{count} slow bodies"):
            self.slow_bodies(count)

    def silent(self, count):
        """Connect and send nothing: closed after the header timeout, without an answer."""
        held = [Held(self.probe.connect(), None) for _ in range(count)]
        self.hold(held, self.header_timeout + 10)
        self.judge("silent connection", held, None, None, self.header_timeout)

    def idle(self, count):
        """One request answered, then silence: closed after the idle timeout, without an answer."""
        held = []
        for _ in range(count):
            sock = self.probe.connect()
            sock.sendall(self.probe.head_line(b"GET", b"/healthz"))
            answer = self.read_answer(sock)
            self.probe.current.seen(int(answer.split(b" ")[1]) if answer.startswith(b"HTTP/1.1 ") else None)
            if not answer.startswith(b"HTTP/1.1 200"):
                self.probe.fail("keep-alive request", answer[:40].decode("latin-1"), "HTTP/1.1 200")
            held.append(Held(sock, None))
        self.hold(held, self.idle_timeout + 10)
        self.judge("idle keep-alive connection", held, None, None, self.idle_timeout)

    def slow_heads(self, count):
        """A head that never ends, one byte every quarter of the header timeout: 408, closed."""
        held = []
        for index in range(count):
            sock = self.probe.connect()
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow-" + str(index).encode())
            held.append(Held(sock, b"a"))
        self.hold(held, self.header_timeout + 10, drip_every=self.header_timeout / 4)
        self.judge("slowloris head", held, 408, "request_timeout", self.header_timeout)

    def slow_bodies(self, count):
        """A complete head, then a body one byte every quarter of the header timeout, so it never
        stalls for the timeout: to an authenticated route that reads it, to a webhook (read before
        its signature is checked), and to a route that refused the key without reading it."""
        kinds = [
            ("slow body to /v1/events", b"POST /v1/events", b"Authorization: Bearer " + self.probe.key.encode() + b"\r\n",
             408, "request_timeout"),
            ("slow body to /webhooks/checkout", b"POST /webhooks/checkout", b"", 408, "request_timeout"),
            ("slow body after a 401", b"POST /v1/events", b"Authorization: Bearer wrong\r\n", 401, "auth"),
        ]
        for index, (name, line, extra, status, code) in enumerate(kinds):
            held = []
            for _ in range(count // len(kinds) + (1 if index < count % len(kinds) else 0)):
                sock = self.probe.connect()
                sock.sendall(line + b" HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" + extra
                             + b"Content-Length: 100000\r\n\r\n{")
                held.append(Held(sock, b" "))
            self.hold(held, self.header_timeout * 3 + 10, drip_every=self.header_timeout / 4)
            # The body must be cut off by a bound of its own, not by the 1 MiB limit (at this rate, days).
            self.judge(name, held, status, code, self.header_timeout * 2)

    def read_answer(self, sock):
        answer = b""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
            head, _, body = answer.partition(b"\r\n\r\n")
            lengths = [line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")]
            if lengths and len(body) >= int(lengths[0]):
                break
        return answer

    def hold(self, held, bound, drip_every=None):
        """Waits until the server closed every connection or `bound` seconds passed, sending each
        open connection its drip byte every `drip_every` seconds."""
        started = time.monotonic()
        selector = selectors.DefaultSelector()
        for connection in held:
            connection.sock.setblocking(False)
            selector.register(connection.sock, selectors.EVENT_READ, connection)
        open_count = len(held)
        next_drip = started + drip_every if drip_every else None
        while open_count and time.monotonic() - started < bound:
            timeout = 0.2 if next_drip is None else max(0.0, min(0.2, next_drip - time.monotonic()))
            for key, _ in selector.select(timeout):
                connection = key.data
                try:
                    chunk = connection.sock.recv(65536)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    chunk = b""
                if chunk:
                    connection.received += chunk
                    continue
                connection.closed_after = time.monotonic() - started
                selector.unregister(connection.sock)
                open_count -= 1
            if next_drip is not None and time.monotonic() >= next_drip:
                next_drip += drip_every
                for key in list(selector.get_map().values()):
                    connection = key.data
                    if connection.drip and connection.closed_after is None:
                        try:
                            connection.sock.send(connection.drip)
                        except (BlockingIOError, InterruptedError):
                            pass
                        except OSError:
                            pass  # reset: the recv above sees the close
        selector.close()
        for connection in held:
            connection.sock.close()

    def judge(self, name, held, want_status, want_code, timeout):
        """Each connection closed by the server within the timeout plus a margin, with the answer."""
        margin = 3.0
        closed = [c for c in held if c.closed_after is not None]
        statuses = {}
        for connection in held:
            status = None
            if connection.received.startswith(b"HTTP/1.1 "):
                status = int(connection.received.split(b" ")[1])
            code = error_code(connection.received.partition(b"\r\n\r\n")[2]) if status else None
            self.probe.current.seen(status)
            statuses[(status, code)] = statuses.get((status, code), 0) + 1
        self.probe.check(f"{name}s closed by the server", len(closed) == len(held), len(closed), len(held))
        self.probe.check(f"{name}s answered {want_status} {want_code}", list(statuses) == [(want_status, want_code)],
                         {f"{s} {c}": n for (s, c), n in statuses.items()}, [want_status, want_code])
        seconds = sorted(c.closed_after for c in closed)
        if seconds:
            self.probe.check(f"{name}s closed within {timeout} s + {margin} s", seconds[-1] <= timeout + margin,
                             round(seconds[-1], 2), timeout + margin)
            notes = self.probe.current.notes.setdefault("closed_after_s", {})
            notes[name] = {"min": round(seconds[0], 2), "max": round(seconds[-1], 2), "count": len(seconds)}
