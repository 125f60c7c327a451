"""Standalone verifier of custody-log proof bundles (standard library only, no Django).

Run ``python3 -I -m custody.verifier bundle.json`` from the project, or copy this
directory anywhere (an evidence disc) and run ``python3 -I <directory> bundle.json``.
The format it reads is specified in docs/custody-log.md.
"""
