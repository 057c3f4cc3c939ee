"""Dataset sizes the command line shows before anything is generated (kept apart from the generator,
which `tunnelhunt generate --help` need not import)."""

#: The smallest dataset: the fixed scenarios take up to half of it, background events the rest.
MIN_EVENTS = 600
