"""Branch configuration files (TOML or JSON) read from disk: the shell's side of ``core.branch_config``."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

from queue_board.core.branch_config import BranchConfig, ConfigError, parse_config


def load_config_file(path: str | Path) -> BranchConfig:
    """Read a configuration file: ``.toml`` or ``.json``."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError("file", f"cannot read {path}: {exc.strerror}") from None
    try:
        obj = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError("file", f"{path} is not valid {'TOML' if path.suffix == '.toml' else 'JSON'}: {exc}") from None
    return parse_config(obj)
