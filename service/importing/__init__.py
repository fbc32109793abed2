"""`masthead import`: articles from Markdown with YAML front matter, and WordPress WXR.

Imports are idempotent: each article remembers where it came from (`md:<slug>`,
`wxr:<site>:<post id>`) and a re-run saves a new revision of it instead of a
second copy. Every file is validated on its own; a bad one is reported with its
file and line and the others still import.

    common.py     the report, ImportFailure, sections, authors, images, saving an article
    markdown.py   Markdown files with YAML front matter
    wxr.py        WordPress exports
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path

from service import models
from service.errors import UserError
from service.importing import common
from service.importing.common import ImportFailure, Problem, Report
from service.importing.links import link_pending, normalise
from service.importing.markdown import import_markdown, link_related
from service.importing.wxr import import_wxr

MARKDOWN_SUFFIXES = {".md", ".markdown"}
MAX_FILE_BYTES = 20 * 1024 * 1024


def _files(paths: Iterable[Path]) -> list[Path]:
    out = []
    for path in paths:
        if path.is_dir():
            out.extend(sorted(p for p in path.rglob("*") if p.suffix.lower() in MARKDOWN_SUFFIXES | {".xml"}))
        else:
            out.append(path)
    return out


def _bar(done: int, total: int, label: str) -> None:
    width = 25
    filled = width * done // max(total, 1)
    sys.stderr.write(f"\r{label:<10} [{'#' * filled}{' ' * (width - filled)}] {done}/{total}")
    if done == total:
        sys.stderr.write("\n")
    sys.stderr.flush()


async def import_paths(paths: list[Path], by: str = "import", publish: bool = True, progress: bool = False,
                       base_url: str = "") -> Report:
    """Import every file (folders: their .md, .markdown and .xml files), then link related articles and
    the links to pages imported after the page linking to them. `base_url`: the site's default origin
    (MASTHEAD_PUBLIC_BASE_URL); hrefs on it, or on the site settings' own, are paths of this site."""
    report = Report()
    stored = await models.SiteSettings.first()
    origins = {stored.base_url if stored is not None else "", base_url}
    report.links.base_urls = tuple(normalise(origin) for origin in origins if origin)
    pending_related: list = []
    pending_translations: list = []  # translation_of, linked once every file is in
    files = _files(paths)
    markdown_total = sum(1 for p in files if p.suffix.lower() in MARKDOWN_SUFFIXES)
    markdown_done = 0
    for path in files:
        try:
            if not path.is_file():
                raise ImportFailure("no such file.")
            if path.stat().st_size > MAX_FILE_BYTES:
                raise ImportFailure(f"larger than {MAX_FILE_BYTES // 1024 // 1024} MB.")
            if path.suffix.lower() in MARKDOWN_SUFFIXES:
                markdown_done += 1
                await import_markdown(path, by, publish, report, pending_related, pending_translations)
            elif path.suffix.lower() == ".xml":
                await import_wxr(path, by, publish, report, (lambda d, t: _bar(d, t, path.name[:10])) if progress else (lambda d, t: None),
                                 pending_translations)
            else:
                raise ImportFailure("not a .md, .markdown or .xml file.")
        except ImportFailure as error:
            report.problems.append(Problem(path, error.line, error.message))
        except UnicodeDecodeError:
            report.problems.append(Problem(path, None, "not UTF-8 text."))
        except UserError as error:
            report.problems.append(Problem(path, None, error.message))
        except Exception as error:  # noqa: BLE001 - one odd file must not stop the others
            report.problems.append(Problem(path, None, f"could not import: {type(error).__name__}: {error}"))
        if progress and path.suffix.lower() in MARKDOWN_SUFFIXES:
            _bar(markdown_done, markdown_total, "markdown")
    await link_related(pending_related, report, by, publish)
    await link_pending(report.links, by)
    await common.link_translations(pending_translations, report)
    return report




__all__ = ["ImportFailure", "Problem", "Report", "import_paths"]
