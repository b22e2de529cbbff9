#!/usr/bin/env python3
"""Counts what a crash run of bench/send_crash.sh did, from the ledger and the provider's log.

Every message n of the run has the idempotency key `crash-<run>-<n>`, carried to Postmark as its
Metadata `{"key": ...}`. The promises checked (each failure on standard error, exit status 1):

- **none lost**: the ledger holds each of the N keys once and every row is `sent`; the provider
  received each key at least once; the client got a 2xx for every batch.
- **none twice, but the batch in flight**: a key the provider received more than once must
  have a ledger row claimed again after a lease ran out (`attempts > 1`): it was in the hands of
  the provider, its outcome not recorded, when the process died (README, "A crash while
  sending"). And all such copies together are at most one batch (--batch-limit) per kill.
- **no 5xx but 503** in any answer the client or the poller got, and a clean exit on SIGTERM.

Also reported: the batches the provider held unanswered at each kill (from its GET /stats),
how long each restart took to answer /readyz, and how long after the last kill the last message
was recorded sent (the lease of the in-flight batch decides it). Standard library only.
"""

import argparse
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from automation_report import Database  # noqa: E402


def load_lines(path: str) -> list[dict]:
    if not os.path.exists(path):
        return []
    with open(path) as lines:
        return [json.loads(line) for line in lines if line.strip()]


def load_json(path: str, default):
    try:
        with open(path) as source:
            return json.load(source)
    except (OSError, ValueError):
        return default


def held_at(batches: list[dict], moment: float) -> list[dict]:
    """Batches the provider had received but not yet answered at `moment`."""
    return [b for b in batches if b["arrived"] <= moment and (b["answered"] is None or b["answered"] >= moment)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", required=True, choices=["sqlite", "postgres"])
    parser.add_argument("--url", required=True)
    parser.add_argument("--run-id", required=True)
    parser.add_argument("--messages", type=int, required=True)
    parser.add_argument("--postmark-log", required=True)
    parser.add_argument("--postmark-stats", required=True)
    parser.add_argument("--poster", required=True)
    parser.add_argument("--poller", required=True)
    parser.add_argument("--kills", required=True, help="JSON array: killed_at, restarted_at, ready_at per kill")
    parser.add_argument("--server-status", type=int, required=True)
    parser.add_argument("--server-log", required=True)
    parser.add_argument("--started-at", type=float, required=True)
    parser.add_argument("--batch-limit", type=int, required=True, help="the most messages the sender claims at once")
    parser.add_argument("--timed-out", action="store_true")
    parser.add_argument("--extra", default="{}")
    args = parser.parse_args()

    db, n = Database(args.backend, args.url), args.messages
    failures: list[str] = []
    expected = {f"crash-{args.run_id}-{i}" for i in range(1, n + 1)}
    rows = db.rows(f"SELECT idempotency_key, status, attempts, {db.us('sent_at')} FROM email_jobs")
    ledger = {}
    repeated_keys = 0
    for key, status, attempts, sent_at in rows:
        repeated_keys += key in ledger
        ledger[key] = (status, int(attempts), int(sent_at) / 1e6 if sent_at else None)
    statuses: dict[str, int] = {}
    for status, _, _ in ledger.values():
        statuses[status] = statuses.get(status, 0) + 1
    missing_rows = len(expected - ledger.keys())
    stray_rows = len(ledger.keys() - expected)
    reclaimed = {key for key, (_, attempts, _) in ledger.items() if attempts > 1}

    copies: dict[str, int] = {}
    stray_copies = 0
    for message in load_lines(args.postmark_log):
        key = (message.get("metadata") or {}).get("key")
        if key in expected:
            copies[key] = copies.get(key, 0) + 1
        else:
            stray_copies += 1
    lost = len(expected - copies.keys())
    twice = {key: count for key, count in copies.items() if count > 1}
    duplicates = sum(count - 1 for count in twice.values())
    unexplained = [key for key in twice if key not in reclaimed]

    kills = json.loads(args.kills)
    stats = load_json(args.postmark_stats, {"messages": 0, "batches": []})
    batches = stats.get("batches", [])
    poster = load_json(args.poster, {})
    poller = load_json(args.poller, {})
    sent_times = [sent for _, _, sent in ledger.values() if sent is not None]
    last_sent = max(sent_times) if sent_times else None
    with open(args.server_log, errors="replace") as log:
        problems = [line.rstrip() for line in log if re.search(r" (warning|error|critical) ", line)]

    result: dict = {"backend": args.backend, "messages": n}
    result.update(json.loads(args.extra))
    result.update({
        "kills": len(kills),
        "requests": (poster.get("requests") or 0) + (poller.get("requests") or 0),
        "acknowledged": poster.get("acknowledged"), "ledger_rows": len(ledger), "ledger_statuses": statuses,
        "reclaimed_rows": len(reclaimed),
        "provider_received": sum(copies.values()) + stray_copies, "provider_distinct": len(copies),
        "lost": lost, "duplicates": duplicates, "duplicates_bound": args.batch_limit * len(kills),
        "duplicates_not_in_flight": len(unexplained),
        "held_by_provider_at_kill": [
            {"batches": len(held), "messages": sum(b["size"] for b in held)}
            for held in (held_at(batches, kill["killed_at"]) for kill in kills)],
        "server_errors_not_503": (poster.get("server_errors_not_503") or 0) + (poller.get("server_errors_not_503") or 0),
        "slowest_answer_ms": max(poster.get("slowest_answer_ms") or 0, poller.get("slowest_answer_ms") or 0),
        "restart_to_ready_s": [round(k["ready_at"] - k["restarted_at"], 2) for k in kills],
        "last_kill_to_all_sent_s": round(last_sent - kills[-1]["killed_at"], 2) if last_sent and kills else None,
        "run_s": round((last_sent or args.started_at) - args.started_at, 2),
        "client": {key: poster.get(key) for key in ("requests", "answers", "refused", "cut", "duplicates_answered",
                                                    "slowest_answer_ms", "first_error")},
        "poller": {key: poller.get(key) for key in ("requests", "answers", "refused", "slowest_answer_ms",
                                                    "slowest_path", "first_error")},
        "server_exit": args.server_status, "server_log_problems": len(problems),
    })

    if args.timed_out:
        failures.append("gave up waiting for the ledger to drain")
    if missing_rows or stray_rows or repeated_keys:
        failures.append(f"ledger: {missing_rows} keys missing, {stray_rows} unexpected, {repeated_keys} twice")
    if statuses.get("sent", 0) != n:
        failures.append(f"{statuses.get('sent', 0)} of {n} ledger rows sent ({statuses})")
    if poster.get("acknowledged") != n:
        failures.append(f"the client got a 2xx for {poster.get('acknowledged')} of {n} messages")
    if lost:
        failures.append(f"{lost} messages never reached the provider")
    if stray_copies:
        failures.append(f"the provider received {stray_copies} messages that are not the run's")
    if unexplained:
        failures.append(f"{len(unexplained)} messages received twice whose ledger row was never claimed again "
                        f"(not in flight at a kill), e.g. {unexplained[0]}")
    if duplicates > args.batch_limit * len(kills):
        failures.append(f"{duplicates} duplicates, more than one batch ({args.batch_limit}) per kill ({len(kills)})")
    if result["server_errors_not_503"]:
        failures.append(f"{result['server_errors_not_503']} answers 5xx other than 503: "
                        f"{poster.get('first_error') or poller.get('first_error')}")
    if args.server_status != 0:
        failures.append(f"cortex serve exited with {args.server_status} on SIGTERM" +
                        (" (it hung and was killed)" if args.server_status == 124 else ""))
    result["failures"] = failures
    print(json.dumps(result, separators=(",", ":")))
    for problem in problems[:5]:
        print(f"bench: server log: {problem[:300]}", file=sys.stderr)
    for failure in failures:
        print(f"bench FAILED: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
