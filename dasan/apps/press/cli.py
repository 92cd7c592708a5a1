"""`dasan press …`: the press desk's commands (each defined beside the code it drives)."""

from __future__ import annotations

import click


@click.group()
def press() -> None:
    """보도자료: 작성(draft), 문체 점검(check), 발표 이력(timeline)."""
