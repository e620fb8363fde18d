"""Stateful local fake of the Vocu API (tests, benchmarks, offline demo).

```python
sim = Simulator(SimulatorConfig(voice_creating_seconds=0.2))
base_url = await sim.start()          # http://127.0.0.1:<port>
sim.faults.fail_next(2, status=503, code="NO_WORKER_AVAILABLE")
await sim.stop()
```
"""

from .config import SimulatorConfig
from .faults import Faults
from .server import Simulator
from .state import Account, RequestRecord

__all__ = ["Account", "Faults", "RequestRecord", "Simulator", "SimulatorConfig"]
