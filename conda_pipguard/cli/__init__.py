"""Command line: one parser per subcommand, shared by ``conda pipguard`` and ``conda-pipguard``."""
