"""Error hierarchy: every failure a user can cause has a class and a message that says what to do."""

from __future__ import annotations


class FerCoreError(Exception):
    """Base class of every error fer_core raises on purpose."""


class ImageLoadError(FerCoreError, ValueError):
    """The bytes are not an image we can read safely (unknown format, truncated, too large, bomb)."""


class FaceNotFoundError(FerCoreError):
    """No face was found in an image that is too large to be used as a face crop itself."""


class UnknownModelError(FerCoreError, ValueError):
    """A model name that is not in the registry."""


class CheckpointError(FerCoreError, ValueError):
    """A checkpoint that is missing, corrupt, or does not fit the architecture it names."""


class DatasetError(FerCoreError, ValueError):
    """A dataset or manifest whose layout or content is not what the caller said it is."""


class StoreError(FerCoreError):
    """The review store refused an operation: unknown batch, duplicate name, lost claim, incompatible schema."""


class VideoError(FerCoreError, ValueError):
    """A video we cannot read: not a video, an unsupported container, truncated, too long or too large."""
