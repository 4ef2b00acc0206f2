"""Install the three top-level folders as one import name, `supportbot`.

The folders stay where the project is known by them (bot/, handlers/, storage/); this maps
each one, and every package below it, to `supportbot.<folder>` (pyproject.toml cannot list
subpackages found at build time under a mapped name).
"""

from setuptools import find_packages, setup

FOLDERS = ("bot", "handlers", "storage")

package_dir = {}
for folder in FOLDERS:
    for sub in ["", *find_packages(folder)]:
        path = f"{folder}/{sub.replace('.', '/')}" if sub else folder
        package_dir[f"supportbot.{folder}{'.' + sub if sub else ''}"] = path

setup(packages=list(package_dir), package_dir=package_dir)
