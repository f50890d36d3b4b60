"""The storage interface, run against each implementation (today: S3 on a real SeaweedFS)."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

import pytest

from callmodel.schema import Call
from formservice import storage, submission
from formservice.storage import S3Storage, StorageUnavailable


@pytest.fixture(params=["s3"])
def store(request, s3):
    return S3Storage(s3.bucket)


def test_put_get_delete_and_missing_keys(store):
    key = f"contract/{secrets.token_hex(4)}/objet"
    store.put(key, b"donnees")
    assert store.get(key) == b"donnees"
    store.delete(key)
    with pytest.raises(FileNotFoundError):
        store.get(key)


def test_if_none_match_creates_exactly_once(store):
    key = f"contract/{secrets.token_hex(4)}/record.json"
    store.put(key, b"premier", if_none_match=True)
    with pytest.raises(FileExistsError):
        store.put(key, b"second", if_none_match=True)
    assert store.get(key) == b"premier"


def test_the_storage_checks_an_attachment_against_its_sha256(store):
    key = f"contract/{secrets.token_hex(4)}/piece.pdf"
    store.put(key, b"%PDF-1.4 vraie", sha256=hashlib.sha256(b"%PDF-1.4 vraie").hexdigest())
    assert store.get(key) == b"%PDF-1.4 vraie"
    other = f"contract/{secrets.token_hex(4)}/piece.pdf"
    with pytest.raises(StorageUnavailable, match="other bytes"):
        store.put(other, b"%PDF-1.4 abimee", sha256=hashlib.sha256(b"%PDF-1.4 vraie").hexdigest())
    with pytest.raises(FileNotFoundError):
        store.get(other)


def test_listing_keys_and_children(store):
    base = f"contract/{secrets.token_hex(4)}/"
    for name in ("a/1", "a/2", "b/1", "c"):
        store.put(base + name, b"")
    assert list(store.keys(base)) == [base + n for n in ("a/1", "a/2", "b/1", "c")]
    assert list(store.keys(base, limit=2)) == [base + "a/1", base + "a/2"]
    assert list(store.children(base)) == [base + "a/", base + "b/"]


def test_iter_submissions_streams_complete_submissions_only(store):
    slug = f"appel-{secrets.token_hex(4)}"
    now = dt.datetime.now(dt.timezone.utc)
    call = Call(slug=slug, title="Appel", type="ami", partner="p", summary="", published=now.date(), opens=now,
                closes=None)
    submission.store(store, call, "1" * 32, {"nom": "Ada"}, [], email="ada@example.org", build={}, prefix="T",
                     now=now)
    store.put(storage.file_key(slug, "2" * 32, "3" * 64, "moitie.pdf"), b"%PDF-")
    [complete] = submission.iter_submissions(store, slug)
    assert complete.id == "1" * 32 and complete.answers == {"nom": "Ada"}
    assert complete.received_at == now.replace(microsecond=0)


def test_unreachable_storage_says_so(monkeypatch, unused_endpoint):
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", unused_endpoint)
    down = S3Storage("appels", connect_timeout=1)
    with pytest.raises(StorageUnavailable):
        down.ping()
    with pytest.raises(StorageUnavailable):
        down.put("x", b"")


def test_download_links_use_the_public_address_of_the_storage(s3):
    inside = S3Storage(s3.bucket, endpoint_url=s3.endpoint, access_key=s3.access_key, secret_key=s3.secret_key,
                       public_endpoint_url="https://stockage.rivebelle.example")
    link = inside.download_url("exports/x/files/a.zip", seconds=3600, filename="a.zip")
    assert link.startswith(f"https://stockage.rivebelle.example/{s3.bucket}/exports/x/files/a.zip?")
    assert "X-Amz-Signature=" in link and s3.endpoint not in link
    same = S3Storage(s3.bucket, endpoint_url=s3.endpoint, access_key=s3.access_key, secret_key=s3.secret_key)
    assert same.download_url("k", seconds=60).startswith(s3.endpoint)


def test_a_write_conditioned_on_a_version_fails_once_the_object_changed(store):
    key = f"contract/{secrets.token_hex(4)}/compteur.json"
    first = store.put(key, b"1")
    data, tag = store.get_tagged(key)
    assert data == b"1" and tag == first
    second = store.put(key, b"2", if_match=tag)  # still version 1: written
    with pytest.raises(storage.ChangedMeanwhile):
        store.put(key, b"3", if_match=tag)  # another writer came first: refused
    assert store.get_tagged(key) == (b"2", second)
