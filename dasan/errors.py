"""One error hierarchy. Messages are Korean (they reach end users) and name the fix."""

from __future__ import annotations


class DasanError(Exception):
    """Base of every error Dasan raises on purpose."""

    code = "dasan_error"

    def __init__(self, message: str, *, path: str | None = None) -> None:
        self.path = path
        super().__init__(f"{path}: {message}" if path else message)
        self.message = message


class ReadError(DasanError):
    """A file could not be read as a document."""

    code = "read_error"


class UnsupportedFormatError(ReadError):
    code = "unsupported_format"


class CorruptFileError(ReadError):
    code = "corrupt_file"


class EncryptedFileError(ReadError):
    code = "encrypted_file"


class FileTooLargeError(ReadError):
    code = "file_too_large"


class HostileFileError(ReadError):
    """A file built to attack its reader (an XML DTD with entity declarations, say): refused
    before its content is parsed, whatever the parsing library would have done with it."""

    code = "hostile_file"


class ParseError(DasanError):
    """Structure parsing (statute, press release) failed."""

    code = "parse_error"


class StoreError(DasanError):
    code = "store_error"


class NotFoundError(DasanError):
    code = "not_found"


class ConfigError(DasanError):
    code = "config_error"


class EmbeddingError(DasanError):
    """Computing embeddings failed (model missing or corrupt, endpoint unreachable or erroring)."""

    code = "embedding_error"


class LLMError(DasanError):
    """A language-model backend failed (model missing, server unreachable, timeout, bad answer)."""

    code = "llm_error"


# -- security -----------------------------------------------------------------
class DirectoryError(DasanError):
    """A directory change was refused (bad name, duplicate, still in use)."""

    code = "directory_error"


class InvalidNameError(DirectoryError):
    code = "invalid_name"


class AlreadyExistsError(DirectoryError):
    code = "already_exists"


class NotEmptyError(DirectoryError):
    code = "not_empty"


class AuthError(DasanError):
    """An API key was not accepted."""

    code = "auth_error"


class InvalidKeyError(AuthError):
    code = "invalid_key"


class KeyRevokedError(AuthError):
    code = "key_revoked"


class KeyExpiredError(AuthError):
    code = "key_expired"


class PermissionDeniedError(DasanError):
    code = "permission_denied"


class AuditError(DasanError):
    """The audit log could not record (or read) an entry; the operation must not proceed."""

    code = "audit_error"


class PiiBlockedError(DasanError):
    """Personal data found where the collection's policy is ``block``."""

    code = "pii_blocked"

    def __init__(self, message: str, *, path: str | None = None, counts: dict[str, int] | None = None) -> None:
        super().__init__(message, path=path)
        self.counts = dict(counts or {})
