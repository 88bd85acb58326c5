"""What runs inside the Pipeline deployment: the per-session processor (:mod:`.processor`),
note drafts (:mod:`.note_updater`) and their checks (:mod:`.note_checks`), the one
background-task helper (:mod:`.tasks`) and the typed clients of the other deployments
and the session store (:mod:`.clients`)."""
