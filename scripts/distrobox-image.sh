#!/bin/sh
# Builds (once, then cached) the root file system of the distrobox acceptance test image: Debian bookworm
# minbase from the apt mirror configured on this host, with every command distrobox-init checks for, so that
# distrobox-init never needs the network inside the container.
#
# Output (printed on stdout as KEY=VALUE lines, for tests/distrobox/distrobox_test.ts):
#   LAYER=<dir>/layer.tar.gz   the rootfs as one gzip'd tar layer (numeric owners, paths ./…)
#   DIFFID=sha256:<hex>        sha256 of the uncompressed tar (the image config's rootfs.diff_ids entry)
#   DIGEST=sha256:<hex>        sha256 of layer.tar.gz (the layer descriptor's digest)
#   SECONDS=<n>                how long this run took (0-ish when cached)
#
# Cache: $POD_TEST_CACHE (default /var/cache/pod-tests)/distrobox-<key>/, key = hash of suite, mirror, arch
# and package list. Delete that directory to rebuild. Needs root and debootstrap.
#
# Usage: sh scripts/distrobox-image.sh [--print-packages]
set -eu

SUITE=bookworm
# distrobox-init (1.4.x) checks: find mount passwd sudo useradd diff pinentry wget curl less bc time lsof $SHELL
PACKAGES="bash,bc,ca-certificates,curl,diffutils,findutils,less,lsof,mount,ncurses-base,passwd,pinentry-curses,procps,sudo,time,util-linux,wget"

if [ "${1:-}" = "--print-packages" ]; then
	printf '%s\n' "${PACKAGES}"
	exit 0
fi

# The mirror configured for this host (deb822 sources or classic sources.list), else deb.debian.org.
mirror() {
	m=""
	for f in /etc/apt/sources.list.d/*.sources /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -r "${f}" ] || continue
		case "${f}" in
			*.sources)
				m="$(awk '/^URIs:/ { u = $2 } /^Suites:/ && / '"${SUITE}"'( |$)/ && u != "" { print u; exit }' "${f}")"
				;;
			*)
				m="$(awk '$1 == "deb" && $0 ~ / '"${SUITE}"' / { for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) { print $i; exit } }' "${f}")"
				;;
		esac
		case "${m}" in
			*debian-security*) m="" ;;
		esac
		[ -n "${m}" ] && break
	done
	printf '%s\n' "${m:-http://deb.debian.org/debian}"
}

MIRROR="${POD_DEBIAN_MIRROR:-$(mirror)}"
ARCH="$(dpkg --print-architecture 2> /dev/null || echo amd64)"
CACHE_ROOT="${POD_TEST_CACHE:-/var/cache/pod-tests}"
KEY="$(printf '%s\n' "${SUITE}" "${ARCH}" "${MIRROR}" "${PACKAGES}" | sha256sum | cut -c1-16)"
DIR="${CACHE_ROOT}/distrobox-${KEY}"
start="$(date +%s)"

if [ ! -s "${DIR}/done" ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "distrobox-image: building the rootfs needs root (debootstrap)" >&2
		exit 2
	fi
	command -v debootstrap > /dev/null || {
		echo "distrobox-image: debootstrap is not installed (apt-get install debootstrap)" >&2
		exit 2
	}
	mkdir -p "${CACHE_ROOT}"
	tmp="${DIR}.tmp.$$"
	rm -rf "${tmp}"
	mkdir -p "${tmp}"
	trap 'rm -rf "${tmp}"' EXIT INT TERM
	t0="$(date +%s)"
	echo "distrobox-image: debootstrap ${SUITE} from ${MIRROR} (${ARCH}) into ${tmp}/rootfs" >&2
	if ! debootstrap --variant=minbase --arch="${ARCH}" --include="${PACKAGES}" \
		"${SUITE}" "${tmp}/rootfs" "${MIRROR}" > "${tmp}/debootstrap.log" 2>&1; then
		tail -n 30 "${tmp}/debootstrap.log" >&2
		[ -f "${tmp}/rootfs/debootstrap/debootstrap.log" ] && tail -n 30 "${tmp}/rootfs/debootstrap/debootstrap.log" >&2
		exit 1
	fi
	t1="$(date +%s)"
	# smaller layer: no apt lists/caches, no docs; nothing distrobox-init needs
	rm -rf "${tmp}/rootfs/var/cache/apt/archives/"*.deb "${tmp}/rootfs/var/lib/apt/lists/"* \
		"${tmp}/rootfs/usr/share/doc/"* "${tmp}/rootfs/usr/share/man/"* "${tmp}/rootfs/usr/share/info/"*
	# the mounted/generated files of a container: not part of the image
	: > "${tmp}/rootfs/etc/hostname"
	rm -f "${tmp}/rootfs/etc/resolv.conf"
	(cd "${tmp}/rootfs" && tar --numeric-owner --sort=name --mtime=@1704067200 --format=gnu \
		--xattrs --xattrs-include='security.capability' -cf - .) > "${tmp}/layer.tar"
	printf 'sha256:%s\n' "$(sha256sum < "${tmp}/layer.tar" | cut -d' ' -f1)" > "${tmp}/diffid"
	gzip -n -1 "${tmp}/layer.tar"
	printf 'sha256:%s\n' "$(sha256sum < "${tmp}/layer.tar.gz" | cut -d' ' -f1)" > "${tmp}/digest"
	rm -rf "${tmp}/rootfs"
	printf 'debootstrap_seconds=%s mirror=%s packages=%s\n' "$((t1 - t0))" "${MIRROR}" "${PACKAGES}" > "${tmp}/done"
	rm -rf "${DIR}"
	mv "${tmp}" "${DIR}"
	trap - EXIT INT TERM
	echo "distrobox-image: debootstrap took $((t1 - t0)) s, image built in $(($(date +%s) - t0)) s" >&2
fi

printf 'LAYER=%s\n' "${DIR}/layer.tar.gz"
printf 'DIFFID=%s\n' "$(cat "${DIR}/diffid")"
printf 'DIGEST=%s\n' "$(cat "${DIR}/digest")"
printf 'SECONDS=%s\n' "$(($(date +%s) - start))"
