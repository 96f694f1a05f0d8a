#!/bin/bash
# Provision the Vagrant VM (runs as root inside it, repo at /pydtrace):
# the test VM harness's packages plus headers for the running kernel, then
# the module and the Python package.
set -euo pipefail

repo=/pydtrace
export DEBIAN_FRONTEND=noninteractive

apt-get update -qq
"$repo/tests/vm/setup-host.sh"
apt-get install -y -qq --no-install-recommends "linux-headers-$(uname -r)"

make -C "$repo" install
make -C "$repo/kmod" KDIR="/lib/modules/$(uname -r)/build"

echo "provision: done; try: cd $repo && sudo insmod kmod/dtrace.ko &&" \
     "sudo .venv/bin/pydtrace -s examples/hello.d"
