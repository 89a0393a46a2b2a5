#!/usr/bin/env bash
# Prepare this host for pod's rootless tests (idempotent; run as root):
#   - the unprivileged test user (default `podtest`) with a home directory,
#   - /etc/subuid and /etc/subgid entries `<user>:100000:65536` (other lines are left alone),
#   - a DENO_DIR the user owns (~/.cache/deno).
# Usage: scripts/setup-test-host.sh [user]
set -euo pipefail

user="${1:-${POD_TEST_USER:-podtest}}"
start=100000
count=65536

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
    echo "${user}:${start}:${count}" >>"$f"
  fi
  chmod 0644 "$f"
done

for tool in newuidmap newgidmap; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "setup-test-host.sh: warning: $tool not installed (apt-get install uidmap)" >&2
  fi
done
echo "setup-test-host.sh: $user ready (home $home, subuid/subgid ${start}:${count})"
