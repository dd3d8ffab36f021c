"""``proctor simulate``: a whole sitting with simulated candidates against the real services (issue 9)."""

from proctor_cli.simulate.plan import SimConfig
from proctor_cli.simulate.run import Hooks, Simulation, simulate

__all__ = ["Hooks", "SimConfig", "Simulation", "simulate"]
