"""`argus alerts`, `argus silence`, `argus rules` and `argus kibana`: the on-call's commands."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime

from indexer.alert_store import (
    Silence,
    add_silence,
    expire_silence,
    get_alert,
    list_alerts,
    list_silences,
    new_silence_id,
    set_status,
)
from indexer.client import make_client
from indexer.templates import install_templates
from streams.cli import add_json_flag, print_json
from streams.contracts.connections import resolve_endpoints
from streams.contracts.schemas import Alert
from streams.contracts.settings import ConfigError, Settings
from streams.notifiers.base import evidence_text
from streams.rules.files import load_rules
from streams.rules.matchers import parse_duration


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    alerts = sub.add_parser("alerts", help="list, show, acknowledge and resolve alerts")
    alerts_sub = alerts.add_subparsers(dest="action", required=True, metavar="ACTION")
    ls = alerts_sub.add_parser("list", help="newest first")
    ls.add_argument("--status", choices=["firing", "acknowledged", "resolved"])
    ls.add_argument("--rule")
    ls.add_argument("--type", choices=["threshold", "surge", "frequency", "new_term", "flatline"])
    ls.add_argument("--limit", type=int, default=50)
    add_json_flag(ls)  # {"alerts": [...]}
    for name, text in (
        ("show", "the whole alert as JSON"),
        ("ack", "acknowledge: someone is on it"),
        ("resolve", "resolve by hand"),
    ):
        p = alerts_sub.add_parser(name, help=text)
        p.add_argument("alert_id")
        if name != "show":
            p.add_argument("--by", help="who (default: $USER)")
        add_json_flag(p)  # show: the alert on one line instead of indented

    silence = sub.add_parser("silence", help="mute notifications for matching alerts")
    silence_sub = silence.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = silence_sub.add_parser("add", help="a new silence")
    add.add_argument(
        "--match",
        action="append",
        required=True,
        metavar="KEY=VALUE",
        help="an alert label: rule, rule_type, severity, source or a group_by field; repeatable",
    )
    add.add_argument("--for", dest="duration", required=True, help="e.g. 30m, 2h, 1d")
    add.add_argument("--reason", required=True)
    add.add_argument("--by", help="who (default: $USER)")
    add_json_flag(add)
    ls = silence_sub.add_parser("list", help="active silences (--all: expired ones too)")
    ls.add_argument("--all", action="store_true")
    add_json_flag(ls)
    exp = silence_sub.add_parser("expire", help="end a silence now")
    exp.add_argument("silence_id")
    add_json_flag(exp)

    rules = sub.add_parser("rules", help="check and list the alert rules")
    rules_sub = rules.add_subparsers(dest="action", required=True, metavar="ACTION")
    for name, text in (("check", "validate every rule file"), ("list", "one line per rule")):
        p = rules_sub.add_parser(name, help=text)
        p.add_argument("--dir", help="default: ARGUS_RULES_DIR")
        add_json_flag(p)

    kibana = sub.add_parser("kibana", help="Kibana saved objects: data views and dashboards")
    kibana_sub = kibana.add_subparsers(dest="action", required=True, metavar="ACTION")
    imp = kibana_sub.add_parser("import", help="load deploy/kibana/saved-objects.ndjson")
    imp.add_argument("--url", help="Kibana base URL (default: ARGUS_KIBANA_URL)")
    imp.add_argument("--space", help="a Kibana space id (default: the default space)")
    imp.add_argument("--file", help="an NDJSON export (default: the shipped one)")
    add_json_flag(imp)


def _user(by: str | None) -> str | None:
    import getpass

    return by or getpass.getuser()


def _parse_matchers(pairs: list[str]) -> dict[str, str]:
    matchers = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ConfigError(f"--match {pair!r}: expected KEY=VALUE, e.g. entity=Cobalt Motors")
        matchers[key.strip()] = value.strip()
    return matchers


def _table(alerts: list[Alert]) -> list[str]:
    width = max(len(a.alert_id) for a in alerts)
    return [
        f"{a.alert_id:<{width}}  {a.status:<12} {a.severity:<8} {a.rule_type:<9} "
        f"{a.timestamp:%Y-%m-%d %H:%M}  " + ", ".join(f"{k}={v}" for k, v in a.group.items())
        for a in alerts
    ]


async def alerts_command(args: argparse.Namespace, settings: Settings) -> int:
    es = make_client(settings, resolve_endpoints(settings))
    try:
        if args.action == "list":
            found = await list_alerts(
                es, status=args.status, rule=args.rule, rule_type=args.type, size=args.limit
            )
            print("\n".join(_table(found)) if found else "no alerts")
            if args.json:
                print_json({"alerts": [a.model_dump(mode="json") for a in found]})
            return 0
        if args.action == "show":
            alert = await get_alert(es, args.alert_id)
            if alert is None:
                raise ConfigError(f"no alert {args.alert_id}")
            if args.json:
                print_json(alert.model_dump(mode="json"))
            else:
                print(json.dumps(alert.model_dump(mode="json"), indent=2))
                if evidence := evidence_text(alert, indent=""):
                    print("\n".join(evidence))  # the match, readable
            return 0
        status = "acknowledged" if args.action == "ack" else "resolved"
        changed = await set_status(es, args.alert_id, status, by=_user(args.by))
        if changed is None:
            if await get_alert(es, args.alert_id) is None:
                raise ConfigError(f"no alert {args.alert_id}")
            print(f"{args.alert_id} unchanged (already {status} or resolved)")
        else:
            print(f"{args.alert_id} {status}")
        if args.json:
            print_json(
                {"alert_id": args.alert_id, "status": status, "changed": changed is not None}
            )
        return 0
    finally:
        await es.close()


async def silence_command(args: argparse.Namespace, settings: Settings) -> int:
    es = make_client(settings, resolve_endpoints(settings))
    now = datetime.now(UTC)
    try:
        if args.action == "add":
            try:
                duration = parse_duration(args.duration)
            except ValueError as e:
                raise ConfigError(f"--for: {e}") from None
            matchers = _parse_matchers(args.match)
            silence = Silence(
                silence_id=new_silence_id(matchers, now),
                matchers=matchers,
                starts_at=now,
                ends_at=now + duration,
                reason=args.reason,
                created_by=_user(args.by),
            )
            await install_templates(es)
            await add_silence(es, silence)
            print(
                f"{silence.silence_id} silences {matchers} until {silence.ends_at:%Y-%m-%d %H:%M}Z"
            )
            if args.json:
                print_json(silence.model_dump(mode="json"))
            return 0
        if args.action == "list":
            found = await list_silences(es, active_at=None if args.all else now)
            for s in found:
                state = "active" if s.active(now) else "expired"
                matchers = " ".join(f"{k}={v}" for k, v in s.matchers.items())
                print(
                    f"{s.silence_id}  {state:<7} until {s.ends_at:%Y-%m-%d %H:%M}Z  "
                    f"{matchers}  ({s.reason}, {s.created_by or '?'})"
                )
            if not found:
                print("no silences")
            if args.json:
                print_json(
                    {
                        "silences": [
                            {**s.model_dump(mode="json"), "active": s.active(now)} for s in found
                        ]
                    }
                )
            return 0
        if not await expire_silence(es, args.silence_id, now):
            raise ConfigError(f"no silence {args.silence_id}")
        print(f"{args.silence_id} expired")
        if args.json:
            print_json({"silence_id": args.silence_id, "expired": True})
        return 0
    finally:
        await es.close()


def rules_command(args: argparse.Namespace, settings: Settings) -> int:
    from pathlib import Path

    directory = Path(args.dir) if args.dir else settings.rules_dir
    rules = load_rules(directory)
    if args.action == "check":
        disabled = len(rules.files) - len(rules)
        print(
            f"{len(rules)} rules OK in {directory}"
            + (f" ({disabled} disabled)" if disabled else "")
        )
        if args.json:
            print_json(
                {"ok": True, "dir": str(directory), "enabled": len(rules), "disabled": disabled}
            )
        return 0
    for r in rules:
        print(
            f"{r.name:<34} {r.type:<9} {r.severity:<8} by {','.join(r.group_by) or '-':<28} "
            f"-> {','.join(r.notify) or '-'}"
        )
    if args.json:
        print_json(
            {
                "rules": [
                    {
                        "name": r.name,
                        "type": r.type,
                        "severity": r.severity,
                        "group_by": r.group_by,
                        "notify": r.notify,
                        "file": str(rules.files[r.name]),
                    }
                    for r in rules
                ]
            }
        )
    return 0


async def kibana_command(args: argparse.Namespace, settings: Settings) -> int:
    from pathlib import Path

    from indexer.kibana import import_saved_objects, saved_objects_path

    url = args.url or settings.kibana_url
    if not url:
        raise ConfigError("no Kibana URL: pass --url or set ARGUS_KIBANA_URL")
    password = settings.es_password.get_secret_value() if settings.es_password else None
    api_key = settings.es_api_key.get_secret_value() if settings.es_api_key else None
    summary = await import_saved_objects(
        url,
        Path(args.file) if args.file else saved_objects_path(),
        username=settings.es_username,
        password=password,
        api_key=api_key,
        space=args.space,
        ca_file=settings.es_ca_certs,
    )
    # A refused object raises KibanaImportError: reaching here means all of them loaded.
    print(f"imported {summary.success_count} saved objects into {url}")
    if args.json:
        print_json({"imported": summary.success_count, "url": url})
    return 0
