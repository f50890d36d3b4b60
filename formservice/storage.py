"""Object storage of submissions, behind a small interface (S3 through boto3).

Key layout in the bucket (private; FORMSERVICE_BUCKET, default "appels"):

    submissions/<slug>/<answer id>/files/<sha>-<safe name>     attachments, written when received
                                                               (kept when the form comes back);
                                                               <sha> is the first 16 hex digits of
                                                               the file's SHA-256, so a resent form
                                                               rewrites the same bytes and never
                                                               overwrites others
    submissions/<slug>/<answer id>/versions/<NNNN>.json        each version's record, written after
                                                               its files with IfNoneMatch='*'
    drafts/<slug>/<answer id>.json                             a draft, saved to be resumed later
                                                               (formservice.drafts; never exported)
    outbox/<key>.eml                                            mails waiting for SMTP (formservice.mail)
    ratelimit/<window start>/<address hash>/<attempt id>        one empty object per attempt of an
                                                               address in a time window
    exports/<slug>/...                                          exports sent to partners and what
                                                               was sent when (formservice.delivery)

An answer exists once a version record exists: readers only read records, so files received for
an answer that was never sent are never seen (`calls purge` removes them after a while). What a
record holds is formservice.submission.Submission.
"""

from __future__ import annotations

import base64
import datetime as dt
from typing import BinaryIO, Iterator, Protocol

import boto3
import botocore.config
import botocore.exceptions

SUBMISSIONS = "submissions"
DRAFTS = "drafts"
OUTBOX = "outbox"
RATELIMIT = "ratelimit"


def submission_prefix(slug: str, submission_id: str) -> str:
    return f"{SUBMISSIONS}/{slug}/{submission_id}/"


def version_key(slug: str, submission_id: str, version: int) -> str:
    return submission_prefix(slug, submission_id) + f"versions/{version:04d}.json"


def file_key(slug: str, submission_id: str, sha256: str, safe_name: str) -> str:
    return submission_prefix(slug, submission_id) + f"files/{sha256[:16]}-{safe_name}"


def outbox_key(submission_id: str) -> str:
    return f"{OUTBOX}/{submission_id}.eml"


class StorageUnavailable(OSError):
    """The storage service cannot be reached or answers with a server error: nothing was saved."""


class ChangedMeanwhile(Exception):
    """A write conditioned on an object's version (If-Match) found another version: read again."""


class Storage(Protocol):
    """What the form service, the mail queue and the exports need from object storage."""

    def put(self, key: str, data: bytes, *, content_type: str = "application/octet-stream",
            if_none_match: bool = False, if_match: str | None = None, sha256: str | None = None) -> str:
        """Store `data` and return its version tag; with `if_none_match`, raise FileExistsError if the
        key exists; with `if_match` (a tag), raise ChangedMeanwhile unless the object is still that
        version (compare-and-swap); with `sha256` (hex), the storage checks the bytes it received
        against it (StorageUnavailable if not)."""

    def get(self, key: str) -> bytes:
        """The object's bytes; FileNotFoundError if there is none."""

    def get_tagged(self, key: str) -> tuple[bytes, str]:
        """The object's bytes and version tag (for a later `put(if_match=...)`); FileNotFoundError."""

    def delete(self, key: str) -> None: ...

    def keys(self, prefix: str, *, limit: int | None = None) -> Iterator[str]:
        """Keys under `prefix`, in key order (at most `limit`)."""

    def entries(self, prefix: str) -> Iterator[tuple[str, dt.datetime]]:
        """(key, last modified) of every object under `prefix`, in key order."""

    def children(self, prefix: str) -> Iterator[str]:
        """The next level of "folders" under `prefix` (each ending with "/")."""

    def size(self, key: str) -> int:
        """The object's size in bytes; FileNotFoundError if there is none."""

    def ping(self) -> None:
        """Raise StorageUnavailable unless the bucket is reachable."""

    def open(self, key: str) -> BinaryIO:
        """The object as a stream to read in chunks (close it); FileNotFoundError if there is none."""

    def put_file(self, key: str, path: str, *, content_type: str = "application/octet-stream") -> None:
        """Store a local file of any size (multipart above a few MB), without reading it into memory."""

    def delete_many(self, keys: list[str]) -> None:
        """Delete these keys (at most 1000 per request); OSError naming the keys that could not be."""

    def download_url(self, key: str, *, seconds: int, filename: str = "") -> str:
        """A presigned GET address of the object, valid `seconds` (at most 7 days with SigV4)."""


_UNAVAILABLE = (botocore.exceptions.EndpointConnectionError, botocore.exceptions.ConnectionClosedError,
                botocore.exceptions.ConnectTimeoutError, botocore.exceptions.ReadTimeoutError,
                botocore.exceptions.ProxyConnectionError)


class S3Storage:
    """S3 with path-style addressing. Endpoint and credentials are given (the form service's
    settings); None leaves them to boto3's own lookup (AWS_* variables, profiles)."""

    def __init__(self, bucket: str, *, endpoint_url: str | None = None, access_key: str | None = None,
                 secret_key: str | None = None, region: str | None = None, public_endpoint_url: str | None = None,
                 client=None, connect_timeout: float = 3, read_timeout: float = 30):
        self.bucket = bucket
        self.endpoint_url = endpoint_url
        # Download links are signed for the address partners reach (a private endpoint otherwise).
        self.public = {"endpoint_url": public_endpoint_url or endpoint_url, "aws_access_key_id": access_key,
                       "aws_secret_access_key": secret_key, "region_name": region}
        # Checksums only where S3 requires them (boto3 would add a CRC32 to every PUT and check one
        # on every GET): attachments carry their SHA-256 instead, which the storage verifies.
        self.client = client or boto3.client(
            "s3", endpoint_url=endpoint_url, aws_access_key_id=access_key, aws_secret_access_key=secret_key,
            region_name=region, config=botocore.config.Config(
            s3={"addressing_style": "path"}, signature_version="s3v4",  # presigned links: SigV4, 7 days at most
            request_checksum_calculation="when_required", response_checksum_validation="when_required",
            connect_timeout=connect_timeout, read_timeout=read_timeout,
            retries={"max_attempts": 2, "mode": "standard"}, max_pool_connections=32))

    def _call(self, method: str, **kwargs):
        try:
            return getattr(self.client, method)(Bucket=self.bucket, **kwargs)
        except _UNAVAILABLE as exc:
            raise StorageUnavailable(f"storage unreachable: {exc}") from exc
        except botocore.exceptions.ClientError as exc:
            error = exc.response.get("Error", {})
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            code = error.get("Code")
            if code in ("NoSuchKey", "404", "NotFound"):
                raise FileNotFoundError(kwargs.get("Key", "")) from None
            if code in ("PreconditionFailed", "412") or status == 412:
                raise FileExistsError(kwargs.get("Key", "")) from None
            if code == "BadDigest":
                raise StorageUnavailable(f"storage received other bytes than sent for {kwargs.get('Key', '')}") from exc
            if status >= 500 or code in ("SlowDown", "ServiceUnavailable"):
                raise StorageUnavailable(f"storage error {status} {code}") from exc
            raise

    def put(self, key, data, *, content_type="application/octet-stream", if_none_match=False, if_match=None,
            sha256=None):
        extra = {"IfNoneMatch": "*"} if if_none_match else {}
        if if_match:
            extra["IfMatch"] = if_match
        if sha256:
            extra["ChecksumSHA256"] = base64.b64encode(bytes.fromhex(sha256)).decode()
        try:
            return self._call("put_object", Key=key, Body=data, ContentType=content_type, **extra)["ETag"]
        except FileExistsError:
            if if_match:
                raise ChangedMeanwhile(key) from None
            raise

    def get(self, key):
        return self.get_tagged(key)[0]

    def get_tagged(self, key):
        response = self._call("get_object", Key=key)
        with response["Body"] as body:
            return body.read(), response["ETag"]

    def delete(self, key):
        self._call("delete_object", Key=key)

    def size(self, key):
        return self._call("head_object", Key=key)["ContentLength"]

    def open(self, key):
        return self._call("get_object", Key=key)["Body"]

    def put_file(self, key, path, *, content_type="application/octet-stream"):
        try:
            self.client.upload_file(path, self.bucket, key, ExtraArgs={"ContentType": content_type})
        except _UNAVAILABLE as exc:
            raise StorageUnavailable(f"storage unreachable: {exc}") from exc

    def delete_many(self, keys):
        for start in range(0, len(keys), 1000):
            batch = [{"Key": k} for k in keys[start:start + 1000]]
            errors = self._call("delete_objects", Delete={"Objects": batch, "Quiet": True}).get("Errors", [])
            if errors:
                raise OSError(f"not deleted: {', '.join(e['Key'] + ' (' + e.get('Code', '') + ')' for e in errors)}")

    def download_url(self, key, *, seconds, filename=""):
        params = {"Bucket": self.bucket, "Key": key}
        if filename:
            params["ResponseContentDisposition"] = f'attachment; filename="{filename}"'
        signer = self.client
        if self.public["endpoint_url"] != self.endpoint_url:
            signer = boto3.client("s3", **self.public, config=botocore.config.Config(
                s3={"addressing_style": "path"}, signature_version="s3v4"))
        return signer.generate_presigned_url("get_object", Params=params, ExpiresIn=seconds)

    def keys(self, prefix, *, limit=None):
        return (item["Key"] for item in self._listing(prefix, limit))

    def entries(self, prefix):
        return ((item["Key"], item["LastModified"]) for item in self._listing(prefix, None))

    def _listing(self, prefix, limit):
        token = None
        seen = 0
        while True:
            page_size = min(1000, limit - seen) if limit else 1000
            kwargs = {"Prefix": prefix, "MaxKeys": page_size}
            if token:
                kwargs["ContinuationToken"] = token
            page = self._call("list_objects_v2", **kwargs)
            for item in page.get("Contents", []):
                yield item
                seen += 1
                if limit and seen >= limit:
                    return
            if not page.get("IsTruncated"):
                return
            token = page["NextContinuationToken"]

    def children(self, prefix):
        token = None
        while True:
            kwargs = {"Prefix": prefix, "Delimiter": "/"}
            if token:
                kwargs["ContinuationToken"] = token
            page = self._call("list_objects_v2", **kwargs)
            for item in page.get("CommonPrefixes", []):
                yield item["Prefix"]
            if not page.get("IsTruncated"):
                return
            token = page["NextContinuationToken"]

    def ping(self):
        try:
            self._call("head_bucket")
        except (FileNotFoundError, botocore.exceptions.ClientError) as exc:
            raise StorageUnavailable(f"bucket {self.bucket} not usable: {exc}") from None
