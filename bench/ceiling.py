"""The ceiling of our HTTP stack: bare Starlette on uvicorn answering a fixed JSON body.

BENCH_BODY_FILE names a file whose bytes are returned for every GET or POST /graphql.
"""

from __future__ import annotations

import os
from pathlib import Path

from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

BODY = Path(os.environ["BENCH_BODY_FILE"]).read_bytes()


async def graphql(request) -> Response:
    await request.body()
    return Response(BODY, media_type="application/json")


app = Starlette(routes=[Route("/graphql", graphql, methods=["GET", "POST"])])
