"""From the store to files: train/validation split, exports, statistics, safe output paths."""
