"""Typed, validated configuration: every field, its default and what it allows.

A config is YAML with a `task:` and the sections `data`, `tokenizer`, `model`, `train` and `decode`. Unknown keys
and bad values raise `UserError` naming the key, the value and what is allowed. `--set a.b.c=value` overrides any
field (the value is parsed as YAML, so `true`, `5e-4` and `[1, 2]` mean what they look like). Paths in `data` are
resolved relative to the config file's folder (or the current folder for a config built in code), and the resolved
config is what a run directory stores.

The sections live one module each — `text.py` (data, tokenizer), `frames.py` (the frames side of speech tasks),
`model.py`, `train.py`, `decode.py` (search and serving) — the task configs in `tasks.py`, and reading, overrides and
error messages in `loading.py`. Nothing here imports torch: `seq2seq train` chooses threads before torch loads.
"""

from .base import DEVICE_PATTERN, Precision, describe_invalid
from .decode import DecodeConfig, SearchSettings, ServeSettings
from .frames import AudioFeaturesConfig, FramesDataConfig, SpecAugmentConfig, SpokenDigitsConfig, SyntheticFramesConfig
from .images import HandwrittenDigitsConfig, ImageAugmentConfig, ImagesDataConfig, RenderedLinesConfig
from .language_model import LanguageModelDataConfig, LanguageModelNetConfig
from .loading import (
                      apply_overrides,
                      describe_fields,
                      dump_config,
                      load_config,
                      overridden_keys,
                      read_yaml,
                      resolve_paths,
                      task_config_class,
                      unknown_key,
                      validate,
)
from .model import (
                      DecoderConfig,
                      EncoderConfig,
                      FrameFrontendConfig,
                      FrameHeadConfig,
                      ModelConfig,
                      SpeechToTextModelConfig,
                      TextFrontendConfig,
                      TextToSpeechModelConfig,
)
from .tasks import (
                      CONFIGS,
                      Config,
                      ImageToTextConfig,
                      LanguageModelConfig,
                      SpeechToTextConfig,
                      TaskConfig,
                      TextToSpeechConfig,
                      TranslationConfig,
                      register_config,
)
from .text import DataConfig, SyntheticConfig, TokenizerConfig
from .train import ScheduledSamplingConfig, TrainConfig

__all__ = ["CONFIGS", "Config", "ImageToTextConfig", "LanguageModelConfig", "LanguageModelDataConfig",
           "LanguageModelNetConfig", "ImagesDataConfig", "RenderedLinesConfig",
           "HandwrittenDigitsConfig", "ImageAugmentConfig", "DEVICE_PATTERN", "AudioFeaturesConfig", "DataConfig",
           "DecodeConfig", "DecoderConfig",
           "EncoderConfig", "FrameFrontendConfig", "FrameHeadConfig", "FramesDataConfig", "ModelConfig", "Precision",
           "ScheduledSamplingConfig", "SearchSettings", "ServeSettings", "SpecAugmentConfig", "SpeechToTextConfig",
           "SpeechToTextModelConfig", "SpokenDigitsConfig", "SyntheticConfig", "SyntheticFramesConfig", "TaskConfig",
           "TextFrontendConfig", "TextToSpeechConfig", "TextToSpeechModelConfig", "TokenizerConfig", "TrainConfig",
           "TranslationConfig", "apply_overrides", "describe_fields", "describe_invalid", "dump_config", "load_config",
           "overridden_keys",
           "read_yaml", "register_config", "resolve_paths", "task_config_class", "unknown_key", "validate"]
