"""Build hook: a wheel carries the data folders the harness needs (IG package, suites, load tests,
fixtures) under ``vhr_conformance/_data/``, so `pip install` works outside a checkout.

The list of folders is `vhr_conformance.paths.SHIPPED`, read here without importing the package.
"""

import runpy
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
SHIPPED = runpy.run_path(str(ROOT / "src" / "vhr_conformance" / "paths.py"))["SHIPPED"]
IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "node_modules", ".pytest_cache")


class BuildWithData(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):  # an editable install reads the checkout itself
            return
        target = Path(self.build_lib) / "vhr_conformance" / "_data"
        for folder in SHIPPED:
            source = ROOT / folder.relative
            if not (source / folder.marker).exists():
                raise SystemExit(f"cannot build: {source} lacks {folder.marker}")
            dest = target / folder.relative
            if dest.exists():
                shutil.rmtree(dest)
            shutil.copytree(source, dest, ignore=IGNORE)


setup(cmdclass={"build_py": BuildWithData})
