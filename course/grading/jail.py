"""Pid 1 of a sandbox: build a private root filesystem, then run the child as an unprivileged user.

Run as ``unshare --mount --pid --fork --kill-child --net -- python -I -S jail.py CONFIG`` (with
``--user --map-root-user`` when the grader is not root). Standard library only. It

1. makes every mount private, mounts a small tmpfs as the new root and binds into it, read-only,
   only what Python needs (``/usr``, ``/etc``, the interpreter and its virtual environment) and
   the sandbox's box (the submission's files and the child runner) at ``/box``;
2. gives the child a fresh ``/proc`` (its own pid namespace only) and a size-limited ``/tmp``;
3. chroots there, forks, and in the fork drops to the sandbox uid, sets the resource limits and
   execs the child runner; it stays behind as init, reaping orphans, and exits with the child's
   status. When it exits (or is killed with the ``unshare`` that started it), the kernel kills
   every process left in the pid namespace, grandchildren that called ``setsid`` included.

Nothing of the instructor's (the repository, the reference, other submissions, the grader's
work folder) exists inside the new root.
"""

import ctypes
import json
import os
import resource
import signal
import sys

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True)


def _mount(source, target, fstype, flags, data=None):
    if _libc.mount(source.encode() if source else None, target.encode(), fstype.encode() if fstype else None,
                   ctypes.c_ulong(flags), data.encode() if data else None) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount {source} on {target}: {os.strerror(err)}")


def _bind(root, path, target=None, writable=False):
    """Make host ``path`` appear at ``target`` (default: the same path) inside ``root``."""
    inside = root + (target or path)
    if os.path.islink(path) and target is None:
        os.makedirs(os.path.dirname(inside), exist_ok=True)
        if not os.path.lexists(inside):
            os.symlink(os.readlink(path), inside)
        return
    if not os.path.exists(path):
        return
    if os.path.isdir(path):
        os.makedirs(inside, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(inside), exist_ok=True)
        if not os.path.exists(inside):
            open(inside, "w").close()
    _mount(path, inside, None, MS_BIND | MS_REC)
    if not writable:
        flags = MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID
        try:
            _mount(None, inside, None, flags | MS_NODEV)
        except OSError:
            _mount(None, inside, None, flags)  # a mount whose nodev flag is locked (user namespaces)


def build_root(cfg):
    root = cfg["mountpoint"]
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    _mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=8m,mode=755")
    os.makedirs(root + "/tmp", exist_ok=True)  # first, so that what is bound under /tmp stays visible
    _mount("tmpfs", root + "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, f"size={cfg['tmp_mb']}m,mode=1777")
    for path in cfg["system"]:
        _bind(root, path)
    for path in cfg["readonly"]:
        _bind(root, path)
    for dev in ("null", "zero", "urandom", "random"):
        _bind(root, f"/dev/{dev}", writable=True)
    _bind(root, cfg["box"], "/box")
    os.makedirs(root + "/proc", exist_ok=True)
    _mount("proc", root + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    os.chroot(root)
    os.chdir("/")
    for folder in ("/tmp/work", "/tmp/files"):
        os.makedirs(folder, mode=0o700, exist_ok=True)
        if cfg.get("uid") is not None:
            os.chown(folder, cfg["uid"], cfg["gid"])


def limit(cfg):
    """Resource limits of the child (called in the child, after dropping privileges or not)."""
    for name, value in cfg["rlimits"].items():
        which = getattr(resource, name)
        resource.setrlimit(which, (value, value))


def become_child(cfg):
    os.setsid()
    uid, gid = cfg.get("uid"), cfg.get("gid")
    if uid is not None:
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # cleared by setuid: set it again
    limit(cfg)
    os.chdir(cfg["cwd"])
    os.execve(cfg["argv"][0], cfg["argv"], cfg["env"])


def main():
    with open(sys.argv[1]) as f:
        cfg = json.load(f)
    try:
        build_root(cfg)
    except OSError as exc:
        print(f"sandbox: could not build the private root: {exc}", file=sys.stderr)
        os._exit(70)
    pid = os.fork()
    if pid == 0:
        try:
            become_child(cfg)
        except BaseException as exc:  # noqa: BLE001 - say why, then fail
            print(f"sandbox: could not start the child: {type(exc).__name__}: {exc}", file=sys.stderr)
        finally:
            os._exit(71)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    while True:  # init: reap every orphan until the runner itself ends
        try:
            done, status = os.wait()
        except ChildProcessError:
            os._exit(72)
        if done == pid:
            if os.WIFSIGNALED(status):
                os._exit(128 + os.WTERMSIG(status))
            os._exit(os.WEXITSTATUS(status))


if __name__ == "__main__":
    main()
