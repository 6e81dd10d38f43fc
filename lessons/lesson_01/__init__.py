"""Lesson 01: data loading, from MNIST's bytes on disk to shuffled mini-batches of float32 pixels."""
