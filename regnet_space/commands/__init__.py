"""Subcommands of ``regnet-space``; each module registers its parsers (see ``regnet_space.cli``)."""
