"""``conformance-v2``: ``conformance`` with exactly one change, in the drift
case (it calls ``conf_echo`` where v1 waits for the signal ``go``). The
cases are v1's ``conformance_cases.py``: the guest build puts a drift
variant's base guest (``conformance`` for ``conformance-v2``) on its path."""

import continuum
from conformance_cases import conformance

WitWorld = continuum.workflow(conformance(drift_v2=True))
