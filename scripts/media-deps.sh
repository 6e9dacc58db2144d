#!/usr/bin/env bash
# Install the Debian packages the simulated cameras need (GStreamer with its RTSP server,
# Debian's python3-gi, ffmpeg), only those missing. Idempotent and quiet: prints nothing
# and touches nothing when all are installed.
set -euo pipefail
source "$(dirname "$0")/packages.sh"

packages=(
  python3-gi                    # the RTSP server runs under Debian's python3 (the venv cannot load gi)
  gir1.2-gst-rtsp-server-1.0    # gst-rtsp-server bindings
  gstreamer1.0-rtsp             # RTSP elements
  gstreamer1.0-plugins-base     # compositor, videoconvert
  gstreamer1.0-plugins-good     # imagefreeze, pngdec, multifilesrc, rtph264pay
  gstreamer1.0-plugins-bad      # h264parse
  gstreamer1.0-plugins-ugly     # x264enc
  gstreamer1.0-libav            # decoders for checks and playback
  gstreamer1.0-x                # textoverlay (pango): the burned-in clock
  fonts-dejavu-core             # the clock's font
  ffmpeg                        # ffprobe/ffmpeg for tests and the recorder
)

mapfile -t missing < <(missing_packages "${packages[@]}")
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing ${missing[*]}"
apt_install "${missing[@]}"
