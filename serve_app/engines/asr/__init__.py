"""Speech recognition: the :class:`AsrBackend` protocol, the faster-whisper backend
(:mod:`.whisper`), packaged model resolution (:mod:`.models`) and the pure streaming
commit policy (:mod:`.streaming`)."""
from serve_app.engines.asr.protocol import AsrBackend, AsrSegment, Word, segment_from_words
from serve_app.engines.asr.streaming import CommitDecision, decide_commit

__all__ = ["AsrBackend", "AsrSegment", "Word", "segment_from_words", "CommitDecision", "decide_commit"]
