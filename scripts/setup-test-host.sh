#!/usr/bin/env bash
# Prepare this host for pod's rootless tests (idempotent; run as root):
#   - the unprivileged test user (default `podtest`) with a home directory,
#   - /etc/subuid and /etc/subgid entries for the user, unless it has some (useradd usually assigns them):
#     65536 ids from the first free start at or above 100000, after every range of the file (other lines are
#     left alone; like useradd, ranges never overlap, so tests must read the user's range, not assume one),
#   - a DENO_DIR the user owns (~/.cache/deno),
#   - /dev/net/tun mode 0666 (as distributions ship it) for rootless networking (slirp4netns, pasta).
# Usage: scripts/setup-test-host.sh [user]
set -euo pipefail

user="${1:-${POD_TEST_USER:-podtest}}"
count=65536

# The first id at or above 100000 that is past every range of sub-id file $1.
free_start() {
  awk -F: 'BEGIN { s = 100000 } NF == 3 && $2 ~ /^[0-9]+$/ && $3 ~ /^[0-9]+$/ && $2 + $3 > s { s = $2 + $3 }
    END { print s }' "$1"
}

if [ "$(id -u)" -ne 0 ]; then
  echo "setup-test-host.sh: must run as root" >&2
  exit 1
fi

if ! id -u "$user" >/dev/null 2>&1; then
  useradd --create-home --shell /bin/bash --user-group "$user"
fi
home="$(getent passwd "$user" | cut -d: -f6)"
if [ ! -d "$home" ]; then
  mkdir -p "$home"
  chown "$user:" "$home"
  chmod 0755 "$home"
fi
install -d -o "$user" -g "$(id -gn "$user")" -m 0755 "$home/.cache" "$home/.cache/deno"

# Add "<user>:start:count" unless the user already has an entry; never rewrite other lines.
for f in /etc/subuid /etc/subgid; do
  touch "$f"
  if ! grep -q "^${user}:" "$f"; then
    # make sure the file ends with a newline before appending
    if [ -s "$f" ] && [ "$(tail -c1 "$f" | od -An -c | tr -d ' ')" != '\n' ]; then
      echo >>"$f"
    fi
    echo "${user}:$(free_start "$f"):${count}" >>"$f"
  fi
  chmod 0644 "$f"
done

# Rootless networking: slirp4netns and pasta open /dev/net/tun as the user; distributions ship it 0666, some
# VMs and containers have it 0600 (then every rootless container with a network fails to start).
if [ -c /dev/net/tun ] && [ "$(stat -c %a /dev/net/tun)" != "666" ]; then
  chmod 0666 /dev/net/tun
fi

for tool in newuidmap newgidmap; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "setup-test-host.sh: warning: $tool not installed (apt-get install uidmap)" >&2
  fi
done
echo "setup-test-host.sh: $user ready (home $home, subuid $(grep "^${user}:" /etc/subuid | cut -d: -f2- | paste -sd,)," \
  "subgid $(grep "^${user}:" /etc/subgid | cut -d: -f2- | paste -sd,))"
