#!/bin/bash
# Install the host packages the build and the test VM need (Debian 12).
# Idempotent: when everything is installed it only runs dpkg-query and exits.
# Usage: tests/vm/setup-host.sh [--extra]   (--extra adds bpftrace)
set -euo pipefail

# clang and its runtime (libFuzzer, the sanitizers) for make fuzz; Debian 12's
# clang only recommends the runtime.
pkgs=(qemu-system-x86 busybox-static cpio kmod make gcc libc6-dev
      linux-headers-amd64 python3 python3-venv python3-dev
      clang libclang-rt-14-dev)
if [[ "${1:-}" == "--extra" ]]; then
	pkgs+=(bpftrace)
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
