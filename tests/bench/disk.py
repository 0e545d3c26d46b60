# Prints the microseconds one event takes to store, without and with the
# receiver's fsyncs, storing 200 events one at a time in a scratch spool.
# Usage: disk.py DIR BODY
import os
import sys
import time

root, body = sys.argv[1], open(sys.argv[2], "rb").read()
for sub in ("tmp", "new"):
    os.makedirs(os.path.join(root, sub))


def store(name, durable):
    tmp = os.path.join(root, "tmp", name)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
    os.write(fd, body)
    if durable:
        os.fdatasync(fd)
    os.close(fd)
    os.rename(tmp, os.path.join(root, "new", name))
    if durable:
        d = os.open(os.path.join(root, "new"), os.O_RDONLY | os.O_DIRECTORY)
        os.fsync(d)
        os.close(d)


times = []
for durable in (0, 1):
    t = time.perf_counter()
    for i in range(200):
        store("%d-%d" % (durable, i), durable)
    times.append("%.0f" % ((time.perf_counter() - t) / 200 * 1e6))
print(" ".join(times))
