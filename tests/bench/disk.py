# See LICENSE file for copyright and license details.
# Prints the microseconds one event takes to store, without and with the
# receiver's syncs, storing 200 events one at a time in a scratch spool
# with the floor's file operations (tests/bench/floor.c): an unnamed file
# in tmp/ (O_TMPFILE), write, fdatasync, link into new/, fsync of the
# file, fsync of new/,
# both directories opened once. No concurrency: each sync waits alone.
# Usage: disk.py DIR BODY
import os
import sys
import time

root, body = sys.argv[1], open(sys.argv[2], "rb").read()
for sub in ("tmp", "new"):
    os.makedirs(os.path.join(root, sub))
tmp_fd = os.open(os.path.join(root, "tmp"), os.O_RDONLY | os.O_DIRECTORY)
new_fd = os.open(os.path.join(root, "new"), os.O_RDONLY | os.O_DIRECTORY)


def store(name, durable):
    fd = os.open(".", os.O_WRONLY | os.O_TMPFILE, 0o640, dir_fd=tmp_fd)
    os.write(fd, body)
    if durable:
        os.fdatasync(fd)
    os.link("/proc/self/fd/%d" % fd, name, dst_dir_fd=new_fd,
            follow_symlinks=True)
    if durable:
        os.fsync(fd)
    os.close(fd)
    if durable:
        os.fsync(new_fd)


times = []
for durable in (0, 1):
    t = time.perf_counter()
    for i in range(200):
        store("%d-%d.json" % (durable, i), durable)
    times.append("%.0f" % ((time.perf_counter() - t) / 200 * 1e6))
print(" ".join(times))
