"""Plain-text transcripts for base models that have no chat template.

A base model only continues text, so the chat is written out as a few-shot transcript and the
model continues after the final answer cue::

    다음 자료만 근거로 답하세요.          <- system messages, as plain paragraphs

    질문: 서울은 어느 나라의 수도인가?    <- earlier user/assistant pairs (few-shot examples)
    답변: 대한민국

    질문: 철도안전법의 목적은?
    답변:                                 <- the model writes from here

Generation must stop where the model starts the next turn; :func:`transcript_stops` gives the
stop strings for that. A trailing assistant message is treated as the beginning of the answer
(prefill) and continued rather than closed.
"""

from __future__ import annotations

USER_LABEL = "질문"
ASSISTANT_LABEL = "답변"


def _one_line_label(label: str) -> str:
    label = " ".join(label.split())
    if not label:
        raise ValueError("transcript labels must not be empty")
    return label


def render_transcript(
    messages: list[dict[str, str]],
    *,
    user_label: str = USER_LABEL,
    assistant_label: str = ASSISTANT_LABEL,
) -> str:
    """Render chat ``messages`` as a transcript that ends with the assistant's answer cue."""
    ul, al = _one_line_label(user_label), _one_line_label(assistant_label)
    blocks: list[str] = []
    turn: list[str] = []  # lines of the current question/answer pair
    for i, m in enumerate(messages):
        role, content = m["role"], m["content"].strip()
        last = i == len(messages) - 1
        if role == "system":
            if turn:
                blocks.append("\n".join(turn))
                turn = []
            if content:
                blocks.append(content)
        elif role == "user":
            if turn:
                blocks.append("\n".join(turn))
            turn = [f"{ul}: {content}"]
        else:  # assistant
            # a trailing assistant message is a prefill: keep it open for the model to continue
            turn.append(f"{al}: {m['content'].lstrip()}" if last else f"{al}: {content}")
            if not last:
                blocks.append("\n".join(turn))
                turn = []
    if not messages or messages[-1]["role"] != "assistant":
        turn.append(f"{al}:")
    blocks.append("\n".join(turn))
    return "\n\n".join(blocks)


def transcript_stops(*, user_label: str = USER_LABEL, assistant_label: str = ASSISTANT_LABEL) -> list[str]:
    """Stop strings that end the answer where the model would start a new turn."""
    ul, al = _one_line_label(user_label), _one_line_label(assistant_label)
    return [f"\n{ul}:", f"\n{al}:", "\n\n\n"]
