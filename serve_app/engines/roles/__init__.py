"""Doctor / patient roles: the :class:`RoleLabeller` protocol, the engine combining a text
model (:mod:`.text_model`), turn-taking and voices (:mod:`.speaker_turns`,
:mod:`.voice_features`) and channel maps (:mod:`.engine`), and its shipped model
(``resources/role_model.skops``, fitted by ``python -m bench fit roles``)."""
from serve_app.engines.roles.engine import FIXED_SOURCES, RoleEngine, RoleSettings
from serve_app.engines.roles.protocol import RoleLabeller
from serve_app.engines.roles.text_model import DEFAULT_MODEL_PATH, RoleTextModel

__all__ = ["RoleLabeller", "RoleEngine", "RoleSettings", "FIXED_SOURCES", "RoleTextModel", "DEFAULT_MODEL_PATH"]
