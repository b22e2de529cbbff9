#!/usr/bin/env python3
"""Reads the outcome of an automation burst from the database, for bench/automations.sh.

Every number comes from the database (and, with the local Postmark server, from its log of
messages received); this script only queries, computes percentiles and compares. It prints one
JSON line and exits 1 when a correctness check fails (each failure on standard error).

The flow measured is trigger(checkout.completed) -> send_email (node "mail") -> delay (node
"wait", --delay-seconds) -> add_tag (node "tag"). Its executions each write five log rows: spawn,
send_email, delay "Pausing until T" (outcome waiting), delay "Delay over" (outcome ok), add_tag.

Lateness of a delay: when the step after the delay ran (the `at` of the add_tag log row, the
moment the walker planned that step, just before committing it) minus when the delay was due
(the `at` of the "Pausing until" row plus --delay-seconds, which is exactly the `wake_up_at` the
delay set: DelayClock adds the seconds to the same instant).
Standard library only; the databases are read through the sqlite3 and psql command-line tools.
"""

import argparse
import json
import subprocess
import sys


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))
    return ordered[int(rank) - 1]


class Database:
    def __init__(self, backend: str, url: str):
        self.backend, self.url = backend, url

    def rows(self, sql: str) -> list[list[str]]:
        if self.backend == "sqlite":
            command = ["sqlite3", "-cmd", ".timeout 10000", "-separator", "|", self.url, sql]
        else:
            command = ["psql", self.url, "-AtqF", "|", "-c", sql]
        out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        return [line.split("|") for line in out.splitlines() if line]

    def one(self, sql: str) -> list[str]:
        return self.rows(sql)[0]

    def us(self, column: str) -> str:
        """A timestamp column as integer microseconds."""
        return column if self.backend == "sqlite" else f"cortex_us({column})"

    def count_if(self, condition: str) -> str:
        return f"sum(CASE WHEN {condition} THEN 1 ELSE 0 END)"


def windows(times: list[float], length: float) -> int:
    """The most arrivals in any window [t, t + length)."""
    best, start = 0, 0
    for end in range(len(times)):
        while times[end] - times[start] >= length:
            start += 1
        best = max(best, end - start + 1)
    return best


def rate_excess(times: list[float], rate: float) -> float:
    """The most any window [t, t + T) holds beyond rate * T, over all T: a token bucket of `rate`
    with one second of burst never exceeds `rate` (one second's worth of messages)."""
    worst = 0.0
    # Every window that matters starts and ends at an arrival; messages of one batch share its
    # arrival time, so scanning the distinct times is enough.
    distinct = sorted(set(times))
    counts = {t: 0 for t in distinct}
    for t in times:
        counts[t] += 1
    prefix, total = [], 0
    for t in distinct:
        total += counts[t]
        prefix.append(total)
    for i, start in enumerate(distinct):
        before = prefix[i - 1] if i else 0
        for j in range(i, len(distinct)):
            span = distinct[j] - start
            worst = max(worst, prefix[j] - before - rate * span)
    return worst


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", required=True, choices=["sqlite", "postgres"])
    parser.add_argument("--url", required=True, help="SQLite file path or postgres:// URL")
    parser.add_argument("--events", type=int, required=True)
    parser.add_argument("--delay-seconds", type=int, required=True)
    parser.add_argument("--automation-id", type=int, required=True)
    parser.add_argument("--bursts", required=True, help="JSON array of bench/burst.py results")
    parser.add_argument("--postmark-log", help="the local Postmark server's log of messages")
    parser.add_argument("--postmark-rate", type=float, default=0)
    parser.add_argument("--kill-at", type=float, help="Unix time of the kill -9, if any")
    parser.add_argument("--restart-at", type=float, help="Unix time the second server was started")
    parser.add_argument("--ready-at", type=float, help="Unix time the second server answered /readyz")
    parser.add_argument("--poller", help="bench/api_poller.py's summary of its reads during the run")
    parser.add_argument("--waited-s", type=float, required=True)
    parser.add_argument("--timed-out", action="store_true")
    parser.add_argument("--no-speed-bar", dest="speed_bar", action="store_false",
                        help="do not fail on the lateness bar (a smoke run of a debug build)")
    parser.add_argument("--extra", default="{}", help="JSON object merged into the result line")
    args = parser.parse_args()

    db, n = Database(args.backend, args.url), args.events
    failures: list[str] = []
    us = db.us

    activities = int(db.one("SELECT count(*) FROM crm_activities WHERE type = 'checkout.completed'")[0])
    e = db.one(f"""
        SELECT count(*), count(DISTINCT trigger_activity_id), {db.count_if("status = 'completed'")},
               {db.count_if("status IN ('running', 'waiting')")}, {db.count_if("status = 'failed'")},
               min({us('created_at')}), max({us('finished_at')})
        FROM automation_executions WHERE automation_id = {args.automation_id}""")
    executions, distinct_triggers, completed, unfinished, failed = (int(x or 0) for x in e[:5])
    first_spawn, last_finish = (int(x) if x else None for x in e[5:7])
    statuses = dict(db.rows("SELECT status, count(*) FROM automation_executions GROUP BY status"))
    logs = int(db.one("SELECT count(*) FROM automation_logs")[0])
    repeated_logs = int(db.one("""
        SELECT count(*) FROM (SELECT execution_id, node_id, action, outcome FROM automation_logs
                              GROUP BY execution_id, node_id, action, outcome HAVING count(*) > 1) r""")[0])
    # Triggering activities with no execution, or with more than one.
    orphans = int(db.one(f"""
        SELECT count(*) FROM crm_activities a WHERE a.type = 'checkout.completed' AND NOT EXISTS
            (SELECT 1 FROM automation_executions x WHERE x.trigger_activity_id = a.id AND x.automation_id = {args.automation_id})""")[0])

    m = db.one(f"""
        SELECT count(*), count(DISTINCT idempotency_key), {db.count_if("status = 'sent'")},
               {db.count_if("attempts > 1")}, max(attempts)
        FROM email_jobs""")
    mails, distinct_keys, sent, reclaimed, max_attempts = (int(x or 0) for x in m)
    keyed = int(db.one("""
        SELECT count(*) FROM email_jobs j JOIN automation_executions x
            ON j.idempotency_key = 'automation:' || x.id || ':mail'""")[0])
    providers = dict(db.rows("SELECT COALESCE(provider, '-'), count(*) FROM email_jobs GROUP BY provider"))
    # Mail rows claimed again after a lease ran out, by execution: the in-flight case of a crash.
    reclaimed_keys = {f"{r[0]}:mail" for r in db.rows(
        "SELECT substr(idempotency_key, 12, length(idempotency_key) - 16) FROM email_jobs WHERE attempts > 1")}
    mail_latency = [int(r[0]) / 1e6 for r in db.rows(
        f"SELECT {us('sent_at')} - {us('created_at')} FROM email_jobs WHERE sent_at IS NOT NULL")]

    # Where the time went: from the event's arrival to its execution's spawn, and from the spawn
    # to the mail step (the walker's first step), per execution.
    spawn_wait = [int(r[0]) / 1e6 for r in db.rows(f"""
        SELECT {us('x.created_at')} - {us('a.received_at')} FROM automation_executions x
        JOIN crm_activities a ON a.id = x.trigger_activity_id""")]
    first_step_wait = [int(r[0]) / 1e6 for r in db.rows(f"""
        SELECT {us('l.at')} - {us('x.created_at')} FROM automation_executions x
        JOIN automation_logs l ON l.execution_id = x.id AND l.action = 'send_email'""")]
    received = db.one(f"SELECT min({us('received_at')}), max({us('received_at')}) FROM crm_activities WHERE type = 'checkout.completed'")
    spawned = db.one(f"SELECT min({us('created_at')}), max({us('created_at')}) FROM automation_executions")

    lateness = [int(r[0]) / 1e6 for r in db.rows(f"""
        SELECT {us('t.at')} - ({us('w.at')} + {args.delay_seconds * 1_000_000})
        FROM automation_logs w JOIN automation_logs t ON t.execution_id = w.execution_id AND t.action = 'add_tag'
        WHERE w.action = 'delay' AND w.outcome = 'waiting'""")]

    result: dict = {"backend": args.backend, "events": n}
    result.update(json.loads(args.extra))
    span = (last_finish - first_spawn) / 1e6 if first_spawn and last_finish else None
    result.update({
        "executions": executions, "completed": completed, "executions_per_s": round(n / span, 1) if span else None,
        "span_s": round(span, 2) if span else None,
        "lateness_s": {"n": len(lateness), "p50": percentile(lateness, 50), "p99": percentile(lateness, 99),
                       "max": max(lateness) if lateness else None},
        "mail_queued_to_sent_s": {"p50": percentile(mail_latency, 50), "p99": percentile(mail_latency, 99),
                                  "max": max(mail_latency) if mail_latency else None},
        "ingest_span_s": round((int(received[1]) - int(received[0])) / 1e6, 2) if received[0] else None,
        "spawn_span_s": round((int(spawned[1]) - int(spawned[0])) / 1e6, 2) if spawned[0] else None,
        "arrival_to_spawn_s": {"p50": percentile(spawn_wait, 50), "p99": percentile(spawn_wait, 99)},
        "spawn_to_first_step_s": {"p50": percentile(first_step_wait, 50), "p99": percentile(first_step_wait, 99)},
        "mail_rows": mails, "mail_sent": sent, "mail_reclaimed": reclaimed, "providers": providers,
        "log_rows": logs, "repeated_log_rows": repeated_logs, "statuses": statuses,
        "bursts": json.loads(args.bursts), "waited_s": round(args.waited_s, 1),
    })
    poller = {}
    if args.poller:
        try:
            with open(args.poller) as summary:
                poller = json.load(summary)
        except (OSError, ValueError):
            failures.append("the poller left no summary")
    bursts = result["bursts"]
    errors_not_503 = (poller.get("server_errors_not_503") or 0) + sum(b.get("server_errors_not_503") or 0 for b in bursts)
    result["requests"] = (poller.get("requests") or 0) + sum(b.get("sent") or 0 for b in bursts)
    result["server_errors_not_503"] = errors_not_503
    result["slowest_answer_ms"] = max([poller.get("slowest_answer_ms") or 0] + [b.get("slowest_answer_ms") or 0 for b in bursts])
    result["poller"] = {key: poller.get(key) for key in ("requests", "answers", "refused", "slowest_answer_ms", "first_error")}
    if args.kill_at is not None:
        # Recovery: the restart until /readyz answered, and the kill until the last execution finished.
        result["recovery"] = {
            "restart_to_ready_s": round(args.ready_at - args.restart_at, 2) if args.ready_at and args.restart_at else None,
            "kill_to_done_s": round(last_finish / 1e6 - args.kill_at, 2) if last_finish else None,
        }
    if errors_not_503:
        failures.append(f"{errors_not_503} answers 5xx other than 503 ({poller.get('first_error')})")
    for key in ("p50", "p99", "max"):
        for block in (result["lateness_s"], result["mail_queued_to_sent_s"], result["arrival_to_spawn_s"],
                      result["spawn_to_first_step_s"]):
            if block.get(key) is not None:
                block[key] = round(block[key], 3)

    if args.timed_out:
        failures.append(f"gave up waiting after {args.waited_s:.0f} s")
    if activities != n:
        failures.append(f"{activities} checkout activities, expected {n}")
    if executions != n or distinct_triggers != n or orphans:
        failures.append(f"{executions} executions for {distinct_triggers} activities ({orphans} without one), expected {n}")
    if completed != n:
        failures.append(f"{completed} executions completed ({unfinished} unfinished, {failed} failed), expected {n}")
    if logs != 5 * n or repeated_logs:
        failures.append(f"{logs} log rows (expected {5 * n}), {repeated_logs} (execution, node, action, outcome) repeated")
    if mails != n or distinct_keys != n or keyed != n or sent != n:
        failures.append(f"email_jobs: {mails} rows, {distinct_keys} keys, {keyed} keyed to an execution, {sent} sent; expected {n}")
    if len(lateness) != n:
        failures.append(f"{len(lateness)} delays measured, expected {n}")

    if args.postmark_log:
        arrivals = []
        with open(args.postmark_log) as log:
            for line in log:
                message = json.loads(line)
                meta = message.get("metadata") or {}
                arrivals.append((message["t"], f'{meta.get("execution_id")}:{meta.get("node_id")}'))
        keys = [key for _, key in arrivals]
        twice = len(keys) - len(set(keys))
        # A message received twice must have been in flight at the kill: its ledger row was claimed
        # again after its lease (`attempts > 1`).
        seen: set[str] = set()
        unexplained = 0
        for key in keys:
            if key in seen and key not in reclaimed_keys:
                unexplained += 1
            seen.add(key)
        if unexplained:
            failures.append(f"Postmark received {unexplained} messages twice whose ledger row was never claimed again")
        pm = {"received": len(arrivals), "distinct": len(set(keys)), "received_twice": twice}
        # Each server process has its own bucket: a restart may burst again, so check each life apart.
        lives = [sorted(t for t, _ in arrivals if args.kill_at is None or t < args.kill_at)]
        if args.kill_at is not None:
            lives.append(sorted(t for t, _ in arrivals if t >= args.kill_at))
        pm["max_in_1s"] = [windows(times, 1.0) for times in lives]
        if args.postmark_rate:
            excess = [rate_excess(times, args.postmark_rate) for times in lives]
            pm["most_beyond_rate"] = [round(x, 1) for x in excess]
            busy = lives[-1]
            if len(busy) > 1:
                pm["mean_rate"] = round(len(busy) / (busy[-1] - busy[0]), 1) if busy[-1] > busy[0] else None
            for life, x in enumerate(excess):
                if x > args.postmark_rate:
                    failures.append(
                        f"Postmark (process {life + 1}) saw {x:.0f} messages beyond {args.postmark_rate:.0f}/s × the window, "
                        f"more than one second of burst")
        result["postmark"] = pm
        if len(set(keys)) != n:
            failures.append(f"Postmark received {len(set(keys))} distinct messages, expected {n}")
        if twice and args.kill_at is None:
            failures.append(f"Postmark received {twice} messages twice without a crash")
        if twice > 500:  # The in-flight case: at most the one batch (500) being sent at the kill.
            failures.append(f"Postmark received {twice} messages twice, more than one batch in flight")

    if args.speed_bar and args.kill_at is None and result["lateness_s"]["p99"] is not None and result["lateness_s"]["p99"] > 1.0:
        failures.append(f"delay lateness p99 {result['lateness_s']['p99']} s > 1 s")

    result["failures"] = failures
    print(json.dumps(result, separators=(",", ":")))
    for failure in failures:
        print(f"bench FAILED: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
