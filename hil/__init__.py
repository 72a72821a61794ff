"""Hardware-in-the-loop: rig definitions (`hil.rig`), the rig check, record and replay at the desk.

Rig files live in `hil/rigs/`. The package composes padctl with benches and simulators, so
padctl itself never imports it (only its command line does).
"""
