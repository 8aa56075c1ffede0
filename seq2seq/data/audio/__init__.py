"""Audio data: WAV files (`wav.py`), log-mel features and SpecAugment (`features.py`), speech manifests and the
spoken-digit generator, and the Griffin-Lim vocoder."""
