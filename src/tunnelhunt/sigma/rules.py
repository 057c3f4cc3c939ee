"""Loading Sigma content: rule files and folders → one pySigma collection, filters applied, errors kept."""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

from tunnelhunt.collector import no_collection
from tunnelhunt.content.cache import ContentCache, digest
from tunnelhunt.content.validated import decode, encode
from tunnelhunt.sigma.keys import set_rule_key

if TYPE_CHECKING:  # pySigma is imported when rules are loaded: a hunt without Sigma rules never needs it
    from sigma.correlations import SigmaCorrelationRule
    from sigma.rule import SigmaRule

    from tunnelhunt.sigma.compiler import SigmaCompiler

#: What a Sigma file holds that tunnelhunt runs: a detection rule or a correlation rule.
SigmaRuleKind: TypeAlias = "SigmaRule | SigmaCorrelationRule"


_ID = re.compile(r"^id:\s*['\"]?([0-9a-fA-F-]{36})", re.MULTILINE)


@dataclass
class SigmaContent:
    """The rules to run (detection and correlation rules, Sigma filters already applied) and load errors."""

    rules: list[SigmaRule] = field(default_factory=list)
    correlations: list[SigmaCorrelationRule] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)
    #: where converted rules are kept between runs (None: converted on every run)
    cache: ContentCache | None = None
    _compiler: SigmaCompiler | None = field(default=None, init=False, repr=False, compare=False)

    def compiler(self) -> SigmaCompiler:
        """The compiler these rules convert with: the shipped mappings, and `cache` when there is one."""
        from tunnelhunt.sigma.compiler import SigmaCompiler, default_compiler

        if self._compiler is None:
            self._compiler = SigmaCompiler(cache=self.cache) if self.cache is not None else default_compiler()
        return self._compiler

    def runnable(self) -> list[SigmaRuleKind]:
        """The rules that produce output: not those only correlations use (unless they say `generate`)."""
        every: list[SigmaRuleKind] = [*self.rules, *self.correlations]
        return [rule for rule in every if getattr(rule, "_output", True)]

    @property
    def collection_size(self) -> int:
        return len(self.rules) + len(self.correlations)


def sigma_files(paths: Iterable[Path]) -> list[Path]:
    """Every `.yml`/`.yaml` file of the given files and folders, sorted, hidden entries skipped."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(
                p
                for p in path.rglob("*")
                if p.suffix in (".yml", ".yaml")
                and p.is_file()
                and not any(s.startswith(".") for s in p.relative_to(path).parts)  # hidden below the folder
            )
        elif path.is_file():
            found.append(path)
    return sorted(set(found))


def rule_location(rule: SigmaRule | SigmaCorrelationRule) -> str:
    """The file a rule came from (or `<rule>` for one built in memory)."""
    return str(rule.source.path) if rule.source and rule.source.path else "<rule>"


def _parse_file(path: Path) -> tuple[list[Any], bytes]:
    """The file's YAML documents (libyaml when PyYAML has it) and its bytes; errors name the file and line."""
    import yaml  # only when there are Sigma rules: `import tunnelhunt.sigma` is part of every hunt

    data = path.read_bytes()
    stream = io.StringIO(data.decode("utf-8"))
    stream.name = str(path)  # the loader's error marks name the file, as pySigma's own loading did
    # libyaml's safe loader when PyYAML was built with it, else the pure-Python one (the same documents)
    return list(yaml.load_all(stream, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))), data


def load_content(paths: Iterable[Path], cache: ContentCache | None = None) -> SigmaContent:
    """Parse rule files into one collection (so correlations and filters resolve across files).

    The same steps as pySigma's `SigmaCollection.load_ruleset` (one collection per file, filters
    collected, merged, references resolved once), but the YAML is parsed by libyaml (pySigma's pure-Python
    loader was a third of the time of loading SigmaHQ) and a file that is not YAML is a load error of
    that file instead of an exception that loses every other rule. Each rule gets its cache key
    (`rule_key`): its file's bytes, its place in the file, and every filter of the collection.
    The garbage collector is paused meanwhile (`no_collection`: 2.5 → 1.4 CPU s on SigmaHQ's Windows rules).
    With a `cache`, the files' parsed documents are kept there (`_cached_documents`)."""
    with no_collection():
        return _load_content(paths, cache)


def _load_content(paths: Iterable[Path], cache: ContentCache | None = None) -> SigmaContent:
    from sigma.collection import SigmaCollection
    from sigma.correlations import SigmaCorrelationRule
    from sigma.exceptions import SigmaRuleLocation
    from sigma.rule import SigmaRule

    content = SigmaContent()
    collections: list[SigmaCollection] = []
    keyed: list[tuple[Any, str]] = []
    filter_texts: list[bytes] = []
    for path, parsed in _cached_documents(sigma_files(paths), cache):
        if isinstance(parsed, str):
            content.errors.append((str(path), parsed))
            continue
        documents, data = parsed
        collection = SigmaCollection.from_dicts(
            documents, collect_errors=True, source=SigmaRuleLocation(path), collect_filters=True,
            resolve_references=False,
        )  # fmt: skip
        collections.append(collection)
        file_key = digest(data)
        keyed.extend((rule, digest(file_key, str(index))) for index, rule in enumerate(collection.rules))
        if collection.filters:
            filter_texts.append(data)
    filters_key = digest(*filter_texts)
    for rule, key in keyed:
        set_rule_key(rule, digest(key, filters_key))
    collection = SigmaCollection.merge(collections, resolve_references=False)
    try:
        collection.resolve_rule_references()
    except Exception as exc:  # a dangling reference must not hide every other rule
        content.errors.append(("<collection>", f"rule references: {exc}"))
    for rule in collection.rules:
        location = rule_location(rule)
        if rule.errors:
            content.errors.extend((location, str(error)) for error in rule.errors)
            continue
        if isinstance(rule, SigmaCorrelationRule):
            content.correlations.append(rule)
        elif isinstance(rule, SigmaRule):
            content.rules.append(rule)
    return content


#: Parsed YAML kept in the cache, in `content.validated`'s encoding of plain data (lists, text-keyed
#: mappings, scalars, dates); `_YAML_FORMAT` is bumped when that encoding changes.
_YAML_KIND = "sigma-yaml"
_YAML_FORMAT = "validated-1"


def _cached_documents(
    files: list[Path], cache: ContentCache | None
) -> Iterator[tuple[Path, tuple[list[Any], bytes] | str]]:
    """Each file's YAML documents and bytes, or why it is not readable.

    Why: libyaml took ~1.1 CPU s to parse SigmaHQ's 2,407 Windows rules on every run, reading the same
    documents as JSON ~0.1 s. With a `cache`, the documents of all the files are one entry found by
    every file's name and bytes (and PyYAML's version); a file whose documents hold what JSON cannot
    (`validated.encode`) is parsed on every run."""
    import yaml  # only with Sigma rules (see `_parse_file`); its version is part of the cache key

    if cache is None:
        for path in files:
            try:
                yield path, _parse_file(path)
            except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
                yield path, f"not readable as YAML: {exc}"
        return
    texts: list[bytes | None] = []
    for path in files:
        try:
            texts.append(path.read_bytes())
        except OSError:
            texts.append(None)
    key = digest(
        _YAML_KIND,
        _YAML_FORMAT,
        yaml.__version__,
        *[f"{p}\0{digest(t) if t is not None else ''}" for p, t in zip(files, texts, strict=True)],
    )
    entry = cache.get(_YAML_KIND, key)
    kept = entry if isinstance(entry, list) and len(entry) == len(files) else [None] * len(files)
    stored: list[Any] = []
    for path, data, encoded in zip(files, texts, kept, strict=True):
        documents = decode(encoded, {}) if data is not None and encoded is not None else None
        if data is not None and isinstance(documents, list):
            stored.append(encoded)
            yield path, (documents, data)
            continue
        try:
            parsed = _parse_file(path)
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            stored.append(None)
            yield path, f"not readable as YAML: {exc}"
            continue
        stored.append(encode(parsed[0]))
        yield path, parsed
    if entry != stored:
        cache.put(_YAML_KIND, key, stored)


def rule_ids(root: Path) -> dict[str, Path]:
    """Rule id → file, read from the files' text (no parsing), for finding a rule by id in a large tree."""
    index: dict[str, Path] = {}
    for path in sigma_files([root]):
        match = _ID.search(path.read_text(encoding="utf-8", errors="replace"))
        if match:
            index.setdefault(match.group(1).lower(), path)
    return index
