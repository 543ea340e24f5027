"""``python -m tariffstack.surfaces.cli``: the same as the ``tariffstack`` command."""

from tariffstack.surfaces.cli.app import main

main()
