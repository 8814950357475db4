"""Bad corpus input: clear errors, skipped files reported by name, nothing good lost."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant import Assistant, CorpusError, Settings
from assistant.corpus import MAX_ARTICLE_BYTES, read_corpus

from .fakes import FakeEmbedder


def test_missing_corpus_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match=r"does not exist: create it, add \.txt or \.md articles"):
        read_corpus(tmp_path / "nope")


def test_empty_corpus_says_what_to_do(tmp_path: Path) -> None:
    (tmp_path / "notes.pdf").write_bytes(b"%PDF")
    with pytest.raises(CorpusError, match=r"has no \.txt or \.md articles: add some"):
        read_corpus(tmp_path)


def test_bad_files_are_skipped_with_reasons(corpus_dir: Path) -> None:
    (corpus_dir / "binary.txt").write_bytes(b"\x00\x01\x02PNG")
    (corpus_dir / "latin1.txt").write_bytes("Caf\xe9 owners said the strike hurt trade.".encode("latin-1"))
    (corpus_dir / "empty.md").write_text("  \n", encoding="utf-8")
    (corpus_dir / "copy.txt").write_bytes((corpus_dir / "003_18e1d0701c846336.txt").read_bytes())
    (corpus_dir / "extra.md").write_text("# A title here\n\nA new article says something.\n", encoding="utf-8")
    docs, skipped = read_corpus(corpus_dir)
    reasons = {s.path: s.reason for s in skipped}
    assert reasons["binary.txt"].startswith("binary file")
    assert reasons["latin1.txt"].startswith("not UTF-8")
    assert reasons["empty.md"] == "empty file"
    assert reasons["copy.txt"] == "duplicate of 003_18e1d0701c846336.txt"
    assert {d.source_id for d in docs} >= {"extra", "000_e51b5d969b07c07d", "003_18e1d0701c846336"}
    assert next(d for d in docs if d.source_id == "extra").title == "A title here"


def test_index_reports_skips_and_keeps_good_files(tmp_path: Path, corpus_dir: Path) -> None:
    assistant = Assistant(Settings(corpus_dir=corpus_dir, data_dir=tmp_path / "d"), embedder=FakeEmbedder())
    first = assistant.index()
    assert len(first.added) == 5
    # A file that was indexed and is now unreadable keeps its indexed version.
    (corpus_dir / "004_1513c531622ec9e9.txt").write_bytes(b"\xff\xfe broken")
    (corpus_dir / "junk.txt").write_bytes(b"\x00\x00")
    report = assistant.index()
    assert {s.path for s in report.skipped} == {"004_1513c531622ec9e9.txt", "junk.txt"}
    assert report.removed == [] and report.added == []
    assert assistant.status().documents == 5


def test_a_copy_of_an_article_with_sources_yaml_metadata_is_a_duplicate(corpus_dir: Path) -> None:
    original = corpus_dir / "000_e51b5d969b07c07d.txt"
    (corpus_dir / "dup_copy.txt").write_bytes(original.read_bytes())
    docs, skipped = read_corpus(corpus_dir)
    assert [d.source_id for d in docs if d.source_id == "dup_copy"] == []
    assert any(s.path == "dup_copy.txt" and s.reason == f"duplicate of {original.name}" for s in skipped)


def test_links_and_folders_with_an_article_name_are_reported_not_read(tmp_path: Path, corpus_dir: Path) -> None:
    outside = tmp_path / "secret.txt"
    outside.write_text("A private note that is not an article. It must never be indexed.", encoding="utf-8")
    (corpus_dir / "dangling.txt").symlink_to(corpus_dir / "gone.txt")
    (corpus_dir / "loop.txt").symlink_to(corpus_dir / "loop.txt")
    (corpus_dir / "outside.txt").symlink_to(outside)
    (corpus_dir / "inside.txt").symlink_to(corpus_dir / "000_e51b5d969b07c07d.txt")
    (corpus_dir / "folder.txt").mkdir()
    docs, skipped = read_corpus(corpus_dir)
    reasons = {s.path: s.reason for s in skipped}
    assert "leads nowhere" in reasons["dangling.txt"] and "leads nowhere" in reasons["loop.txt"]
    assert "outside the corpus folder" in reasons["outside.txt"]
    assert "a folder" in reasons["folder.txt"]
    assert reasons["inside.txt"].startswith("duplicate of")  # a link inside the folder is read, like its target
    assert len(docs) == 5 and not any("private note" in d.text for d in docs)


def test_article_cards_still_load_with_a_dangling_link_in_the_folder(corpus_dir: Path) -> None:
    from assistant.rendering import ArticleLibrary

    library = ArticleLibrary(corpus_dir)
    (corpus_dir / "dangling.txt").symlink_to(corpus_dir / "gone.txt")
    assert library.get("000_e51b5d969b07c07d") is not None
    (corpus_dir / "new.txt").write_text("A new article arrived. It says something new about the attack.", "utf-8")
    assert library.get("new") is not None  # the folder changed and was read again, link and all


BODY = "Three drones attacked the residence on Sunday. The prime minister was unhurt, officials said.\n"


@pytest.mark.parametrize(
    ("name", "content", "said"),
    [
        ("unclosed.md", "---\ntitle: [unclosed\n---\n" + BODY, "front matter (between the --- lines) is not valid"),
        ("listed.md", "---\n- a\n- b\n---\n" + BODY, "front matter must be `key: value` lines"),
    ],
)
def test_one_bad_article_is_skipped_by_name_and_the_rest_indexed(
    tmp_path: Path, corpus_dir: Path, name: str, content: str, said: str
) -> None:
    (corpus_dir / name).write_text(content, encoding="utf-8")
    report = Assistant(Settings(corpus_dir=corpus_dir, data_dir=tmp_path / "d"), embedder=FakeEmbedder()).index()
    assert len(report.added) == 5
    assert [s.path for s in report.skipped] == [name] and said in report.skipped[0].reason


def test_a_front_matter_key_that_is_not_text_is_read(corpus_dir: Path) -> None:
    (corpus_dir / "intkey.md").write_text("---\n1: one\ntitle: Drones\n---\n" + BODY, encoding="utf-8")
    docs, skipped = read_corpus(corpus_dir)
    assert any(d.source_id == "intkey" and d.title == "Drones" for d in docs) and not skipped


def test_a_long_first_line_without_a_full_stop_is_body_not_a_title(tmp_path: Path, corpus_dir: Path) -> None:
    (corpus_dir / "long.txt").write_text(" ".join(["word"] * 300) + "\n" + BODY, encoding="utf-8")
    report = Assistant(Settings(corpus_dir=corpus_dir, data_dir=tmp_path / "d"), embedder=FakeEmbedder()).index()
    assert "long" in report.added and not report.skipped


def test_an_unreadable_file_is_skipped_with_the_reason(corpus_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    broken = corpus_dir / "broken.txt"
    broken.write_text(BODY, encoding="utf-8")
    real = Path.read_bytes

    def read_bytes(self: Path) -> bytes:
        if self.name == "broken.txt":
            raise OSError(5, "Input/output error")
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    docs, skipped = read_corpus(corpus_dir)
    assert len(docs) == 5
    assert [(s.path, s.reason) for s in skipped] == [
        ("broken.txt", "cannot be read (Input/output error): check the file and the disk")
    ]


def test_a_file_too_big_to_be_an_article_is_skipped_before_it_is_read(corpus_dir: Path) -> None:
    big = corpus_dir / "dump.txt"
    with big.open("w", encoding="utf-8") as f:
        f.write("A long dump of many articles.\n\n")
        f.truncate(MAX_ARTICLE_BYTES + 1)  # sparse: no need to write megabytes
    docs, skipped = read_corpus(corpus_dir)
    assert len(docs) == 5
    [entry] = [s for s in skipped if s.path == "dump.txt"]
    assert entry.reason == "2.0 MB, larger than an article can be (2 MB): split it into its articles"
