"""``conformance``: the conformance cases of ``docs/conformance.md`` in
Python (``conformance_cases.py``, shared with ``conformance-v2``)."""

import continuum
from conformance_cases import conformance

WitWorld = continuum.workflow(conformance(drift_v2=False))
