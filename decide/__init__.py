"""decide: scientific decision-making under uncertainty."""

from decide.errors import DecideError
from decide.pomdp.model import TabularPOMDP
from decide.pomdp.policy import AlphaVectorPolicy, load_policy

__version__ = "0.1.0"

__all__ = ["AlphaVectorPolicy", "DecideError", "TabularPOMDP", "__version__", "load_policy"]
