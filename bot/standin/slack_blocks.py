"""Block Kit checks of the Slack stand-in: what Slack answers `invalid_blocks` for."""

from __future__ import annotations

from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View


def _walk(node: Any, path: str = "") -> Any:
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            yield from _walk(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, f"{path}[{i}]")


def _text_of(obj: Any) -> str:
    return obj.get("text", "") if isinstance(obj, dict) else str(obj or "")


def block_problems(blocks: Any, *, max_blocks: int) -> list[str]:
    """What Slack would call `invalid_blocks` in this list (empty when fine)."""
    if not isinstance(blocks, list):
        return ["blocks must be a list"]
    problems: list[str] = []
    if len(blocks) > max_blocks:
        problems.append(f"{len(blocks)} blocks > {max_blocks}")
    for i, raw in enumerate(blocks):
        parsed = Block.parse(raw) if isinstance(raw, dict) else None
        if parsed is None:
            problems.append(f"blocks[{i}] has an unknown type")
            continue
        try:
            parsed.validate_json()
        except SlackObjectFormationError as exc:
            problems.append(f"blocks[{i}]: {exc}")
    for path, node in _walk(blocks):
        for key in ("action_id", "block_id", "callback_id"):
            if key in node and len(str(node[key])) > 255:
                problems.append(f"{path}.{key} longer than 255")
        kind = node.get("type")
        if kind == "button":
            if len(_text_of(node.get("text"))) > 75:
                problems.append(f"{path}: button text over 75")
            if len(str(node.get("value", ""))) > 2000:
                problems.append(f"{path}: button value over 2000")
        if kind == "header" and len(_text_of(node.get("text"))) > 150:
            problems.append(f"{path}: header over 150")
        if kind == "section":
            if "text" not in node and "fields" not in node:
                problems.append(f"{path}: section without text or fields")
            if len(_text_of(node.get("text"))) > 3000:
                problems.append(f"{path}: section text over 3000")
            if len(node.get("fields") or []) > 10:
                problems.append(f"{path}: more than 10 fields")
            for f in node.get("fields") or []:
                if len(_text_of(f)) > 2000:
                    problems.append(f"{path}: field over 2000")
        if kind == "context" and len(node.get("elements") or []) > 10:
            problems.append(f"{path}: context over 10 elements")
        if kind == "actions" and len(node.get("elements") or []) > 25:
            problems.append(f"{path}: actions over 25 elements")
        if kind in ("mrkdwn", "plain_text") and not _text_of(node):
            problems.append(f"{path}: empty text object")
        if "options" in node and isinstance(node["options"], list):
            if len(node["options"]) > 100:
                problems.append(f"{path}: over 100 options")
            for opt in node["options"]:
                if len(_text_of(opt.get("text"))) > 75 or len(str(opt.get("value", ""))) > 150:
                    problems.append(f"{path}: option text/value too long")
    return problems


def view_problems(view: Any) -> list[str]:
    if not isinstance(view, dict):
        return ["view must be an object"]
    problems: list[str] = []
    kind = view.get("type")
    if kind not in ("modal", "home"):
        problems.append("view.type must be modal or home")
    if kind == "modal":
        for key in ("title", "submit", "close"):
            if key in view and len(_text_of(view[key])) > 24:
                problems.append(f"view.{key} over 24")
        if not _text_of(view.get("title")):
            problems.append("modal without title")
        has_input = any(b.get("type") == "input" for b in view.get("blocks") or [])
        if has_input and "submit" not in view:
            problems.append("modal with inputs needs submit")
    if len(str(view.get("private_metadata", ""))) > 3000:
        problems.append("private_metadata over 3000")
    problems += block_problems(view.get("blocks") or [], max_blocks=100)
    try:
        View(**view).validate_json()
    except (SlackObjectFormationError, TypeError) as exc:
        problems.append(f"view: {exc}")
    return problems
