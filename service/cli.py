"""The `masthead` command: serve, migrate, seed, import, export-schema (admin chores: service/cli_admin.py)."""

from __future__ import annotations

import argparse
import asyncio
import copy
import sys
import time
from dataclasses import replace
from pathlib import Path

from service import cli_admin, db
from service.models import CommentStatus, Role
from service.settings import Settings

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "schema" / "schema.graphql"


async def migrate(settings: Settings, quiet: bool = False) -> None:
    """Apply every pending migration."""
    from tortoise import Tortoise
    from tortoise.migrations.api import migrate as run_migrations

    if settings.is_sqlite:
        db.ensure_sqlite_directory(settings.database_url)

    def progress(event: str, app_label: str, name: str) -> None:
        if not quiet and event.endswith("start"):
            print(f"  applying {app_label}.{name}")

    # No statement timeout: it is for requests; rebuilding a large table may take longer. A process
    # that migrates, then serves, keeps its own afterwards.
    with db.statement_timeout(0):
        try:
            await run_migrations(config=db.tortoise_config(replace(settings, statement_timeout=0)), progress=progress)
        finally:
            await Tortoise.close_connections()


def cmd_migrate(args, settings: Settings) -> int:
    asyncio.run(wait_for_database(settings, args.wait))
    asyncio.run(migrate(settings))
    print("Migrations applied.")
    return 0


async def wait_for_database(settings: Settings, seconds: float) -> None:
    """Retry connecting until the database answers or the time is up."""
    from tortoise import Tortoise

    deadline = time.monotonic() + seconds
    while True:
        try:
            await db.with_database(settings, lambda: db.connection().execute_query("SELECT 1"))
            return
        except Exception as error:  # the database is not up yet
            if time.monotonic() >= deadline:
                raise SystemExit(f"Database not reachable: {error}") from None
            print(f"Waiting for the database: {error}", file=sys.stderr)
            await Tortoise.close_connections()
            await asyncio.sleep(1)


def cmd_seed(args, settings: Settings) -> int:
    from service import media, seed

    async def work():
        if args.if_empty and not await seed.is_empty():
            return None
        if args.demo:
            return await seed.seed_demo(media.LocalStorage(settings.media_dir))
        return await seed.seed_synthetic(
            args.articles, args.comments_per_article, seed=args.seed, progress=not args.quiet
        )

    if not (args.demo or args.synthetic):
        print("Choose --demo or --synthetic.", file=sys.stderr)
        return 2
    started = time.monotonic()
    try:
        result = asyncio.run(db.with_database(settings, work))
    except RuntimeError as error:
        print(f"Not seeded: {error}", file=sys.stderr)
        return 1
    if result is None:
        print("The database has content already; nothing seeded.")
    else:
        counts = ", ".join(f"{v} {k}" for k, v in result.items())
        print(f"Seeded {counts} in {time.monotonic() - started:.1f}s.")
    return 0


def cmd_export_schema(args, settings: Settings) -> int:
    from service.app import export_sdl

    sdl = export_sdl()
    if args.output == "-":
        sys.stdout.write(sdl)
    else:
        Path(args.output).write_text(sdl)
        print(f"Wrote {args.output}")
    return 0


def cmd_serve(args, settings: Settings) -> int:
    import uvicorn

    problem = settings.secret_problem()
    if problem:
        print(f"masthead: {problem}", file=sys.stderr)
        return 2
    if not args.no_migrate:
        asyncio.run(wait_for_database(settings, args.wait))
        asyncio.run(migrate(settings, quiet=True))
    if args.seed_demo:
        from service import media, seed

        async def work():
            if await seed.is_empty():
                print("Empty database: loading the demo site.")
                await seed.seed_demo(media.LocalStorage(settings.media_dir))

        asyncio.run(db.with_database(settings, work))
    print(f"Serving http://{args.host or settings.host}:{args.port or settings.port}/graphql")
    uvicorn.run(
        "service.app:create_app",
        factory=True,
        host=args.host or settings.host,
        port=args.port or settings.port,
        workers=args.workers,
        log_level="info",
        log_config=log_config(),
        access_log=args.access_log,
        ws_max_size=settings.max_body_bytes,  # larger WebSocket messages: closed with 1009 before they are read
        # The client address is ours to decide (MASTHEAD_TRUSTED_PROXIES): uvicorn's own
        # handling would believe X-Forwarded-For from 127.0.0.1, any same-host proxy.
        proxy_headers=False,
        http="service.runtime.serving:GracefulHttpToolsProtocol",
        timeout_keep_alive=max(1, int(settings.keep_alive_seconds)),
    )
    return 0


def log_config() -> dict:
    """uvicorn's logging, plus the service's own loggers at INFO on stderr (one line per client
    error, a traceback per unexpected one), each line naming its logger."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["formatters"]["app"] = {"()": "uvicorn.logging.DefaultFormatter", "fmt": "%(levelprefix)s %(name)s: %(message)s"}
    config["handlers"]["app"] = {"formatter": "app", "class": "logging.StreamHandler", "stream": "ext://sys.stderr"}
    for name in ("masthead", "strawberry", "tortoise"):
        config["loggers"][name] = {"handlers": ["app"], "level": "INFO" if name == "masthead" else "WARNING", "propagate": False}
    return config


def cmd_publish_scheduled(args, settings: Settings) -> int:
    from service import publishing

    result = asyncio.run(db.with_database(settings, publishing.record_transitions))
    print(f"Scheduled pages: {result['published']} went live, {result['expired']} expired.")
    return 0


def cmd_import(args, settings: Settings) -> int:
    from service import importing

    async def work():
        return await importing.import_paths([Path(p) for p in args.paths], by=args.by, publish=not args.draft,
                                           progress=not args.quiet, base_url=settings.public_base_url)

    report = asyncio.run(db.with_database(settings, work))
    for problem in report.problems:
        print(f"{problem}", file=sys.stderr)
    print(report.summary())
    return 1 if report.problems and not (report.created or report.updated) else 0


def cmd_operations(args, settings: Settings) -> int:
    from service import models
    from service.app import register_operations

    async def work():
        if args.action == "register":
            result = await register_operations([Path(p) for p in args.paths])
            for problem in result.problems:
                print(problem, file=sys.stderr)
            print(f"Registered {result.added} operations ({result.known} already known, {len(result.problems)} refused).")
            return 1 if result.problems else 0
        for op in await models.PersistedOperation.all().order_by("name", "id"):
            print(f"{op.sha256}\t{op.name}")
        return 0

    return asyncio.run(db.with_database(settings, work))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="masthead", description="Masthead: a headless content service for news sites.")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="Migrate, then serve the API with uvicorn.")
    serve.add_argument("--host", help="Address to bind (default: HOST or 127.0.0.1).")
    serve.add_argument("--port", type=int, help="Port (default: PORT or 8000).")
    serve.add_argument("--workers", type=int, default=1, help="Worker processes (production: one per core).")
    serve.add_argument("--no-migrate", action="store_true", help="Do not apply migrations first.")
    serve.add_argument("--seed-demo", action="store_true", help="Load the demo site when the database is empty.")
    serve.add_argument("--access-log", action="store_true", help="Log every request.")
    serve.add_argument("--wait", type=float, default=30, help="Seconds to wait for the database.")
    serve.set_defaults(func=cmd_serve)

    mig = sub.add_parser("migrate", help="Apply database migrations.")
    mig.add_argument("--wait", type=float, default=0, help="Seconds to wait for the database to come up.")
    mig.set_defaults(func=cmd_migrate)

    seed = sub.add_parser("seed", help="Load demo or synthetic content into an empty database.")
    seed.add_argument("--demo", action="store_true", help="The demo newsroom.")
    seed.add_argument("--synthetic", action="store_true", help="A large generated site, for benchmarks.")
    seed.add_argument("--articles", type=int, default=1000, help="Synthetic articles (default 1000).")
    seed.add_argument("--comments-per-article", type=int, default=5, help="Approved comments per synthetic article.")
    seed.add_argument("--seed", type=int, default=42, help="Random seed of the synthetic site.")
    seed.add_argument("--if-empty", action="store_true", help="Do nothing when the database has pages.")
    seed.add_argument("--quiet", action="store_true", help="No progress bar.")
    seed.set_defaults(func=cmd_seed)

    token = sub.add_parser("token", help="Create, list and revoke API tokens.")
    token_sub = token.add_subparsers(dest="action", required=True)
    create = token_sub.add_parser("create", help="Create a token; prints it alone on the last line.")
    create.add_argument("--role", required=True, choices=[r.value for r in Role])
    create.add_argument("--name", required=True)
    create.add_argument("--expires-days", type=int, help="Days until the token stops working.")
    token_sub.add_parser("list", help="List tokens (never their secrets).")
    revoke = token_sub.add_parser("revoke", help="Revoke a token by id.")
    revoke.add_argument("id", type=int)
    token.set_defaults(func=cli_admin.cmd_token)

    moderation = sub.add_parser("comments", help="List and moderate comments.")
    moderation_sub = moderation.add_subparsers(dest="action", required=True)
    listing = moderation_sub.add_parser("list", help="Comments with a status, oldest first.")
    listing.add_argument("--status", default="pending", choices=[s.value for s in CommentStatus])
    listing.add_argument("--limit", type=int, default=50)
    for action in ("approve", "reject", "spam", "remove"):
        decide = moderation_sub.add_parser(action, help=f"{action.capitalize()} comments by id.")
        decide.add_argument("ids", type=int, nargs="+")
    moderation.set_defaults(func=cli_admin.cmd_comments)

    scheduled = sub.add_parser("publish-scheduled", help="Record passed go-live/expiry times and fire their webhooks.")
    scheduled.set_defaults(func=cmd_publish_scheduled)

    hooks = sub.add_parser("webhooks", help="Send due webhook deliveries, or list recent ones.")
    hooks_sub = hooks.add_subparsers(dest="action", required=True)
    deliver = hooks_sub.add_parser("deliver", help="Send the deliveries that are due now.")
    deliver.add_argument("--limit", type=int, default=100)
    recent = hooks_sub.add_parser("list", help="Recent deliveries, newest first.")
    recent.add_argument("--limit", type=int, default=20)
    hooks.set_defaults(func=cli_admin.cmd_webhooks)

    queued = sub.add_parser("purges", help="Retry the Varnish purges that failed, or list them.")
    queued_sub = queued.add_subparsers(dest="action", required=True)
    retry = queued_sub.add_parser("retry", help="Send the queued purges that are due now, one per Varnish.")
    retry.add_argument("--all", action="store_true", help="Also those not due yet (a Varnish just came back).")
    waiting = queued_sub.add_parser("list", help="Queued purges, next due first.")
    waiting.add_argument("--limit", type=int, default=20)
    queued.set_defaults(func=cli_admin.cmd_purges)

    imports = sub.add_parser("import", help="Import articles from Markdown files (YAML front matter) or WordPress WXR exports.")
    imports.add_argument("paths", nargs="+", help="Files or folders (*.md, *.markdown, *.xml).")
    imports.add_argument("--draft", action="store_true", help="Leave new imports unpublished.")
    imports.add_argument("--by", default="import", help="Name recorded on the revisions.")
    imports.add_argument("--quiet", action="store_true", help="No progress bar.")
    imports.set_defaults(func=cmd_import)

    trusted = sub.add_parser("operations", help="Register trusted documents (persisted operations) and list them.")
    trusted_sub = trusted.add_subparsers(dest="action", required=True)
    register = trusted_sub.add_parser("register", help="Store operations from an Apollo manifest, a {hash: document} JSON or .graphql files.")
    register.add_argument("paths", nargs="+")
    trusted_sub.add_parser("list", help="Registered operations: hash and name.")
    trusted.set_defaults(func=cmd_operations)

    images = sub.add_parser("images", help="Add images to the library.")
    images_sub = images.add_subparsers(dest="action", required=True)
    add = images_sub.add_parser("add", help="Store an image file (checked by content) and print its id.")
    add.add_argument("file")
    add.add_argument("--alt", default="", help="Alternative text.")
    add.add_argument("--title", default="")
    add.add_argument("--credit", default="")
    add.add_argument("--caption", default="", help="The library's default caption (shown under a hero image).")
    add.add_argument("--focal", type=cli_admin.focal_point, help="Focal point X,Y from 0 to 1 (left, top).")
    images.set_defaults(func=cli_admin.cmd_images)

    export = sub.add_parser("export-schema", help="Write the GraphQL SDL.")
    export.add_argument("--output", "-o", default=str(SCHEMA_FILE), help="File to write, or - for stdout.")
    export.set_defaults(func=cmd_export_schema)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except ValueError as error:  # a setting that cannot be used: say which, without a traceback
        print(f"masthead: {error}", file=sys.stderr)
        return 2
    return args.func(args, settings)


if __name__ == "__main__":
    sys.exit(main())
