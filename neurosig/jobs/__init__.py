"""Jobs: the work that is not a stream (train a model, evaluate decoders), one module per job.

Jobs orchestrate data and models, so this layer sits above every library layer; each module holds
one registered :class:`~neurosig.core.stage.Job`.
"""
