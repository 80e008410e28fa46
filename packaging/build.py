"""Build the installable Frontdesk for the system this runs on: `python packaging/build.py` (see docs/packaging.md)."""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "packaging" / "frontdesk.spec"
APP_ID = "io.github.frontdesk.Frontdesk"
ISCC_CANDIDATES = (
    r"C:\Program Files (x86)\Inno Setup 6\ISCC.exe",
    r"C:\Program Files\Inno Setup 6\ISCC.exe",
)


class BuildError(Exception):
    """The build cannot go on; the message says why and what to do."""


def project_version() -> str:
    """The version in pyproject.toml."""
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return str(data["project"]["version"])


def machine() -> str:
    """The CPU architecture in the usual package spelling."""
    name = platform.machine().lower()
    return {"amd64": "x86_64", "arm64": "aarch64"}.get(name, name) if sys.platform != "darwin" else name


def tree_size(path: Path) -> int:
    """Bytes of all files under `path` (or of the file itself)."""
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def run_pyinstaller(dist: Path, work: Path, tray_only: bool) -> None:
    """Freeze the app with the spec into `dist`."""
    if importlib.util.find_spec("PyInstaller") is None:
        raise BuildError(
            "PyInstaller is not installed in this environment; run `.venv/bin/pip install -e '.[packaging]'`"
        )
    missing = [p for p in (ROOT / "resources" / "translations").glob("*.ts") if not p.with_suffix(".qm").exists()]
    if missing:
        raise BuildError(f"compiled translations are missing for {missing}; run packaging/update_translations.py")
    env = {**os.environ, "FRONTDESK_TRAY_ONLY": "1" if tray_only else "0"}
    command = [
        sys.executable,
        "-m",
        "PyInstaller",
        "--noconfirm",
        "--clean",
        "--log-level",
        "WARN",
        "--distpath",
        str(dist),
        "--workpath",
        str(work),
        str(SPEC),
    ]
    subprocess.run(command, cwd=ROOT, env=env, check=True)  # noqa: S603 (our own fixed command line)


def package_linux(dist: Path, version: str) -> Path:
    """A tar.gz with the app folder, the desktop file, metainfo, icons and install.sh."""
    stage = dist / "linux-stage"
    shutil.rmtree(stage, ignore_errors=True)
    share = stage / "share"
    linux = ROOT / "resources" / "linux"
    (share / "applications").mkdir(parents=True)
    (share / "metainfo").mkdir(parents=True)
    shutil.copy2(linux / f"{APP_ID}.desktop", share / "applications")
    shutil.copy2(linux / f"{APP_ID}.metainfo.xml", share / "metainfo")
    shutil.copytree(linux / "icons", share / "icons")
    shutil.copy2(ROOT / "packaging" / "linux" / "install.sh", stage / "install.sh")
    name = f"frontdesk-{version}-linux-{machine()}"
    archive = dist / f"{name}.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(dist / "frontdesk", arcname=f"{name}/frontdesk")
        for item in sorted(stage.iterdir()):
            tar.add(item, arcname=f"{name}/{item.name}")
    shutil.rmtree(stage)
    return archive


def package_macos(dist: Path, version: str) -> Path:
    """A .dmg with Frontdesk.app (a .zip where hdiutil is missing)."""
    app = dist / "Frontdesk.app"
    name = f"frontdesk-{version}-macos-{machine()}"
    hdiutil = shutil.which("hdiutil")
    if hdiutil is not None:
        image = dist / f"{name}.dmg"
        image.unlink(missing_ok=True)
        subprocess.run(  # noqa: S603 (our own fixed command line)
            [
                hdiutil,
                "create",
                "-volname",
                "Frontdesk",
                "-srcfolder",
                str(app),
                "-ov",
                "-format",
                "UDZO",
                str(image),
            ],
            check=True,
        )
        return image
    return Path(shutil.make_archive(str(dist / name), "zip", dist, app.name))


def package_windows(dist: Path, version: str) -> Path:
    """The Inno Setup installer (needs Inno Setup 6's ISCC)."""
    iscc = shutil.which("iscc") or next((c for c in ISCC_CANDIDATES if Path(c).exists()), None)
    if iscc is None:
        raise BuildError("Inno Setup 6 is not installed (ISCC.exe not found); install it, or use --no-package")
    subprocess.run(  # noqa: S603 (our own fixed command line)
        [
            iscc,
            f"/DAppVersion={version}",
            f"/DSourceDir={dist / 'frontdesk'}",
            f"/DOutputDir={dist}",
            str(ROOT / "packaging" / "windows" / "frontdesk.iss"),
        ],
        check=True,
    )
    return dist / f"frontdesk-{version}-windows-x64-setup.exe"


def main(argv: list[str] | None = None) -> int:
    """Build the app folder and the system's package; print where they are, their size and the time taken."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dist", type=Path, default=ROOT / "dist", help="output directory (default: dist/)")
    parser.add_argument("--work", type=Path, default=ROOT / "build", help="PyInstaller work directory")
    parser.add_argument("--no-package", action="store_true", help="only the app folder, no archive or installer")
    parser.add_argument("--tray-only", action="store_true", help="macOS: LSUIElement, no Dock icon")
    args = parser.parse_args(argv)
    dist, work = args.dist.resolve(), args.work.resolve()
    version = project_version()
    started = time.monotonic()
    try:
        run_pyinstaller(dist, work, args.tray_only)
        app = dist / ("Frontdesk.app" if sys.platform == "darwin" else "frontdesk")
        package: Path | None = None
        if not args.no_package:
            if sys.platform == "win32":
                package = package_windows(dist, version)
            elif sys.platform == "darwin":
                package = package_macos(dist, version)
            else:
                package = package_linux(dist, version)
    except BuildError as error:
        print(f"build: {error}", file=sys.stderr)
        return 1
    except subprocess.CalledProcessError as error:
        print(f"build: {error.cmd[0]} failed with exit code {error.returncode}; see its output above", file=sys.stderr)
        return 1
    elapsed = time.monotonic() - started
    print(f"build: app     {app}  ({tree_size(app) / 1e6:.0f} MB)")
    if package is not None:
        print(f"build: package {package}  ({tree_size(package) / 1e6:.0f} MB)")
    print(f"build: took {elapsed:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
