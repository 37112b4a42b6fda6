"""Load Rasa tracker-store events and bot models into the rasa_semantic_schema source layout (with dlt).

Run ``python -m rasa_tracker_loader --help``.
"""

from .cli import main
from .events import record_hash

__all__ = ["main", "record_hash"]
__version__ = "2.0.0"
