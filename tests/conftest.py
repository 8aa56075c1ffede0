import sys
from pathlib import Path

import torch

# Small models run fastest on one thread, and several test processes must not oversubscribe CI's 2 cores.
torch.set_num_threads(1)
sys.path.insert(0, str(Path(__file__).parent))
