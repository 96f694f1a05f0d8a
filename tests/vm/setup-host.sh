#!/bin/bash
# Install the host packages the build and the test VM need (Debian 12).
# Idempotent: when everything is installed it only runs dpkg-query and exits.
# Usage: tests/vm/setup-host.sh [--extra]   (--extra adds clang and bpftrace)
set -euo pipefail

pkgs=(qemu-system-x86 busybox-static cpio kmod make gcc libc6-dev
      linux-headers-amd64 python3 python3-venv python3-dev)
if [[ "${1:-}" == "--extra" ]]; then
	pkgs+=(clang bpftrace)
fi

missing=()
for p in "${pkgs[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
		missing+=("$p")
	fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -ne 0 ]]; then
	sudo=sudo
else
	sudo=
fi
echo "setup-host: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
