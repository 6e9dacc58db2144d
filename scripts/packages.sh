# Sourced by the other scripts: install Debian packages, waiting for a busy package lock
# (unattended-upgrades, another apt) instead of failing. Needs root; a non-root user is told
# what to run once with sudo.

: "${RTCC_APT_LOCK_TIMEOUT:=900}"  # seconds to wait for another apt or dpkg to finish
apt_lists_updated=""

# apt-get with a bounded wait on every lock apt takes (dpkg's frontend lock honours
# DPkg::Lock::Timeout; the lists lock of `apt-get update` does not, so that one is retried).
apt_get_waiting() {
  local deadline=$((SECONDS + RTCC_APT_LOCK_TIMEOUT)) output status
  while :; do
    status=0
    output=$(DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=60 "$@" 2>&1) || status=$?
    [ "$status" = 0 ] && return 0
    if grep -qiE "could not get lock|unable to acquire|another process using it" <<<"$output" \
        && [ "$SECONDS" -lt "$deadline" ]; then
      echo "waiting for the package lock: another apt or dpkg is running" >&2
      sleep 5
      continue
    fi
    printf '%s\n' "$output" >&2
    return "$status"
  done
}

# Install the named packages (the caller checked they are missing).
apt_install() {
  if [ "$(id -u)" != 0 ]; then
    echo "missing Debian packages: $*" >&2
    echo "install them once as root (sudo $0, or sudo apt-get install $*), then run this again" >&2
    exit 1
  fi
  if [ -z "$apt_lists_updated" ]; then apt_get_waiting update -qq; apt_lists_updated=1; fi
  apt_get_waiting install -y -qq --no-install-recommends "$@"
}

# The named packages that are not installed, one per line.
missing_packages() {
  local package
  for package in "$@"; do
    if [ "$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null)" != "install ok installed" ]; then
      echo "$package"
    fi
  done
}
