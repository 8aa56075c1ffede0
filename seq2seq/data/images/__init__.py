"""Images in: reading image files into column sequences (`reading.py`), a manifest of images and their texts
(`manifest.py`), the built-in rendered text lines (`rendered.py`) and handwritten digit strings (`digits.py`),
and training-time augmentation (`augment.py`)."""
