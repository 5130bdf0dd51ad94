"""LoRA personalization: data, training, checkpoints, export and applying LoRAs to a pipeline.

`params` imports no torch, so the UI can build and check a TrainParams before anything heavy is
loaded; every other module here is engine code for the worker thread.
"""
