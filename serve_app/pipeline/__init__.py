"""What runs inside the Pipeline deployment: the per-session processor (:mod:`.processor`),
note drafts (:mod:`.note_updater`) and their checks (:mod:`.note_checks`), and the one
background-task helper they share (:mod:`.tasks`)."""
