"""`dasan press …`: the press desk's commands (each defined beside the code it drives)."""

from __future__ import annotations

import click


@click.group()
def press() -> None:
    """보도자료: 작성(draft), 문체 점검(check), 발표 이력(timeline)."""
from dasan.apps.press.draft_cmd import draft  # noqa: E402, I001
press.add_command(draft)
from dasan.apps.press.check_cmd import check  # noqa: E402, I001
press.add_command(check)
from dasan.apps.press.timeline_cmd import timeline  # noqa: E402, I001
press.add_command(timeline)
