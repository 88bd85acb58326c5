"""Plain-Python engines, one package per capability, none importing Ray.

=============  ==========================================  =========================
package        what it does                                wrapped by
=============  ==========================================  =========================
``asr``        speech -> words with timings; streaming     ``deployments/asr.py``
``pii``        PHI -> session-consistent placeholders      ``deployments/pii.py``
``roles``      doctor / patient for every segment          ``deployments/roles.py``
``notes``      masked transcript -> SOAP note with cites   ``deployments/notes.py``
``guardrails`` note items checked against what was said    ``deployments/guardrails.py``
=============  ==========================================  =========================

``audio`` (decoding uploads) and ``text`` (shared text utilities) serve several.
Each capability package exports its protocol and public names; heavy backends
(vLLM, transformers, Presidio) load only when their module is imported.
"""
