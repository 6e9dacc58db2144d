"""What is read from a camera's decoded sub-stream: picture health, motion, privacy masks."""
