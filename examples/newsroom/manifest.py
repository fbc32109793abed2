"""The site's persisted operations: its .graphql files, each with the fragments it spreads, by SHA-256.

A frontend build does the same (Apollo's generate-persisted-query-manifest,
graphql-codegen's client preset): every operation becomes one self-contained
document, and the API is told the documents ahead of time (`masthead operations
register MANIFEST`), so the site can send only their hashes.

    python -m examples.newsroom.manifest -o data/newsroom-operations.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from graphql import FragmentDefinitionNode, FragmentSpreadNode, OperationDefinitionNode, parse, visit
from graphql.language import Visitor

HERE = Path(__file__).resolve().parent
OPERATIONS = HERE / "operations"
FRAGMENTS = HERE / "fragments"


@dataclass(frozen=True)
class Operation:
    name: str
    kind: str  # query, mutation or subscription
    document: str  # the exact text sent and hashed: the operation, then the fragments it uses

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.document.encode()).hexdigest()


class _Spreads(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def enter_fragment_spread(self, node: FragmentSpreadNode, *_) -> None:
        self.names.add(node.name.value)


def _spreads(node) -> set[str]:
    found = _Spreads()
    visit(node, found)
    return found.names


def _fragments(directory: Path) -> dict[str, tuple[str, set[str]]]:
    """Fragment name -> (its text, the fragments it spreads)."""
    found: dict[str, tuple[str, set[str]]] = {}
    for path in sorted(directory.glob("*.graphql")):
        for definition in parse(path.read_text(encoding="utf-8")).definitions:
            if not isinstance(definition, FragmentDefinitionNode):
                raise ValueError(f"{path}: only fragments belong in {directory.name}/")
            source = definition.loc.source.body[definition.loc.start:definition.loc.end]
            found[definition.name.value] = (source, _spreads(definition))
    return found


def build(operations: Path = OPERATIONS, fragments: Path = FRAGMENTS) -> dict[str, Operation]:
    """Every operation of the site by name, fragments appended in name order (transitively)."""
    known = _fragments(fragments)
    built: dict[str, Operation] = {}
    for path in sorted(operations.glob("*.graphql")):
        text = path.read_text(encoding="utf-8").strip()
        definitions = parse(text).definitions
        if len(definitions) != 1 or not isinstance(definitions[0], OperationDefinitionNode) or definitions[0].name is None:
            raise ValueError(f"{path}: one named operation per file (fragments go in {fragments.name}/)")
        operation = definitions[0]
        wanted, queue = set(), list(_spreads(operation))
        while queue:
            name = queue.pop()
            if name in wanted:
                continue
            if name not in known:
                raise ValueError(f"{path}: no fragment {name} in {fragments.name}/")
            wanted.add(name)
            queue.extend(known[name][1])
        document = "\n\n".join([text, *(known[name][0] for name in sorted(wanted))]) + "\n"
        name = operation.name.value
        if name in built:
            raise ValueError(f"{path}: a second operation named {name}")
        built[name] = Operation(name, operation.operation.value, document)
    return built


def apollo_manifest(operations: dict[str, Operation]) -> dict:
    """The manifest in Apollo's persisted-query format, which `masthead operations register` reads."""
    return {
        "format": "apollo-persisted-query-manifest",
        "version": 1,
        "operations": [
            {"id": op.sha256, "name": op.name, "type": op.kind, "body": op.document} for op in operations.values()
        ],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the newsroom site's persisted-operation manifest.")
    parser.add_argument("-o", "--output", help="file to write (default: standard output)")
    parser.add_argument("--format", choices=("apollo", "hash-map"), default="apollo",
                        help="Apollo's manifest, or a {sha256: document} object (graphql-codegen's client preset)")
    args = parser.parse_args(argv)
    operations = build()
    if args.format == "apollo":
        data = apollo_manifest(operations)
    else:
        data = {op.sha256: op.document for op in operations.values()}
    text = json.dumps(data, indent=2) + "\n"
    if args.output:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        print(text, end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
