"""`masthead` subcommands for the admin's chores: tokens, comments, webhooks, purges, images."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from service.db import with_database
from service.settings import Settings


def cmd_token(args, settings: Settings) -> int:
    from datetime import timedelta

    from service import auth, models
    from service.clock import now

    async def work():
        if args.action == "create":
            expires = timedelta(days=args.expires_days) if args.expires_days else None
            raw, token = await auth.create_token(name=args.name, role=models.Role(args.role), expires_in=expires)
            print(f"Created {token.role.value} token {token.id} ({token.name}); it is shown once:")
            print(raw)
        elif args.action == "list":
            for token in await models.ApiToken.all().order_by("id"):
                if token.revoked_at:
                    state = "revoked"
                elif token.expires_at and token.expires_at <= now():
                    state = "expired " + token.expires_at.isoformat()
                else:
                    state = "active, expires " + token.expires_at.isoformat() if token.expires_at else "active"
                print(f"{token.id}\t{token.role.value}\t{token.name}\t{state}")
        else:
            if not await auth.revoke_token(args.id):
                raise RuntimeError(f"No active token {args.id}.")
            print(f"Revoked token {args.id}.")

    try:
        asyncio.run(with_database(settings, work))
    except (RuntimeError, ValueError) as error:
        print(str(error), file=sys.stderr)
        return 1
    return 0


def cmd_comments(args, settings: Settings) -> int:
    from service import comments, events, models
    from service.errors import UserError

    events.configure(settings.redis_url)

    async def work():
        if args.action == "list":
            rows, _ = await comments.queue(models.CommentStatus(args.status), args.limit)
            for c in rows:
                body = c.body.replace("\n", " ")[:70]
                print(f"{c.id}\t{c.status.value}\tarticle {c.article_id}\t{c.author_name} <{c.author_email}>\t{body}")
            if not rows:
                print(f"No {args.status} comments.")
        else:
            for comment_id in args.ids:
                comment = await comments.moderate(comment_id, args.action)
                print(f"Comment {comment.id} is now {comment.status.value}.")

    try:
        asyncio.run(with_database(settings, work))
    except UserError as error:
        print(error.message, file=sys.stderr)
        return 1
    return 0


def cmd_webhooks(args, settings: Settings) -> int:
    from service import models, webhooks

    async def work():
        if args.action == "deliver":
            sent = await webhooks.deliver_due(limit=args.limit, allow_private=settings.webhook_allow_private)
            pending = await models.WebhookDelivery.filter(status="pending").count()
            print(f"Attempted {sent} deliveries; {pending} pending.")
        else:
            rows = await models.WebhookDelivery.all().select_related("webhook").order_by("-id").limit(args.limit)
            for d in rows:
                print(f"{d.delivery_id}\t{d.event}\t{d.status}\tattempts {d.attempts}\t{d.webhook.url}\t{d.last_error}")
            if not rows:
                print("No deliveries.")

    asyncio.run(with_database(settings, work))
    return 0


def cmd_purges(args, settings: Settings) -> int:
    from service import purge_models, varnish

    async def work():
        if args.action == "retry":
            done = await varnish.retry_due(settings.purge_attempts, everything=args.all)
            left = await purge_models.PurgeRetry.all().count()
            print(f"Purged {done.delivered} queued purges; {done.requeued} failed again, {done.dropped} dropped "
                  f"after their last attempt; {left} queued.")
        else:
            rows = await purge_models.PurgeRetry.all().order_by("next_attempt_at", "id").limit(args.limit)
            for row in rows:
                print(f"{row.target}\tattempts {row.attempts}\tnext {row.next_attempt_at.isoformat()}\t"
                      f"{len(row.keys.split())} keys\t{row.last_error}")
            if not rows:
                print("No queued purges.")

    asyncio.run(with_database(settings, work))
    return 0


def cmd_images(args, settings: Settings) -> int:
    from service import media
    from service.errors import UserError

    async def work():
        image = await media.add_image(
            media.LocalStorage(settings.media_dir), Path(args.file).read_bytes(), title=args.title, alt=args.alt,
            credit=args.credit, caption=args.caption,
            focal_x=args.focal[0] if args.focal else None, focal_y=args.focal[1] if args.focal else None,
        )
        print(f"Image {image.id}: {image.width}x{image.height} {image.format}, {image.url}")

    try:
        asyncio.run(with_database(settings, work))
    except (UserError, OSError) as error:
        print(getattr(error, "message", str(error)), file=sys.stderr)
        return 1
    return 0


def focal_point(value: str) -> tuple[float, float]:
    try:
        x, y = (float(part) for part in value.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError("use X,Y with numbers from 0 to 1, such as 0.5,0.3") from None
    return x, y
