"""One module per ``digitnet`` subcommand (see digitnet.cli)."""
