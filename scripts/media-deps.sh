#!/usr/bin/env bash
# Install the Debian packages the simulated cameras need (GStreamer with its RTSP server,
# Debian's python3-gi, ffmpeg), only those missing. Idempotent and quiet: prints nothing
# and touches nothing when all are installed.
set -euo pipefail

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

missing=()
for package in "${packages[@]}"; do
  if [ "$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null)" != "install ok installed" ]; then
    missing+=("$package")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
  echo "run as root to install: ${missing[*]}" >&2
  exit 1
fi
echo "installing ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
