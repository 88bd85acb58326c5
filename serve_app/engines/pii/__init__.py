"""PHI masking: the :class:`PiiMasker` protocol, the Presidio backend (:mod:`.engine`),
clinical recognizers (:mod:`.recognizers`) and session pseudonyms (:mod:`.pseudonyms`).
Importing this package does not load Presidio or spaCy; building a :class:`PiiEngine` does."""
from serve_app.engines.pii.engine import MaskedSpan, MaskResult, PiiEngine, PiiMasker, mask_known_values, mask_segments
from serve_app.engines.pii.pseudonyms import PseudonymMap

__all__ = ["MaskedSpan", "MaskResult", "PiiEngine", "PiiMasker", "mask_known_values", "mask_segments",
           "PseudonymMap"]
