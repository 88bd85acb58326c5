"""The HTTP surface (API.md): routes (:mod:`.routes`), the serving object behind them
(:mod:`.service`), request and response schemas (:mod:`.schemas`), authentication
(:mod:`.auth`), feedback recording (:mod:`.feedback`) and error mapping (:mod:`.errors`).
The Serve deployment that hosts it is ``deployments/ingress.py``."""
