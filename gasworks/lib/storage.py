"""Object storage (the S3 API: MinIO, Aliyun OSS, Tencent COS, AWS) for photos and generated files,
the default storage when settings name a bucket (OBJECT_STORAGE_BUCKET, see settings.py).

Private by construction: objects are written without an ACL (the bucket's own, private, applies),
and a link to one is always presigned for a few minutes (OBJECT_STORAGE_URL_EXPIRY), handed out
only by a view that has checked who asks (gasworks.lib.media.serve). django-storages'
`custom_domain` is not offered: it makes unsigned links, readable by anyone who has one. Where
browsers reach the store by another address than the web nodes do (MinIO at http://minio:9000
inside, https://files.example.com outside), `public_endpoint_url` signs the links for that one.

Imported only when a bucket is configured (boto3 is not loaded otherwise)."""

from storages.backends.s3 import S3Storage
from storages.utils import clean_name


class ObjectStorage(S3Storage):
    presigns = True  # gasworks.lib.media.serve redirects to a link instead of streaming

    def get_default_settings(self) -> dict:
        return {
            **super().get_default_settings(),
            # Two customers' IMG_0001.jpg of the same month must not overwrite each other.
            "file_overwrite": False,
            "querystring_auth": True,
            "querystring_expire": 300,
            "default_acl": None,
            "signature_version": "s3v4",
            "public_endpoint_url": None,
        }

    def url(self, name, parameters=None, expire=None, http_method=None) -> str:
        if not self.public_endpoint_url:
            return super().url(name, parameters, expire, http_method)
        params = {
            **(parameters or {}),
            "Bucket": self.bucket_name,
            "Key": self._normalize_name(clean_name(name)),
        }
        return self._public_signer().generate_presigned_url(
            "get_object",
            Params=params,
            ExpiresIn=self.querystring_expire if expire is None else expire,
            HttpMethod=http_method,
        )

    def _public_signer(self):
        """A client that only signs (no request leaves it) for the address browsers use: a
        SigV4 signature covers the host, so the link cannot be signed for one and rewritten."""
        signer = getattr(self._connections, "public_signer", None)
        if signer is None:
            signer = self._create_session().client(
                "s3",
                region_name=self.region_name,
                endpoint_url=self.public_endpoint_url,
                config=self.client_config,
            )
            self._connections.public_signer = signer
        return signer
