"""Reading a folder of articles: metadata, cleaning, and the files that cannot be used."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import yaml
from pydantic import BaseModel

from .errors import CorpusError
from .models import Document, Skipped
from .text import clean_lines, is_heading, normalize

SUFFIXES = (".txt", ".md")
MANIFEST = "sources.yaml"
_HEADER = re.compile(r"^(source|url|published|date|authors?|outlet|title):\s*(.*)$", re.IGNORECASE)
_HEADER_FIELDS = {"source": "outlet", "outlet": "outlet", "url": "url", "published": "date", "date": "date",
                  "author": "authors", "authors": "authors", "title": "title"}


class SourceMeta(BaseModel):
    """What the manifest or a header block says about one article."""

    title: str | None = None
    outlet: str | None = None
    date: str | None = None
    url: str | None = None
    authors: str | None = None


def load_manifest(corpus_dir: Path) -> dict[str, SourceMeta]:
    """Per-article metadata from `sources.yaml` (source id -> fields), if the corpus has one."""
    path = corpus_dir / MANIFEST
    if not path.exists():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise CorpusError(f"{path} is not valid YAML ({exc}); fix it or delete it.") from exc
    if not isinstance(data, dict):
        raise CorpusError(f"{path} must map source ids to fields (title, outlet, date, url).")
    return {str(key): SourceMeta.model_validate(value or {}) for key, value in data.items()}


def corpus_files(corpus_dir: Path) -> list[Path]:
    """The article files of a corpus folder, sorted; raises when there are none."""
    return _scan(corpus_dir)[0]


def _scan(corpus_dir: Path) -> tuple[list[Path], list[Skipped]]:
    """The readable article files of a corpus folder, sorted, and the entries with an article's name that are not
    (folders, dangling or looping symlinks, symlinks leading out of the folder), each with the reason."""
    if not corpus_dir.is_dir():
        raise CorpusError(
            f"Corpus folder {corpus_dir} does not exist: create it, add .txt or .md articles, "
            "then run `assistant index`."
        )
    root = corpus_dir.resolve()
    files: list[Path] = []
    skipped: list[Skipped] = []
    for path in sorted(p for p in corpus_dir.iterdir() if p.suffix.lower() in SUFFIXES):
        reason = None
        if path.is_symlink():
            try:
                target = path.resolve(strict=True)
            except (OSError, RuntimeError):  # missing target, or a loop
                target = None
            if target is None:
                reason = "a symlink that leads nowhere (missing target or a loop): fix or remove it"
            elif not target.is_relative_to(root):
                reason = "a symlink to a file outside the corpus folder: copy the article into the folder instead"
        if reason is None and path.is_dir():
            reason = "a folder, not an article file: articles must be files directly in the corpus folder"
        elif reason is None and not path.is_file():
            reason = "not a regular file"
        if reason is None:
            files.append(path)
        else:
            skipped.append(Skipped(path=path.name, reason=reason))
    if not files:
        raise CorpusError(
            f"Corpus folder {corpus_dir} has no .txt or .md articles: add some, then run `assistant index`."
        )
    return files, skipped


class ArticleError(ValueError):
    """One article cannot be read as it is; its message says what to fix (it is skipped, the rest indexed)."""


# A long feature runs to ~100 KB of text; a file past this is a dump of many articles (or not an article), and
# embedding it whole would hold a build for minutes with no article-level progress.
MAX_ARTICLE_BYTES = 2_000_000
MAX_TITLE_WORDS = 30  # a "headline" longer than this is a paragraph that lacks a full stop, not a title


def _split_header(lines: list[str]) -> tuple[SourceMeta, list[str]]:
    """Strip YAML front matter or a `Key: value` header block under a first-line title."""
    if lines and lines[0] == "---" and "---" in lines[1:]:
        end = lines.index("---", 1)
        try:
            front = yaml.safe_load("\n".join(lines[1:end])) or {}
        except yaml.YAMLError as exc:
            problem = str(exc).split("\n")[0]
            raise ArticleError(
                f"its front matter (between the --- lines) is not valid YAML ({problem}): fix it"
            ) from exc
        if not isinstance(front, dict):
            raise ArticleError("its front matter must be `key: value` lines (title, outlet, date, url, authors)")
        front_fields = {_HEADER_FIELDS[str(k).lower()]: str(v) for k, v in front.items()
                        if str(k).lower() in _HEADER_FIELDS}
        return SourceMeta(**front_fields), lines[end + 1 :]
    body = [line for line in lines if line]
    fields: dict[str, str] = {}
    i = 1
    while i < len(body) and (m := _HEADER.match(body[i])):
        if m.group(2):
            fields[_HEADER_FIELDS[m.group(1).lower()]] = m.group(2)
        i += 1
    if not fields:
        return SourceMeta(), lines
    return SourceMeta(title=body[0].lstrip("# ").strip(), **fields), body[i:]


def parse_article(raw: str, source_id: str, meta: SourceMeta | None = None) -> Document | None:
    """A cleaned Document, or None when nothing of the article body is left."""
    header, lines = _split_header(normalize(raw).split("\n"))
    title = (meta and meta.title) or header.title
    body: list[str] = []
    for line in clean_lines("\n".join(lines)):
        line = line.lstrip("#").strip() if line.startswith("#") else line
        if is_heading(line):
            # Headlines, section labels and related-story links are not body text; the first real one is the title.
            if len(line.split()) > MAX_TITLE_WORDS:
                body.append(line)
            elif title is None and len(line.split()) >= 3:
                title = line
            continue
        if line != title:
            body.append(line)
    if not body:
        return None
    if title is None:
        words = body[0].split()
        title = " ".join(words[:12]) + ("..." if len(words) > 12 else "")
    text = "\n".join(body)
    fields = (meta or SourceMeta()).model_dump(exclude_none=True)
    merged = {**header.model_dump(exclude_none=True), **fields}
    digest = hashlib.sha256((raw + json.dumps(merged, sort_keys=True)).encode()).hexdigest()
    return Document(
        source_id=source_id,
        title=title,
        text=text,
        outlet=merged.get("outlet"),
        date=merged.get("date"),
        url=merged.get("url"),
        authors=merged.get("authors"),
        content_hash=digest,
    )


def _read_text(path: Path) -> tuple[str, str | None]:
    """The file's text, or "" and why it cannot be used as text."""
    try:
        size = path.stat().st_size
        if size > MAX_ARTICLE_BYTES:
            mb = MAX_ARTICLE_BYTES // 1_000_000
            return "", f"{size / 1e6:.1f} MB, larger than an article can be ({mb} MB): split it into its articles"
        data = path.read_bytes()
    except OSError as exc:
        return "", f"cannot be read ({exc.strerror or exc}): check the file and the disk"
    if b"\x00" in data:
        return "", "binary file, not text: remove it or convert it to UTF-8 text"
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError:
        return "", "not UTF-8 text: re-save it as UTF-8"


class Fingerprint(BaseModel):
    """What an indexed article's file was, so that an unchanged file is not read through and cleaned again."""

    file_key: str  # sha256 of the file's text and its sources.yaml entry
    copy_keys: list[str]  # the hashes a copy of the article is recognised by


class CorpusScan(BaseModel):
    """A corpus folder read against what is already indexed."""

    docs: list[Document]  # new or changed articles, cleaned
    skipped: list[Skipped]
    unchanged: list[str]  # source ids of files exactly as indexed (not cleaned again)
    fingerprints: dict[str, Fingerprint]  # of every article in `docs`


def read_corpus(corpus_dir: Path) -> tuple[list[Document], list[Skipped]]:
    """Every usable article of the folder, plus the files skipped with the reason."""
    scan = scan_corpus(corpus_dir, {})
    return scan.docs, scan.skipped


def scan_corpus(corpus_dir: Path, known: dict[str, Fingerprint]) -> CorpusScan:
    """Like `read_corpus`, but a file whose fingerprint is in `known` (by source id) is only hashed: listed as
    unchanged, not cleaned again (re-indexing a large folder after one file changed stays fast)."""
    files, skipped = _scan(corpus_dir)
    manifest = load_manifest(corpus_dir)
    docs: list[Document] = []
    unchanged: list[str] = []
    prints: dict[str, Fingerprint] = {}
    seen: dict[str, str] = {}
    ids: dict[str, str] = {}
    for path in files:
        raw, reason = _read_text(path)
        if reason is None and not raw.strip():
            reason = "empty file"
        if reason is None and path.stem in ids:
            reason = f"same source id as {ids[path.stem]}: rename one of them"
        meta = manifest.get(path.stem)
        key = hashlib.sha256((raw + (meta.model_dump_json() if meta else "")).encode()).hexdigest()
        doc = None
        hashes: list[str] = []
        previous = known.get(path.stem)
        if reason is None and previous is not None and previous.file_key == key:
            hashes = previous.copy_keys
        elif reason is None:
            try:
                doc = parse_article(raw, path.stem, meta)
            except ArticleError as exc:
                reason = str(exc)
            else:
                if doc is None:
                    reason = "no article text left after removing boilerplate"
                else:
                    # Same cleaned body, or same file content: a copy of an article whose metadata comes from
                    # sources.yaml is parsed differently (its first line becomes its title) but is the same article.
                    hashes = [hashlib.sha256(x.encode()).hexdigest() for x in (doc.text, " ".join(raw.split()))]
        if reason is None:
            original = next((seen[h] for h in hashes if h in seen), None)
            if original is not None:
                reason = f"duplicate of {original}"
            else:
                seen.update(dict.fromkeys(hashes, path.name))
                ids[path.stem] = path.name
                if doc is None:
                    unchanged.append(path.stem)
                else:
                    docs.append(doc)
                    prints[path.stem] = Fingerprint(file_key=key, copy_keys=hashes)
        if reason is not None:
            skipped.append(Skipped(path=path.name, reason=reason))
    return CorpusScan(docs=docs, skipped=skipped, unchanged=unchanged, fingerprints=prints)
