"""Plates read from camera video: the pipeline's plates consumer, frame reading, vehicle passes, sharper crops."""
