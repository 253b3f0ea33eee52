#!/usr/bin/env python3
"""Check the shard wiring of examples/kubernetes/ (used by T180-shards).

    k8s_wiring.py DIR CONTAINERFILE INI_OUT

Loads the manifests that DIR/kustomization.yaml lists and checks that the
CronJob is an Indexed Job whose N completions match the N of its
`--shard $(JOB_COMPLETION_INDEX)/N`, that digest.ini comes from the
ConfigMap where `-c` reads it, that the database (and log) path carries the
index and lies on the PersistentVolumeClaim, that every password_command
reads a file the Secret mounts, and that the pod runs as the image's user.
Writes the ConfigMap's digest.ini to INI_OUT and prints `N=<shards>`.
Exits 1 naming each problem.
"""
import configparser
import os
import re
import sys

import yaml

INDEX = "JOB_COMPLETION_INDEX"
problems = []


def check(ok, msg):
    if not ok:
        problems.append(msg)
    return ok


def mount_of(mounts, path):
    """The volumeMount whose mountPath holds path (the longest)."""
    best = None
    for m in mounts:
        mp = m["mountPath"].rstrip("/")
        if path.startswith(mp + "/") and (not best or len(mp) > len(best["mountPath"])):
            best = m
    return best


def main():
    d, containerfile, ini_out = sys.argv[1:4]
    kust = yaml.safe_load(open(os.path.join(d, "kustomization.yaml")))
    files = kust["resources"]
    on_disk = sorted(f for f in os.listdir(d) if f.endswith(".yaml") and f != "kustomization.yaml")
    check(sorted(files) == on_disk, f"kustomization lists {sorted(files)}, the directory has {on_disk}")
    docs = []
    for f in files:
        docs += [x for x in yaml.safe_load_all(open(os.path.join(d, f))) if x]
    kinds = {}
    for x in docs:
        kinds.setdefault(x["kind"], []).append(x)
    for k in ("CronJob", "ConfigMap", "Secret", "PersistentVolumeClaim"):
        check(len(kinds.get(k, [])) == 1, f"want exactly one {k}, have {len(kinds.get(k, []))}")
    if problems:
        return
    cj, cm, secret, pvc = (kinds[k][0] for k in ("CronJob", "ConfigMap", "Secret", "PersistentVolumeClaim"))

    check(cj["apiVersion"] == "batch/v1", "CronJob apiVersion is not batch/v1")
    check(cj["spec"].get("concurrencyPolicy") == "Forbid", "concurrencyPolicy is not Forbid")
    job = cj["spec"]["jobTemplate"]["spec"]
    check(job.get("completionMode") == "Indexed", "completionMode is not Indexed")
    n = job.get("completions")
    check(isinstance(n, int) and n >= 1, f"completions is {n!r}")
    par = job.get("parallelism", 1)
    check(isinstance(par, int) and 1 <= par <= (n or 0), f"parallelism {par!r} outside 1..{n}")
    pod = job["template"]["spec"]
    check(pod.get("restartPolicy") in ("Never", "OnFailure"), "restartPolicy must be Never or OnFailure")
    (c,) = pod["containers"]
    check(bool(c.get("image")), "no image")
    argv = (c.get("command") or []) + (c.get("args") or [])
    check("run" in argv, f"the container does not run 'digest run': {argv}")
    check("--leader" not in argv, "a shard must not name leaders")
    shard = argv[argv.index("--shard") + 1] if "--shard" in argv[:-1] else None
    check(shard == f"$({INDEX})/{n}", f"--shard is {shard!r}, want $({INDEX})/{n}")
    env = {e["name"]: e for e in c.get("env", [])}
    check(INDEX not in env, f"{INDEX} is set by the Job, not by hand")

    # Volumes and where they are mounted.
    vols = {v["name"]: v for v in pod["volumes"]}
    mounts = c["volumeMounts"]
    if not all([check(m["name"] in vols, f"volumeMount {m['name']} has no volume") for m in mounts]):
        return

    def vol_at(path):
        m = mount_of(mounts, path)
        return (m, vols[m["name"]]) if m else (None, None)

    # The configuration: -c FILE (or DIGEST_CONFIG) from the ConfigMap.
    conf = argv[argv.index("-c") + 1] if "-c" in argv[:-1] else env.get("DIGEST_CONFIG", {}).get("value")
    m, v = vol_at(conf or "")
    ini = None
    if check(v is not None and "configMap" in v, f"-c {conf} is not on a ConfigMap volume"):
        check(v["configMap"]["name"] == cm["metadata"]["name"], "the config volume names another ConfigMap")
        check(m.get("readOnly") is True, "the config is not mounted read-only")
        key = os.path.relpath(conf, m["mountPath"])
        for item in v["configMap"].get("items", []):
            if item["path"] == key:
                key = item["key"]
        ini = cm["data"].get(key)
        check(ini is not None, f"the ConfigMap has no key {key}")
    if ini is None:
        return
    with open(ini_out, "w") as f:
        f.write(ini)
    cp = configparser.ConfigParser(interpolation=None, strict=True, delimiters=("=",),
                                   comment_prefixes=(";", "#"), inline_comment_prefixes=(";",))
    cp.optionxform = str
    cp.read_string(ini)

    # One database (and log) per shard, on the claim, writable.
    def on_data(key):
        path = cp.get("digest", key, fallback=None)
        if path is None:
            return check(key != "database", "no [digest] database")
        check(f"${{{INDEX}}}" in path or f"${INDEX}" in path, f"{key} {path} does not carry ${{{INDEX}}}")
        m, v = vol_at(path)
        if check(v is not None and "persistentVolumeClaim" in v, f"{key} {path} is not on the PersistentVolumeClaim"):
            check(v["persistentVolumeClaim"]["claimName"] == pvc["metadata"]["name"], f"{key}: another claim")
            check(not m.get("readOnly"), f"{key}: the volume is mounted read-only")

    on_data("database")
    on_data("log_file")
    if par > 1:
        check("ReadWriteMany" in pvc["spec"]["accessModes"], "shards run at once but the claim is not ReadWriteMany")

    # Every password_command reads a file that the Secret mounts; every
    # key of the Secret is read by someone.
    keys = set(secret.get("stringData", {})) | set(secret.get("data", {}))
    used = set()
    for sec in cp.sections():
        pc = cp.get(sec, "password_command", fallback=None)
        if pc is None:
            continue
        mm = re.fullmatch(r"cat (\S+)", pc)
        if not check(mm, f"[{sec}] password_command is not 'cat FILE': {pc}"):
            continue
        path = mm.group(1)
        m, v = vol_at(path)
        if check(v is not None and "secret" in v, f"[{sec}] {path} is not on a Secret volume"):
            check(v["secret"]["secretName"] == secret["metadata"]["name"], f"[{sec}] another Secret")
            key = os.path.relpath(path, m["mountPath"])
            check(key in keys, f"[{sec}] the Secret has no key {key}")
            used.add(key)
    check(used == keys, f"Secret keys nobody reads: {sorted(keys - used)}")

    # The pod runs as the image's non-root user, and may write only volumes.
    sc = pod.get("securityContext", {})
    user = re.search(r"^USER\s+(\d+):(\d+)\s*$", open(containerfile).read(), re.M)
    if check(user, "the Containerfile has no numeric USER uid:gid"):
        check(sc.get("runAsNonRoot") is True, "runAsNonRoot is not set")
        check(sc.get("runAsUser") == int(user.group(1)), "runAsUser is not the image's USER")
        check(sc.get("runAsGroup") == int(user.group(2)), "runAsGroup is not the image's group")
        check(sc.get("fsGroup") == int(user.group(2)), "fsGroup is not the image's group (the secrets are 0440)")
    home = env.get("HOME", {}).get("value", "/var/lib/digest")
    if c.get("securityContext", {}).get("readOnlyRootFilesystem"):
        m, v = vol_at(home + "/x")
        check(v is not None and not m.get("readOnly"), f"HOME {home} is not on a writable volume")
    print(f"N={n}")


main()
if problems:
    for p in problems:
        print("k8s:", p, file=sys.stderr)
    sys.exit(1)
