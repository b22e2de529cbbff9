#!/usr/bin/env python3
"""Checks and prints the outcome of a bench/campaign.sh run: one JSON line, exit 1 on a failure.

    python3 bench/campaign_report.py WORK --backend B --contacts N --eligible E --start T --ineligible-queued K
        --peak-rss-kb R --load-before L [--fan-out-s S] [--postmark-rate R] [--kill JSON] [--poller FILE]

WORK holds the run's files: `rows.txt` (the campaign's ledger rows: recipient|status|sent_at
µs|contact_id|created_at µs|attempts), `inactive.txt` (addresses suppressed as inactive),
`postmark.jsonl` (the local Postmark server's log, with --postmark-rate), `probe.json` (the
unsubscribe probe, with --unsubscribes). Failures: rows ≠ eligible contacts, a contact queued
twice, an ineligible contact queued, a row not sent (but 406s and unsubscribes), and with
Postmark a recipient received twice, missing, a batch over 500, more than R beyond the rate, or a
406 not failed and suppressed.

With --kill (kill -9 mid-way, restart) Postmark may have received the batch in flight at the
kill twice: a recipient received twice is then allowed only when its ledger row was claimed
again after its lease (attempts > 1), and at most one batch in all; --poller's 5xx other than
503 fail the run, and the recovery is reported: the restart until /readyz answered, and the
kill until the last row was sent. Standard library only.
"""

import argparse
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from automation_report import rate_excess  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("work")
    parser.add_argument("--backend", required=True)
    parser.add_argument("--contacts", type=int, required=True)
    parser.add_argument("--eligible", type=int, required=True)
    parser.add_argument("--start", type=float, required=True, help="Unix time of the send request")
    parser.add_argument("--ineligible-queued", type=int, required=True)
    parser.add_argument("--peak-rss-kb", type=int, required=True)
    parser.add_argument("--load-before", type=float, required=True)
    parser.add_argument("--fan-out-s", type=float, default=float("nan"))
    parser.add_argument("--postmark-rate", type=float)
    parser.add_argument("--batch-limit", type=int, default=500, help="the most messages the sender claims at once")
    parser.add_argument("--kill", help="JSON: killed_at, restarted_at, ready_at, landed, rows_at_kill, sent_at_kill")
    parser.add_argument("--poller", help="bench/api_poller.py's summary")
    args = parser.parse_args()
    work = args.work

    rows = [line.rstrip("\n").split("|") for line in open(os.path.join(work, "rows.txt")) if line.strip()]
    start_us = args.start * 1e6
    status: dict[str, int] = {}
    for row in rows:
        status[row[1]] = status.get(row[1], 0) + 1
    distinct = len({r[3] for r in rows})
    line = {"backend": args.backend, "contacts": args.contacts, "eligible": args.eligible, "rows": len(rows),
            "distinct_contacts": distinct, "status": status, "ineligible_queued": args.ineligible_queued,
            "fan_out_s": round(args.fan_out_s, 3),
            "send_to_fan_out_start_s": round((min(int(r[4]) for r in rows) - start_us) / 1e6, 3) if rows else None,
            "send_to_last_sent_s": round((max(int(r[2]) for r in rows) - start_us) / 1e6, 3) if rows else None,
            "peak_rss_mb": round(args.peak_rss_kb / 1024, 1), "load_before": args.load_before}
    failures = []
    if len(rows) != args.eligible:
        failures.append(f"{len(rows)} rows for {args.eligible} eligible contacts")
    if distinct != len(rows):
        failures.append(f"{len(rows) - distinct} contacts queued twice")
    if args.ineligible_queued:
        failures.append(f"{args.ineligible_queued} suppressed or revoked contacts queued")
    if line["fan_out_s"] != line["fan_out_s"]:  # NaN: no log line
        failures.append("the server logged no fan-out")

    kill = json.loads(args.kill) if args.kill else None
    reclaimed = {r[0] for r in rows if int(r[5]) > 1}
    line["reclaimed_rows"] = len(reclaimed)
    refused = set()
    if args.postmark_rate:
        rate = args.postmark_rate
        pattern = re.compile(r"reader[0-9]*776@")
        received, batches = [], {}
        for entry in map(json.loads, open(os.path.join(work, "postmark.jsonl"))):
            received.append(entry)
            batches[entry["batch"]] = batches.get(entry["batch"], 0) + 1
        per_to: dict[str, int] = {}
        for entry in received:
            per_to[entry["to"]] = per_to.get(entry["to"], 0) + 1
        refused = {e["to"] for e in received if e["inactive"]}
        sizes = sorted(batches.values())
        # Each server process has its own token bucket: with a kill, check each life apart.
        lives = [sorted(e["t"] for e in received if not kill or e["t"] < kill["killed_at"])]
        if kill:
            lives.append(sorted(e["t"] for e in received if e["t"] >= kill["killed_at"]))
        excess = max(rate_excess(times, rate) for times in lives)
        twice = {to: n for to, n in per_to.items() if n > 1}
        duplicates = sum(n - 1 for n in twice.values())
        all_times = sorted(e["t"] for e in received)
        line["postmark"] = {
            "received": len(received), "distinct": len(per_to), "twice": len(twice), "duplicates": duplicates,
            "inactive_406": len(refused), "batches": len(batches), "batch_max": sizes[-1] if sizes else 0,
            "batch_median": sizes[len(sizes) // 2] if sizes else 0,
            "mean_rate": round(len(all_times) / (all_times[-1] - all_times[0]), 1)
            if len(all_times) > 1 and all_times[-1] > all_times[0] else None,
            "most_beyond_rate": round(excess, 1)}
        sent_to = {r[0] for r in rows if r[1] == "sent"}
        failed_to = {r[0] for r in rows if r[1] == "failed"}
        suppressed = {entry.strip() for entry in open(os.path.join(work, "inactive.txt"))}
        if twice and not kill:
            failures.append("Postmark received a recipient twice")
        if kill:
            unexplained = [to for to in twice if to not in reclaimed]
            if unexplained:
                failures.append(f"Postmark received {len(unexplained)} recipients twice whose row was never claimed again, "
                                f"e.g. {unexplained[0]}")
            if duplicates > args.batch_limit:
                failures.append(f"Postmark received {duplicates} messages twice, more than one batch ({args.batch_limit})")
        if set(per_to) != sent_to | refused:
            failures.append(f"Postmark received {len(per_to)} recipients; the ledger sent {len(sent_to)} "
                            f"and {len(refused)} were refused")
        if not refused:
            failures.append("no recipient was answered 406")
        if failed_to != refused:
            failures.append(f"{len(failed_to ^ refused)} rows failed that were not refused, or the other way")
        if not refused <= suppressed:
            failures.append(f"{len(refused - suppressed)} refused recipients not suppressed")
        if any(not pattern.search(to) for to in refused):
            failures.append("a recipient not meant to be refused was refused")
        if sizes and sizes[-1] > 500:
            failures.append(f"a batch of {sizes[-1]} messages")
        if excess > rate:
            failures.append(f"{excess:.0f} messages beyond {rate:.0f}/s x the window, more than one second of burst")

    unsubscribed: set[int] = set()
    probe_file = os.path.join(work, "probe.json")
    if os.path.exists(probe_file):
        probe = json.load(open(probe_file))
        answered = {int(k): v for k, v in probe.pop("answered_at").items()}
        unsubscribed = set(answered)
        late = [r for r in rows if int(r[3]) in answered and r[1] == "sent" and int(r[2]) / 1e6 > answered[int(r[3])] + 1.0]
        probe["cancelled"] = sum(1 for r in rows if int(r[3]) in answered and r[1] == "cancelled")
        probe["sent_more_than_1s_after_answer"] = len(late)
        line["unsubscribe"] = probe
        if probe["p99_ms"] >= 50:
            failures.append(f"unsubscribe p99 {probe['p99_ms']} ms (bar 50 ms)")
        if probe["statuses"] != {"200": probe["requests"]}:
            failures.append(f"unsubscribe answers {probe['statuses']}")
        if late:
            failures.append(f"{len(late)} unsubscribed contacts mailed more than 1 s after their answer")

    # Every row sent, but for the 406s (failed) and contacts unsubscribed before their batch (cancelled).
    unsent = [r for r in rows if r[1] != "sent" and not (r[1] == "failed" and r[0] in refused)
              and not (r[1] == "cancelled" and int(r[3]) in unsubscribed)]
    if unsent:
        failures.append(f"{len(unsent)} rows not sent ({unsent[0][1]}, ...)")

    if kill:
        last_sent = max((int(r[2]) for r in rows), default=0) / 1e6
        line["kill"] = {**{k: kill[k] for k in ("landed", "rows_at_kill", "sent_at_kill")},
                        "restart_to_ready_s": round(kill["ready_at"] - kill["restarted_at"], 2),
                        "kill_to_last_sent_s": round(last_sent - kill["killed_at"], 2) if last_sent else None}
    if args.poller:
        try:
            poller = json.load(open(args.poller))
        except (OSError, ValueError):
            poller = {}
            failures.append("the poller left no summary")
        line["poller"] = {k: poller.get(k) for k in ("requests", "answers", "refused", "server_errors_not_503",
                                                     "slowest_answer_ms", "slowest_path", "first_error")}
        if poller.get("server_errors_not_503"):
            failures.append(f"{poller['server_errors_not_503']} answers 5xx other than 503: {poller.get('first_error')}")
    line["failures"] = failures
    print(json.dumps(line, separators=(",", ":")))
    if failures:
        print("bench FAILED: " + "; ".join(failures), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
