"""Evidence exports: BagIt bags of recorded video with their manifest and verification."""
