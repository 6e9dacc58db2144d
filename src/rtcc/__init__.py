"""OpenRTCC: an open-source Real-Time Crime Center platform."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("openrtcc")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
