#!/bin/busybox sh
# PID 1 of the test VM's initramfs (copied to /init by tests/vm/run.py).
#
# Loads the 9p modules, mounts the host's root read-only at /mnt and the
# host's per-run share (job description in, results out) at /mnt/tmp/vm,
# gives the new root writable tmpfs mounts and the pseudo file systems,
# then runs the repo's tests/vm/guest_run.sh inside a chroot and powers off.
# Whatever happens, the guest must power off: the host treats a guest that
# does not write /tmp/vm/status as crashed.

/bin/busybox --install -s /bin
export PATH=/bin

die() {
	echo "pydtrace-vm: init: $*"
	echo o >/proc/sysrq-trigger
	poweroff -f
}

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

for m in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev \
	 virtio_pci 9pnet 9pnet_virtio netfs fscache 9p; do
	insmod "/modules/$m.ko" || die "insmod $m failed"
done
# A virtio block device (device id 2) only when run.py gave one (--disk).
if grep -qx 0x0002 /sys/bus/virtio/devices/*/device 2>/dev/null; then
	insmod /modules/virtio_blk.ko || die "insmod virtio_blk failed"
fi

p9="trans=virtio,version=9p2000.L,msize=512000"
mount -t 9p -o "$p9,ro,cache=loose" hostroot /mnt || die "cannot mount the host root"
mount -t tmpfs -o mode=1777 tmpfs /mnt/tmp || die "tmpfs /tmp"
mkdir /mnt/tmp/vm
mount -t 9p -o "$p9" vmshare /mnt/tmp/vm || die "cannot mount the result share"

mount -t proc proc /mnt/proc
mount -t sysfs sysfs /mnt/sys
mount -t devtmpfs devtmpfs /mnt/dev
mkdir -p /mnt/dev/pts /mnt/dev/shm
mount -t devpts devpts /mnt/dev/pts
mount -t tmpfs -o mode=1777 tmpfs /mnt/dev/shm
mount -t tmpfs tmpfs /mnt/run
mount -t tmpfs -o mode=1777 tmpfs /mnt/var/tmp
mount -t debugfs debugfs /mnt/sys/kernel/debug
mount -t tracefs tracefs /mnt/sys/kernel/tracing
ip link set lo up 2>/dev/null

# job.env (written by the host) sets REPO, the repository's path, and
# REPO_SHARE when the repo lies under one of the tmpfs mounts above.
# shellcheck source=/dev/null
. /mnt/tmp/vm/job.env || die "no job.env"
if [ -n "$REPO_SHARE" ]; then
	mkdir -p "/mnt$REPO"
	mount -t 9p -o "$p9,ro,cache=loose" repo "/mnt$REPO" || die "cannot mount the repo"
fi
chroot /mnt /bin/bash "$REPO/tests/vm/guest_run.sh"

sync
umount /mnt/tmp/vm
poweroff -f
