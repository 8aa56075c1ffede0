"""The training loop as an object (`trainer.Trainer`) with its state (`state.TrainingState`), progress output
(`progress`) and optimizer/schedule (`optim`). The public entry points are in `seq2seq.training.train`."""
