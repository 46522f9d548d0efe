"""A minimal PEP 517 / PEP 660 build backend for the pure-Python sinter module (no build tools needed).

pip calls it for `pip install ./python` (build_wheel) and `pip install -e ./python`
(build_editable: a .pth file pointing at this folder). The wheel holds sinter/*.py and the
metadata of pyproject.toml's [project] table (name, version, description, requires-python,
dependencies).
"""
import base64
import hashlib
import io
import os
import re
import tarfile
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE = "sinter"


def _project():
    with open(os.path.join(HERE, "pyproject.toml"), "rb") as f:
        raw = f.read()
    try:
        import tomllib
        return tomllib.loads(raw.decode())["project"]
    except ImportError:
        # Python < 3.11: the few flat keys of [project] this file uses
        text = raw.decode().split("[project]", 1)[1].split("\n[", 1)[0]
        out = {k: v for k, v in re.findall(r'^(\w[\w-]*)\s*=\s*"([^"]*)"', text, re.M)}
        deps = re.search(r"^dependencies\s*=\s*\[(.*?)\]", text, re.M | re.S)
        out["dependencies"] = re.findall(r'"([^"]+)"', deps.group(1)) if deps else []
        return out


def _metadata(p):
    lines = ["Metadata-Version: 2.1", "Name: " + p["name"], "Version: " + p["version"]]
    if p.get("description"):
        lines.append("Summary: " + p["description"])
    if p.get("requires-python"):
        lines.append("Requires-Python: " + p["requires-python"])
    lines += ["Requires-Dist: " + d for d in p.get("dependencies", [])]
    return ("\n".join(lines) + "\n").encode()


def _dist_info(p):
    return "%s-%s.dist-info" % (p["name"], p["version"])


def _wheel_name(p):
    return "%s-%s-py3-none-any.whl" % (p["name"], p["version"])


def _write_wheel(directory, files):
    """files: [(archive name, bytes)]; the dist-info's RECORD is added last."""
    p = _project()
    info = _dist_info(p)
    files = list(files) + [
        (info + "/METADATA", _metadata(p)),
        (info + "/WHEEL", b"Wheel-Version: 1.0\nGenerator: sinter build_backend\nRoot-Is-Purelib: true\n"
                          b"Tag: py3-none-any\n"),
    ]
    record = io.StringIO()
    for name, data in files:
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.write("%s,sha256=%s,%d\n" % (name, digest, len(data)))
    record.write(info + "/RECORD,,\n")
    files.append((info + "/RECORD", record.getvalue().encode()))
    name = _wheel_name(p)
    with zipfile.ZipFile(os.path.join(directory, name), "w", zipfile.ZIP_DEFLATED) as z:
        for arc, data in files:
            zi = zipfile.ZipInfo(arc, date_time=(2020, 1, 1, 0, 0, 0))
            zi.external_attr = 0o644 << 16
            z.writestr(zi, data, zipfile.ZIP_DEFLATED)
    return name


def _sources():
    pkg = os.path.join(HERE, PACKAGE)
    for f in sorted(os.listdir(pkg)):
        if f.endswith(".py"):
            with open(os.path.join(pkg, f), "rb") as fh:
                yield PACKAGE + "/" + f, fh.read()


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_editable(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    return _write_wheel(wheel_directory, _sources())


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    return _write_wheel(wheel_directory, [(PACKAGE + ".pth", (HERE + "\n").encode())])


def build_sdist(sdist_directory, config_settings=None):
    p = _project()
    base = "%s-%s" % (p["name"], p["version"])
    name = base + ".tar.gz"
    with tarfile.open(os.path.join(sdist_directory, name), "w:gz") as t:
        for rel in ["pyproject.toml", "build_backend.py"] + [a for a, _ in _sources()]:
            t.add(os.path.join(HERE, rel), arcname=base + "/" + rel)
        pkg_info = tarfile.TarInfo(base + "/PKG-INFO")
        meta = _metadata(p)
        pkg_info.size = len(meta)
        t.addfile(pkg_info, io.BytesIO(meta))
    return name
