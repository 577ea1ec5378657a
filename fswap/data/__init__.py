"""Face sets on disk, augmentation and the training input pipeline."""
