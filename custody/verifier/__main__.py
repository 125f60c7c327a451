"""Entry point for ``python3 -m custody.verifier`` and for running this directory itself."""

import sys

if __package__:
    from .cli import main
else:  # ``python3 -I <this directory>``: load the directory as a package, whatever its name
    import importlib.util
    import os

    _here = os.path.dirname(os.path.abspath(__file__))
    _spec = importlib.util.spec_from_file_location(
        "custody_verifier", os.path.join(_here, "__init__.py"), submodule_search_locations=[_here]
    )
    _package = importlib.util.module_from_spec(_spec)
    sys.modules["custody_verifier"] = _package
    _spec.loader.exec_module(_package)
    main = importlib.import_module("custody_verifier.cli").main

sys.exit(main())
