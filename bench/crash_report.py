#!/usr/bin/env python3
"""Counts and verdicts of the crash harness, from crash_load.py's results and the database.

  crash_report.py rows     --backend B --url U --run-id R --out FILE   snapshot of the run's rows
  crash_report.py kill     ...   one kill -9 run of bench/crash_ingest.sh
  crash_report.py outage   ...   one PostgreSQL outage run of bench/crash_pg_outage.sh
  crash_report.py diskfull ...   one full-disk run of bench/crash_disk_full.sh

Every verdict prints ONE JSON line of counts on standard output, each violated promise on
standard error, and exits 1 when there is any. The promises: every event answered 2xx has its
row in the inbound archive (verdict accepted) and its activity; no event has two; rows beyond the
2xx answers come only from requests that got no answer; answers are 2xx or a JSON 503 (never
another 5xx, never a 4xx for these valid events); during an outage, answers come within a bound
and the service comes back by itself. Standard library only.
"""

import argparse
import json
import sqlite3
import subprocess
import sys


def run_rows(backend: str, url: str, run_id: str) -> dict:
    """{"inbound": {event id: accepted rows}, "activities": {event id: rows}} for the run's events."""
    prefix = f"msg_crash_{run_id}_%"
    queries = {
        "inbound": "SELECT external_id, count(*) FROM inbound_events WHERE source = 'checkout' "
                   "AND verdict = 'accepted' AND external_id LIKE '%s' GROUP BY external_id" % prefix,
        "activities": "SELECT source_event_id, count(*) FROM crm_activities WHERE source = 'checkout' "
                      "AND source_event_id LIKE '%s' GROUP BY source_event_id" % prefix,
    }
    result = {}
    if backend == "sqlite":
        with sqlite3.connect(url, timeout=30) as db:
            for name, sql in queries.items():
                result[name] = {key: count for key, count in db.execute(sql)}
    else:
        for name, sql in queries.items():
            lines = subprocess.run(["psql", url, "-AtqF", "\t", "-c", sql], check=True, capture_output=True,
                                   text=True, timeout=120).stdout.splitlines()
            result[name] = {key: int(count) for key, count in (line.split("\t") for line in lines if line)}
    return result


def load(path: str) -> dict:
    with open(path) as source:
        return json.load(source)


class Verdict:
    def __init__(self):
        self.line: dict = {}
        self.failures: list[str] = []

    def require(self, condition: bool, message: str) -> None:
        if not condition:
            self.failures.append(message)

    def finish(self) -> int:
        print(json.dumps(self.line, separators=(",", ":")))
        for failure in self.failures:
            print(f"crash FAILED: {failure}", file=sys.stderr)
        return 1 if self.failures else 0


def event_id(run_id: str, n: int) -> str:
    return f"msg_crash_{run_id}_{n}"


def answers(events: list) -> dict:
    """Counts of the outcomes and statuses, and the answers no valid event may get."""
    statuses: dict[str, int] = {}
    for row in events:
        key = str(row[4]) if row[3] in ("ok", "http") else row[3]
        statuses[key] = statuses.get(key, 0) + 1
    answered = [row for row in events if row[3] in ("ok", "http")]
    return {
        "statuses": statuses,
        "other_5xx": sum(1 for row in answered if row[4] >= 500 and row[4] != 503),
        "non_json_503": sum(1 for row in answered if row[4] == 503 and not row[7]),
        "codes_503": sorted({row[5] or "?" for row in answered if row[4] == 503}),
        "client_errors": sum(1 for row in answered if 400 <= row[4] < 500),
    }


def check_rows(verdict: Verdict, run_id: str, events: list, rows: dict, died_at: float | None = None) -> None:
    """Lost, extra and duplicated rows of the run's events against their answers.

    `died_at`: when the server was killed; a request written after it (into a connection whose
    end the client had not yet seen close) cannot have been committed."""
    acknowledged = {event_id(run_id, row[0]) for row in events if row[3] == "ok"}
    unanswered = {event_id(run_id, row[0]) for row in events
                  if row[3] == "inflight" and (died_at is None or row[1] <= died_at)}
    refused = {event_id(run_id, row[0]) for row in events if row[3] == "http"}
    stored = {key for key in rows["inbound"]} & {key for key in rows["activities"]}
    half = set(rows["inbound"]) ^ set(rows["activities"])
    lost = acknowledged - stored
    extra = stored - acknowledged
    duplicated = [key for key, count in list(rows["inbound"].items()) + list(rows["activities"].items()) if count > 1]
    verdict.line.update({
        "rows": len(stored), "lost": len(lost), "extra": len(extra), "extra_from_503": len(extra & refused),
        "duplicates": len(duplicated), "half_rows": len(half),
    })
    verdict.require(not lost, f"{len(lost)} acknowledged events have no row, e.g. {sorted(lost)[:3]}")
    verdict.require(not duplicated, f"{len(duplicated)} events are stored twice, e.g. {duplicated[:3]}")
    verdict.require(not half, f"{len(half)} events have an archive row without an activity or the reverse")
    # A row without a 2xx is allowed only for a request the client never heard back from (it was
    # in flight when the server died) or, when the deadline passed during the commit, a 503.
    stray = extra - unanswered - refused
    verdict.require(not stray, f"{len(stray)} rows for events that were never sent whole, e.g. {sorted(stray)[:3]}")


def kill(args) -> int:
    results, resend = load(args.results), load(args.resend)
    before, after = load(args.rows_before), load(args.rows_after)
    run_id, events = results["run_id"], results["events"]
    verdict = Verdict()
    summary = answers(events)
    written = [row for row in events if row[3] != "unsent"]
    ok = sum(1 for row in events if row[3] == "ok")
    # In flight at the kill: written before it and never answered.
    inflight = sum(1 for row in events if row[3] == "inflight" and row[1] <= args.kill_at)
    verdict.line = {
        "scenario": "ingest_kill", "backend": args.backend, "run": args.run, "kill_after_s": round(args.kill_at - results["started_at"], 2),
        "requests": len(written), "ok_2xx": ok, "in_flight": inflight, "statuses": summary["statuses"],
        "events_per_s": round(ok / max(0.001, args.kill_at - results["started_at"]), 1),
    }
    check_rows(verdict, run_id, events, before, died_at=args.kill_at)
    verdict.require(verdict.line["extra"] <= inflight + summary["statuses"].get("503", 0),
                    f'{verdict.line["extra"]} rows beyond the 2xx answers, more than the {inflight} requests in flight')
    verdict.require(summary["other_5xx"] == 0, f'{summary["other_5xx"]} answers were a 5xx other than 503')
    verdict.require(summary["client_errors"] == 0, f'{summary["client_errors"]} valid events were answered 4xx')
    # The sender's retry after the restart: every unanswered event is taken once, and exactly those
    # already stored are answered as duplicates.
    stored_before = set(before["inbound"])
    resent = resend["events"]
    wrong = [row[0] for row in resent if row[3] != "ok" or bool(row[6]) != (event_id(run_id, row[0]) in stored_before)]
    verdict.line.update({"resent": len(resent), "resent_duplicates": sum(1 for row in resent if row[6])})
    verdict.require(not wrong, f"{len(wrong)} re-sent events were not answered 2xx with the right duplicate flag, e.g. {wrong[:3]}")
    acknowledged = {event_id(run_id, row[0]) for row in events + resent if row[3] == "ok"}
    final_dupes = [key for key, count in list(after["inbound"].items()) + list(after["activities"].items()) if count > 1]
    verdict.require(set(after["inbound"]) == acknowledged == set(after["activities"]),
                    "after the re-send, the stored events are not exactly the acknowledged ones")
    verdict.require(not final_dupes, f"{len(final_dupes)} events stored twice after the re-send")
    verdict.line["rows_after_resend"] = len(after["inbound"])
    return verdict.finish()


def window_answers(events: list, start: float, end: float) -> list:
    """The answered events whose request overlapped [start, end]."""
    return [row for row in events if row[3] in ("ok", "http") and row[1] <= end and row[2] >= start]


def outage_like(args, scenario: str, gone_at: float, back_at: float) -> tuple[Verdict, dict]:
    """What the PostgreSQL outage and the full disk share: prompt JSON 503s while the store is
    away, /healthz up throughout, 2xx again without a restart, nothing acknowledged lost."""
    results = load(args.results)
    rows = load(args.rows)
    events, probes = results["events"], results["probes"]
    verdict = Verdict()
    summary = answers(events)
    during = window_answers(events, gone_at, back_at)
    slowest = max((row[2] - row[1] for row in events if row[3] in ("ok", "http")), default=0.0)
    slowest_during = max((row[2] - row[1] for row in during), default=0.0)
    unanswered = [row for row in events if row[3] in ("inflight", "unsent")]
    after = sorted((row for row in events if row[3] == "ok" and row[1] >= back_at), key=lambda row: row[2])
    recovery = after[0][2] - back_at if after else None
    ready_after = sorted(p[0] + p[3] for p in probes if p[1] == "/readyz" and p[2] == 200 and p[0] >= back_at)
    healthz_during = [p for p in probes if p[1] == "/healthz" and gone_at <= p[0] <= back_at]
    # /readyz asked while the store was away, answered before it came back.
    readyz_during = [p for p in probes if p[1] == "/readyz" and args.away_from <= p[0] and p[0] + p[3] <= back_at]
    slowest_probe = max((p[3] for p in probes), default=0.0)
    last = max((row[2] for row in events), default=0.0)
    tail_failures = [row for row in events if row[3] != "ok" and row[1] >= last - args.tail_s]
    verdict.line = {
        "scenario": scenario, "backend": args.backend, "run": args.run,
        "requests": len(events) - sum(1 for row in events if row[3] == "unsent"),
        "ok_2xx": sum(1 for row in events if row[3] == "ok"), "statuses": summary["statuses"],
        "answers_while_away": len(during), "s503_while_away": sum(1 for row in during if row[4] == 503),
        "other_5xx": summary["other_5xx"], "codes_503": summary["codes_503"],
        "slowest_answer_s": round(slowest, 3), "slowest_while_away_s": round(slowest_during, 3),
        "slowest_probe_s": round(slowest_probe, 3),
        "away_s": round(back_at - gone_at, 2),
        "recovery_s": None if recovery is None else round(recovery, 3),
        "ready_again_s": round(ready_after[0] - back_at, 3) if ready_after else None,
        "healthz_while_away": {str(p[2]): sum(1 for q in healthz_during if q[2] == p[2]) for p in healthz_during},
        "readyz_while_away": {str(p[2]): sum(1 for q in readyz_during if q[2] == p[2]) for p in readyz_during},
    }
    verdict.require(summary["other_5xx"] == 0, f'{summary["other_5xx"]} answers were a 5xx other than 503')
    verdict.require(summary["non_json_503"] == 0, f'{summary["non_json_503"]} answers 503 were not a JSON error')
    verdict.require(summary["client_errors"] == 0, f'{summary["client_errors"]} valid events were answered 4xx')
    verdict.require(not unanswered, f"{len(unanswered)} requests got no answer at all (a hang or a crash)")
    verdict.require(slowest <= args.answer_bound, f"the slowest answer took {slowest:.2f} s, over the {args.answer_bound} s bound")
    verdict.require(slowest_probe <= args.answer_bound,
                    f"the slowest /healthz or /readyz took {slowest_probe:.2f} s, over the {args.answer_bound} s bound")
    verdict.require(any(row[4] == 503 for row in during), "no request was answered 503 while the store was away")
    verdict.require(recovery is not None and recovery <= args.recovery_bound,
                    f"no 2xx within {args.recovery_bound} s of the store's return (first after {recovery})")
    verdict.require(not tail_failures, f"{len(tail_failures)} requests failed in the last {args.tail_s} s (no full recovery)")
    verdict.require(healthz_during and all(p[2] == 200 for p in healthz_during), "/healthz did not answer 200 throughout")
    check_rows(verdict, results["run_id"], events, rows)
    return verdict, {"readyz_during": readyz_during}


def outage(args) -> int:
    args.away_from = args.stopping_at
    verdict, seen = outage_like(args, "pg_outage", args.stopped_at, args.started_at)
    readyz = seen["readyz_during"]
    verdict.line.update({"stop_mode": args.mode, "stop_took_s": round(args.stopped_at - args.stopping_at, 2)})
    verdict.require(readyz and all(p[2] == 503 for p in readyz), "/readyz did not answer 503 while PostgreSQL was stopped")
    verdict.require(verdict.line["ready_again_s"] is not None and verdict.line["ready_again_s"] <= args.recovery_bound,
                    "/readyz did not answer 200 again within the bound")
    return verdict.finish()


def diskfull(args) -> int:
    results = load(args.results)
    full_at = min((row[2] for row in results["events"] if row[3] == "http"), default=args.freed_at)
    args.away_from = full_at
    verdict, _ = outage_like(args, "disk_full", full_at, args.freed_at)
    verdict.line.update({"tmpfs_mb": args.size_mb, "integrity_check": args.integrity})
    verdict.require(args.integrity == "ok", f"PRAGMA integrity_check answered {args.integrity!r}")
    return verdict.finish()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    rows = commands.add_parser("rows")
    for command in (rows,):
        command.add_argument("--backend", choices=["sqlite", "postgres"], required=True)
        command.add_argument("--url", required=True, help="the SQLite file or the postgres:// URL")
        command.add_argument("--run-id", required=True)
        command.add_argument("--out", required=True)
    kill_parser = commands.add_parser("kill")
    kill_parser.add_argument("--resend", required=True)
    kill_parser.add_argument("--rows-before", required=True, help="rows after the restart, before the re-send")
    kill_parser.add_argument("--rows-after", required=True)
    kill_parser.add_argument("--kill-at", type=float, required=True)
    outage_parser = commands.add_parser("outage")
    outage_parser.add_argument("--stopping-at", type=float, required=True, help="when pg_ctl stop began")
    outage_parser.add_argument("--stopped-at", type=float, required=True, help="when it had stopped")
    outage_parser.add_argument("--started-at", type=float, required=True)
    outage_parser.add_argument("--mode", required=True)
    disk_parser = commands.add_parser("diskfull")
    disk_parser.add_argument("--freed-at", type=float, required=True)
    disk_parser.add_argument("--integrity", required=True)
    disk_parser.add_argument("--size-mb", type=int, required=True)
    for command in (kill_parser, outage_parser, disk_parser):
        command.add_argument("--backend", choices=["sqlite", "postgres"], required=True)
        command.add_argument("--results", required=True)
        command.add_argument("--run", type=int, default=1)
    for command in (outage_parser, disk_parser):
        command.add_argument("--rows", required=True)
        command.add_argument("--answer-bound", type=float, default=6.0, help="the slowest answer allowed, seconds")
        command.add_argument("--recovery-bound", type=float, default=15.0, help="seconds until 2xx again")
        command.add_argument("--tail-s", type=float, default=1.0, help="the load's last seconds must be all 2xx")
    args = parser.parse_args()
    if args.command == "rows":
        with open(args.out, "w") as out:
            json.dump(run_rows(args.backend, args.url, args.run_id), out)
        return 0
    return {"kill": kill, "outage": outage, "diskfull": diskfull}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
