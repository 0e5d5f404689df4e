"""The ``dendrite`` command line: ``train``, ``tour``, ``datasets``, ``models``, ``sample``."""
