"""Lesson 06: evaluation, from one accuracy number to what the network gets wrong and why."""
