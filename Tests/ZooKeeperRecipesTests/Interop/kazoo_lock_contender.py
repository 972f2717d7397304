# A kazoo lock contender for KazooLockInteropTests (run with Debian's /usr/bin/python3 + python3-kazoo).
# usage: kazoo_lock_contender.py HOSTS[/chroot] MODE LOCK_PATH
#   hold      default kazoo Lock: acquire, create /signal/held, wait for /signal/release, release
#   hold-read, hold-write   the same with kazoo's ReadLock / WriteLock
#   subclass  kazoo Lock named like Curator (the documented interop subclass): try 1.5 s, create
#             /signal/tried, wait for /signal/go, acquire (20 s), release
import sys
import threading
import time

from kazoo.client import KazooClient
from kazoo.exceptions import LockTimeout
from kazoo.recipe.lock import Lock, ReadLock, WriteLock


class CuratorCompatibleLock(Lock):
    """kazoo's Lock with Curator's node naming: <hex>-lock-<seq>, contenders sorted by sequence."""
    _NODE_NAME = "-lock-"
    _EXCLUDE_NAMES = ["-lock-"]


def try_acquire(lock, seconds):
    """kazoo 2.8 raises LockTimeout (instead of returning False) when the timeout passes."""
    try:
        return lock.acquire(timeout=seconds)
    except LockTimeout:
        return False


def wait_for(zk, node, seconds=30):
    """Waits (bounded) for `node` to exist, woken by an exists watch."""
    deadline = time.time() + seconds
    event = threading.Event()
    while time.time() < deadline:
        if zk.exists(node, watch=lambda _: event.set()):
            return
        event.wait(min(1.0, max(0.0, deadline - time.time())))
        event.clear()
    raise SystemExit("timed out waiting for " + node)


def main():
    hosts, mode, path = sys.argv[1:4]
    zk = KazooClient(hosts=hosts, timeout=10)
    zk.start(timeout=15)
    if mode in ("hold", "hold-read", "hold-write"):
        lock = {"hold": Lock, "hold-read": ReadLock, "hold-write": WriteLock}[mode](zk, path, "kazoo")
        if not try_acquire(lock, 20):
            raise SystemExit("could not acquire")
        zk.create("/signal/held", makepath=True)
        print("held", flush=True)
        wait_for(zk, "/signal/release")
        lock.release()
        print("released", flush=True)
    elif mode == "subclass":
        lock = CuratorCompatibleLock(zk, path, "kazoo")
        print("first:%s" % try_acquire(lock, 1.5), flush=True)
        zk.create("/signal/tried", makepath=True)
        wait_for(zk, "/signal/go")
        acquired = try_acquire(lock, 20)
        print("second:%s" % acquired, flush=True)
        if acquired:
            print("children:%s" % ",".join(sorted(zk.get_children(path))), flush=True)
            lock.release()
    else:
        raise SystemExit("unknown mode " + mode)
    zk.stop()
    print("done", flush=True)


main()
