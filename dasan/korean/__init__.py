"""Korean language helpers (sentence splitting with Kiwi)."""

from dasan.korean.sentences import get_kiwi, pack_sentences, pack_text, sentence_spans, split_sentences

__all__ = ["get_kiwi", "pack_sentences", "pack_text", "sentence_spans", "split_sentences"]
